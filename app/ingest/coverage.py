"""How much of each document the claims cover, so a curator can see what is still missing.

A sentence is covered when every one of its content words lies inside some claim's quote or
inside excluded text, and at least one lies inside a quote. A content word is a run of letters
or digits (`\\w+`, with inner apostrophes, hyphens and periods: "Canada’s", "U.S.",
"ports-of-entry") that is not one of the FUNCTION_WORDS below (articles, conjunctions,
prepositions, pronouns, forms of "be" and "have"). So a sentence only partly quoted is not
covered, and the report names its words no quote holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.ingest.dataset import CuratedSeeds

_ABBREVIATIONS = ("U.S.", "D.C.", "Mr.", "Mrs.", "Dr.", "St.", "No.", "J.", "R.")
_BOUNDARY = re.compile(r"(?<=[.!?])[”\"]?\s+(?=[“\"A-Z])")
_STRIP = " \t\u00a0•"
_WORD = re.compile(r"\w+(?:[’'.-]\w+)*")
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "nor",
        "but",
        "so",
        "yet",
        "if",
        "then",
        "than",
        "as",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "within",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "between",
        "through",
        "during",
        "after",
        "before",
        "since",
        "until",
        "upon",
        "per",
        "via",
        "that",
        "this",
        "these",
        "those",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "where",
        "when",
        "while",
        "it",
        "its",
        "it’s",
        "they",
        "them",
        "their",
        "we",
        "our",
        "us",
        "you",
        "your",
        "he",
        "his",
        "she",
        "her",
        "i",
        "my",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "has",
        "have",
        "had",
        "having",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "not",
        "no",
        "also",
        "such",
        "including",
    ]
)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Uncovered:
    sentence: Sentence
    missing: list[str]  # content words no quote (or excluded text) holds
    partly: bool  # some content words are quoted or excluded

    @property
    def start(self) -> int:
        return self.sentence.start

    @property
    def text(self) -> str:
        return self.sentence.text


@dataclass(frozen=True)
class SourceCoverage:
    source_id: str
    sentences: int
    covered: int
    excluded: int
    uncovered: list[Uncovered]

    @property
    def fraction(self) -> float:
        content = self.sentences - self.excluded
        return self.covered / content if content else 1.0


def split_sentences(text: str) -> list[Sentence]:
    """Lines, then sentence ends that are not abbreviations like U.S. or D.C."""
    sentences: list[Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        cut = line.start()
        pieces: list[tuple[int, int]] = []
        for boundary in _BOUNDARY.finditer(line.group()):
            before = line.group()[: boundary.start()]
            if before.endswith(_ABBREVIATIONS):
                continue
            pieces.append((cut, line.start() + boundary.start()))
            cut = line.start() + boundary.end()
        pieces.append((cut, line.end()))
        for start, end in pieces:
            raw = text[start:end]
            stripped = raw.strip(_STRIP)
            if len(stripped) < 2:
                continue
            offset = start + raw.index(stripped)
            sentences.append(Sentence(offset, offset + len(stripped), stripped))
    return sentences


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined, so a word split across two quotes counts."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(min(end, e) > max(start, s) for s, e in spans)


def content_words(sentence: Sentence) -> list[tuple[int, int, str]]:
    """(start, end, word) of each content word, with offsets in the document."""
    return [
        (sentence.start + m.start(), sentence.start + m.end(), m.group())
        for m in _WORD.finditer(sentence.text)
        if m.group().casefold() not in FUNCTION_WORDS
    ]


def coverage(ds: CuratedSeeds) -> list[SourceCoverage]:
    report = []
    for source in ds.sources:
        quoted = [
            (c["quote_start"], c["quote_end"]) for c in ds.claims if c["source_id"] == source["id"]
        ]
        excluded_spans = ds.excluded.get(source["id"], [])
        accounted = _merged(quoted + excluded_spans)
        sentences = split_sentences(source["text"])
        covered = excluded = 0
        uncovered: list[Uncovered] = []
        for sentence in sentences:
            words = content_words(sentence)
            missing = [w for s, e, w in words if not _inside(s, e, accounted)]
            quoted_any = any(_overlaps(s, e, quoted) for s, e, _ in words)
            if not missing and quoted_any:
                covered += 1
            elif not missing:  # excluded text, or no content words at all (e.g. "•")
                excluded += 1
            else:
                uncovered.append(Uncovered(sentence, missing, len(missing) < len(words)))
        report.append(SourceCoverage(source["id"], len(sentences), covered, excluded, uncovered))
    return report
