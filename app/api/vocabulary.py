"""The ids a claim filter may name, read once per dataset version instead of on every request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from app import queries
from app.api.caching import DatasetStampCache
from app.api.reader import Reader


@dataclass(frozen=True)
class Vocabulary:
    topics: frozenset[str]
    sources: frozenset[str]
    aliases: Mapping[str, str]  # every name of an entity, case-folded -> its id

    def entity_id(self, name: str) -> str | None:
        """The entity known by this id, name or alias (in any case), if any."""
        return self.aliases.get(name.casefold())

    @classmethod
    def read(cls, conn: Connection) -> Vocabulary:
        return cls(
            topics=frozenset(queries.known_ids(conn, "topic")),
            sources=frozenset(queries.known_ids(conn, "source")),
            aliases=queries.entity_aliases(conn),
        )


class VocabularyCache:
    """The vocabulary of the loaded dataset version (re-read when an ingest changes it)."""

    def __init__(self, stamps: DatasetStampCache, reader: Reader) -> None:
        self.stamps = stamps
        self.reader = reader
        self._version: str | None = None
        self._value: Vocabulary | None = None

    async def get(self) -> Vocabulary:
        stamp = self.stamps.get()
        if self._value is not None and stamp is not None and stamp[0] == self._version:
            return self._value
        value = await self.reader(Vocabulary.read)
        self._version, self._value = (stamp[0], value) if stamp else (None, None)
        return value
