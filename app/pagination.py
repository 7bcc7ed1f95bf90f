"""Opaque keyset cursors: page 1,000 costs what page 1 costs, and pages never shift under you."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

MAX_CURSOR_LENGTH = 512


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: its sort key and its id, for one sort order."""

    sort: str
    key: Any
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.key, self.id], separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: str) -> Cursor:
        if len(token) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("cursor is too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidCursor("cursor is not one this API issued") from exc
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not isinstance(value[0], str)
            or not isinstance(value[2], str)
            or not isinstance(value[1], str | int | float | None)
            or isinstance(value[1], bool)
            or "\x00" in value[2]
        ):
            raise InvalidCursor("cursor is not one this API issued")
        if value[0] != sort:
            raise InvalidCursor(f"cursor was issued for sort={value[0]}, not sort={sort}")
        return cls(sort=value[0], key=value[1], id=value[2])
