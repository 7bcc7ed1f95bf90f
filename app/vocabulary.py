"""The names a claim filter may use, read once per dataset version instead of on every request.

Lookups are case-insensitive where nothing is lost (topic=Arctic, country=us, unit=usd): each
table maps a case-folded name to the one canonical value the database stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from app import queries

COUNTRIES = ("US", "CA", "unknown")


def _folded(values: Mapping[str, str]) -> dict[str, str]:
    return {name.casefold(): value for name, value in values.items()}


COUNTRY_NAMES = _folded({c: c for c in COUNTRIES})  # a country filter's values, any case


@dataclass(frozen=True)
class Vocabulary:
    topics: Mapping[str, str]  # topic id or alias, case-folded -> topic id
    sources: Mapping[str, str]  # source id, case-folded -> source id
    units: Mapping[str, str]  # unit, case-folded -> the unit as curated
    aliases: Mapping[str, str]  # every name of an entity, case-folded -> its id

    def entity_id(self, name: str) -> str | None:
        """The entity known by this id, name or alias (in any case), if any."""
        return self.aliases.get(name.casefold())

    @classmethod
    def read(cls, conn: Connection) -> Vocabulary:
        topic_ids = queries.known_ids(conn, "topic")
        return cls(
            topics=_folded({**queries.topic_aliases(conn), **{t: t for t in topic_ids}}),
            sources=_folded({s: s for s in queries.known_ids(conn, "source")}),
            units=_folded({u: u for u in queries.known_units(conn)}),
            aliases=queries.entity_aliases(conn),
        )
