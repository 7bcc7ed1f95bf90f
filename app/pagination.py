"""Opaque keyset cursors: page 1,000 costs what page 1 costs, and pages never shift under you.

A cursor is `<payload>.<mac>`: the payload is base64url JSON `[sort, key, id]`, the mac an HMAC
of it under a key derived from the server's cursor secret and the dataset version. So a cursor
cannot be forged or altered, and one issued before an ingest is refused after it (the client
starts again from the first page). Every field is still checked for its type and range before
any query sees it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.lru import Lru

MAX_CURSOR_LENGTH = 512
MAC_BYTES = 16
# What the key of each sort is: the id alone, an ISO date (unknown dates sort as a far date), a
# publication date interval as two ISO dates "earliest/latest", or a full-text rank.
KEY_KINDS: dict[str, str] = {
    "id": "none",
    "-id": "none",
    "published": "interval",
    "-published": "interval",
    "period": "date",
    "-period": "date",
    "relevance": "number",
}
_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # the seeds' slug rule (app.ingest.schema)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ID_LENGTH = 120


class InvalidCursor(ValueError):
    pass


NOT_ISSUED = (
    "cursor is not one this API issued for the current data (altered, truncated, or from "
    "before the data was last updated): start again from the first page"
)


class CursorSigner:
    """Signs and checks cursors; one key per dataset version, derived from the secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._keys: Lru[str, bytes] = Lru(8)

    def key(self, version: str) -> bytes:
        key = self._keys.get(version)
        if key is None:
            key = hmac.new(self._secret, b"cursor|" + version.encode(), hashlib.sha256).digest()
            self._keys.put(version, key)
        return key

    def encode(self, cursor: Cursor, version: str) -> str:
        raw = json.dumps([cursor.sort, cursor.key, cursor.id], separators=(",", ":"))
        payload = _b64(raw.encode())
        return f"{payload}.{_b64(self._mac(payload, version))}"

    def decode(self, token: str, sort: str, version: str) -> Cursor:
        """The cursor, or InvalidCursor; nothing in it reaches a query unchecked."""
        if len(token) > MAX_CURSOR_LENGTH or not token.isascii():
            raise InvalidCursor("cursor is too long" if token.isascii() else NOT_ISSUED)
        payload, dot, mac = token.partition(".")
        expected = _b64(self._mac(payload, version))  # compared as text: one spelling only
        if not dot or not hmac.compare_digest(mac.encode(), expected.encode()):
            raise InvalidCursor(NOT_ISSUED)
        try:
            value = json.loads(_unb64(payload).decode(), parse_constant=_no_constant)
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidCursor(NOT_ISSUED) from exc
        return Cursor.checked(value, sort)

    def _mac(self, payload: str, version: str) -> bytes:
        return hmac.new(self.key(version), payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: its sort key and its id, for one sort order."""

    sort: str
    key: Any
    id: str

    @classmethod
    def checked(cls, value: Any, sort: str) -> Cursor:
        """A cursor from decoded JSON, if every field has the type and range its sort needs."""
        if not isinstance(value, list) or len(value) != 3 or value[0] not in KEY_KINDS:
            raise InvalidCursor(NOT_ISSUED)
        issued_for, key, ident = value
        if issued_for != sort:
            raise InvalidCursor(f"cursor was issued for sort={issued_for}, not sort={sort}")
        if not isinstance(ident, str) or len(ident) > MAX_ID_LENGTH or not _ID.fullmatch(ident):
            raise InvalidCursor(NOT_ISSUED)
        if not _key_fits(KEY_KINDS[sort], key):
            raise InvalidCursor(NOT_ISSUED)
        return cls(sort=sort, key=key, id=ident)


def _key_fits(kind: str, key: Any) -> bool:
    if kind == "none":
        return key is None
    if kind == "number":
        return (
            isinstance(key, int | float)
            and not isinstance(key, bool)
            and abs(key) <= 1e300  # before isfinite, which overflows on a huge int
            and math.isfinite(key)
        )
    if not isinstance(key, str):
        return False
    parts = key.split("/") if kind == "interval" else [key]
    return len(parts) == (2 if kind == "interval" else 1) and all(map(_is_iso_date, parts))


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
