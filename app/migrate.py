"""Run Alembic migrations from code, so `bilateral ingest` works from an installed wheel."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.db import MIGRATIONS_DIR
from app.search import is_index_table


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url_from_code"] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Autogenerate compares only the SQLModel tables, not the engine-specific search index."""
    return not (type_ == "table" and is_index_table(name))
