"""The vocabulary of the loaded dataset version, cached per version."""

from __future__ import annotations

from app.api.caching import DatasetStampCache
from app.api.reader import Reader
from app.vocabulary import Vocabulary


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
