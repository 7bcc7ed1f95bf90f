# syntax=docker/dockerfile:1
# Build stage: the locked dependencies and the project, in a virtualenv.
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PIP_NO_CACHE_DIR=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the virtualenv and the seeds, run as an unprivileged user.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 bilateral \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /srv bilateral
WORKDIR /srv
COPY --from=build /src/.venv /srv/.venv
COPY seeds ./seeds
ENV PATH=/srv/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEEDS_DIR=/srv/seeds \
    WORKERS=2
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["bilateral", "serve", "--host", "0.0.0.0", "--port", "8000"]
