"""Run Alembic migrations from code, so `bilateral ingest` works from an installed wheel."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.db import MIGRATIONS_DIR


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url_from_code"] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
