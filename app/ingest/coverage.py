"""How much of each document the claims cover, so a curator can see what is still missing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.ingest.dataset import Dataset

_ABBREVIATIONS = ("U.S.", "D.C.", "Mr.", "Mrs.", "Dr.", "St.", "No.", "J.", "R.")
_BOUNDARY = re.compile(r"(?<=[.!?])[”\"]?\s+(?=[“\"A-Z])")
_STRIP = " \t\u00a0•"


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SourceCoverage:
    source_id: str
    sentences: int
    covered: int
    excluded: int
    uncovered: list[Sentence]

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


def _overlaps(sentence: Sentence, spans: list[tuple[int, int]]) -> bool:
    return any(min(sentence.end, e) > max(sentence.start, s) for s, e in spans)


def coverage(ds: Dataset) -> list[SourceCoverage]:
    report = []
    for source in ds.sources:
        spans = [
            (c["quote_start"], c["quote_end"]) for c in ds.claims if c["source_id"] == source["id"]
        ]
        excluded_spans = ds.excluded.get(source["id"], [])
        sentences = split_sentences(source["text"])
        excluded = [
            s for s in sentences if _overlaps(s, excluded_spans) and not _overlaps(s, spans)
        ]
        covered = [s for s in sentences if _overlaps(s, spans)]
        uncovered = [s for s in sentences if s not in covered and s not in excluded]
        report.append(
            SourceCoverage(source["id"], len(sentences), len(covered), len(excluded), uncovered)
        )
    return report
