"""The controlled terms the seed files, the database and the API share (slugs, kinds, qualifiers).

They sit below both the ingestion job and the API, so neither imports the other for them.
"""

from __future__ import annotations

from typing import Literal

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Precision = Literal["day", "month", "year", "range", "unknown"]
EntityKind = Literal[
    "organization", "agreement", "document", "program", "forum", "event", "person", "place",
    "country", "other",
]  # fmt: skip
ClaimKind = Literal["fact", "commitment", "position", "rhetoric"]
KIND_DESCRIPTION = (
    "What the sentence is: fact (checkable), commitment (announced plan or intention), "
    "position (stated view or policy), rhetoric (slogan); see seeds/README.md"
)
Qualifier = Literal["exact", "about", "nearly", "more_than", "at_least", "less_than", "at_most"]
Establishes = Literal["url", "title", "publisher", "published"]
Relation = Literal["original", "copy", "translation", "archive"]
RELATION_DESCRIPTION = (
    "How the page at `address` relates to the document: original (the publisher's own page "
    "with the same text), copy (the same text republished by someone else), translation (the "
    "publisher's version in another language), archive (a web archive's capture of an original "
    "address)"
)
