"""Settings read from environment variables (with defaults), never from hidden globals."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
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
    log_level: str = Field(default="info")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    limit_concurrency: int | None = Field(
        default=256, ge=1, description="Connections per worker before uvicorn answers 503"
    )
    response_cache_entries: int = Field(
        default=2048, ge=0, description="Responses kept in memory per worker (0 disables)"
    )
    cache_max_age: int = Field(default=300, ge=0, description="Cache-Control max-age in seconds")

    @property
    def reader_url(self) -> str:
        return self.api_database_url or self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
