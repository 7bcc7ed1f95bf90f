"""Settings read from environment variables (with defaults), never from hidden globals."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///bilateral.db"


class Settings(BaseSettings):
    """Every knob of the service and the ingestion job; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; sqlite:///file.db or postgresql+psycopg://user@host/db",
    )
    api_database_url: str | None = Field(
        default=None,
        description="URL the API reads with (e.g. a SELECT-only role); defaults to DATABASE_URL",
    )
    seeds_dir: Path = Field(default=Path("seeds"), description="Curated seeds folder")
    default_page_size: int = Field(default=50, ge=1, le=1000)
    max_page_size: int = Field(default=200, ge=1, le=1000)
    query_timeout_ms: int = Field(default=2000, ge=10, description="Per-query time limit")
    cors_origins: str = Field(default="*", description="Comma-separated allowed origins for GET")
    docs_enabled: bool = Field(default=True, description="Serve /docs, /redoc and /openapi.json")
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        default="info"
    )
    log_format: Literal["auto", "console", "json"] = Field(
        default="auto", description="auto: readable lines on a terminal, JSON otherwise"
    )
    require_read_only_role: bool = Field(
        default=False,
        description="`bilateral serve` refuses to start if the API's Postgres role can write",
    )
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    limit_concurrency: int | None = Field(
        default=256, ge=1, description="Connections per worker before uvicorn answers 503"
    )
    response_cache_entries: int = Field(
        default=2048, ge=0, description="Responses kept in memory per worker (0 disables)"
    )
    cache_max_age: int = Field(default=300, ge=0, description="Cache-Control max-age in seconds")
    cache_s_maxage: int | None = Field(
        default=5, ge=0, description="Cache-Control s-maxage: how long a shared cache may reuse"
    )
    cache_stale_while_revalidate: int = Field(
        default=30, ge=0, description="stale-while-revalidate: stale reuse while refreshing"
    )
    cache_stale_if_error: int = Field(
        default=86400, ge=0, description="stale-if-error: stale reuse while every origin fails"
    )

    public_base_url: str | None = Field(
        default=None,
        description="Scheme and host (and path prefix) for links in answers, e.g. "
        "https://facts.example.org; unset: links are relative. Never taken from Host",
    )
    allowed_hosts: str = Field(
        default="", description="Comma-separated Host values accepted (*.example.org); empty: any"
    )
    cursor_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs paging cursors (with the dataset version); the same on every "
        "instance. Unset: `bilateral serve` draws one per start, shared by its workers",
    )
    header_read_timeout: float = Field(
        default=10, gt=0, le=300, description="Seconds a client has to send a request's headers"
    )
    max_header_bytes: int = Field(
        default=16_384, ge=1024, le=1_048_576, description="Largest request line + headers"
    )
    max_headers: int = Field(default=100, ge=10, le=1000, description="Most headers per request")
    http_parser: Literal["h11", "httptools"] = Field(
        default="h11",
        description="h11: headers bounded and timed (the default); httptools: faster, neither, "
        "so only behind a proxy that bounds and times them",
    )
    timeout_keep_alive: int = Field(
        default=5, ge=1, le=300, description="Seconds an idle keep-alive connection stays open"
    )
    csv_max_rows: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Claims per CSV page (Link: next for more)"
    )
    csv_page_seconds: float = Field(
        default=5, gt=0, le=300, description="Time to read one CSV page; a slower page ends early"
    )
    csv_concurrency: int = Field(
        default=2, ge=1, le=64, description="CSV pages read at once per worker; others wait"
    )

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        """An absolute http(s) URL without query or fragment; no trailing slash."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.query + parts.fragment
        ):
            raise ValueError("PUBLIC_BASE_URL must look like https://host[:port][/prefix]")
        return value.strip().rstrip("/")

    @field_validator("cursor_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty CURSOR_SECRET is no secret: treated as unset."""
        return value if value is not None and value.get_secret_value() else None

    @property
    def trusted_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def reader_url(self) -> str:
        return self.api_database_url or self.database_url
