"""Find a quote in its source verbatim, and explain precisely where a near-miss differs."""

from __future__ import annotations

import difflib
import unicodedata
from collections import Counter

# Characters curators commonly type instead of what the documents contain.
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
}  # fmt: skip


class QuoteNotFound(ValueError):
    pass


def find_quote(text: str, quote: str, occurrence: int | None) -> int:
    """Start offset of the quote (the n-th occurrence when given; it must be unique otherwise)."""
    return pick_start(text, quote, scan_starts(text, quote), occurrence)


def scan_starts(text: str, quote: str) -> list[int]:
    """Every start of the quote in the text, overlapping ones included."""
    starts = []
    at = text.find(quote)
    while at != -1:
        starts.append(at)
        at = text.find(quote, at + 1)
    return starts


def pick_start(text: str, quote: str, starts: list[int], occurrence: int | None) -> int:
    """The start `occurrence` asks for among all of them, or QuoteNotFound saying why not."""
    if not starts:
        raise QuoteNotFound(explain_miss(text, quote))
    if occurrence is None:
        if len(starts) > 1:
            raise QuoteNotFound(
                f"quote occurs {len(starts)} times (at characters "
                f"{', '.join(map(str, starts))}); add `occurrence: N` to pick one"
            )
        return starts[0]
    if occurrence > len(starts):
        raise QuoteNotFound(
            f"occurrence {occurrence} requested but the quote occurs {len(starts)}x"
        )
    return starts[occurrence - 1]


class QuoteIndex:
    """Finds many quotes in one text, each at a cost near its own length.

    `str.find` scans the whole text for every quote (and must scan on past the first match to
    prove it unique), which makes a source with thousands of claims quadratic. This index keeps
    the GRAM-character slice at every STEP-th position. Any occurrence of a quote at least
    GRAM + STEP - 1 long covers exactly one indexed slice, at an offset below STEP, so looking
    up the quote's first STEP slices yields every occurrence; each candidate is then compared
    in full, so the answer is exactly `scan_starts`'s. Shorter quotes are scanned for.
    """

    GRAM = 16
    STEP = 16

    def __init__(self, text: str) -> None:
        self.text = text
        positions = range(0, len(text) - self.GRAM + 1, self.STEP)
        slices = [text[at : at + self.GRAM] for at in positions]
        # Built in C: each slice's last position. Slices seen more than once (rare in prose)
        # also get the list of all their positions.
        self._last: dict[str, int] = dict(zip(slices, positions, strict=True))
        self._all: dict[str, list[int]] = {}
        if len(self._last) < len(slices):
            repeated = {piece for piece, count in Counter(slices).items() if count > 1}
            for piece, at in zip(slices, positions, strict=True):
                if piece in repeated:
                    self._all.setdefault(piece, []).append(at)
        self._windows = [slice(offset, offset + self.GRAM) for offset in range(self.STEP)]

    def starts(self, quote: str) -> list[int]:
        """Every start of the quote in the text, as `scan_starts` finds them."""
        if len(quote) < self.GRAM + self.STEP - 1:
            return scan_starts(self.text, quote)
        found = []
        pieces = list(map(quote.__getitem__, self._windows))
        for offset, last in enumerate(map(self._last.get, pieces)):
            if last is None:
                continue
            for at in self._all.get(pieces[offset], (last,)) if self._all else (last,):
                if at >= offset and self.text.startswith(quote, at - offset):
                    found.append(at - offset)
        return sorted(found)

    def find(self, quote: str, occurrence: int | None) -> int:
        """What `find_quote` answers, error messages included."""
        return pick_start(self.text, quote, self.starts(quote), occurrence)


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    shown = char if char.isprintable() and not char.isspace() else ""
    return f"U+{ord(char):04X} {name}" + (f" ({shown})" if shown else "")


def _fold(s: str) -> tuple[str, list[int]]:
    """Folded text plus, for each folded character, its index in the original."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(s):
        ch = _FOLD.get(ch, ch)
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        index.append(i)
    return "".join(out), index


def explain_miss(text: str, quote: str, what: str = "quote") -> str:
    """Why `quote` is not in `text`: the characters that differ from the closest match.
    `what` names the quoted thing in the message (a claim's quote, an excluded text)."""
    folded_text, text_index = _fold(text)
    folded_quote, _ = _fold(quote)
    at = folded_text.find(folded_quote)
    if at != -1:
        start = text_index[at]
        end = text_index[at + len(folded_quote) - 1] + 1
        source_span = text[start:end]
        for i, (a, b) in enumerate(zip(source_span, quote, strict=False)):
            if a != b:
                return (
                    f"{what} not found verbatim; the source has it at character {start} with "
                    f"different characters: at {what} position {i} the source has {_describe(a)} "
                    f"where the {what} has {_describe(b)}. The source reads: {source_span!r}"
                )
        return (
            f"{what} not found verbatim; it differs from the source at character {start} only in "
            f"spacing or length. The source reads: {source_span!r}"
        )
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    match = matcher.find_longest_match(0, len(text), 0, len(quote))
    if match.size < 8:
        return f"{what} not found in the source text (no close match either)"
    t_end, q_end = match.a + match.size, match.b + match.size
    if q_end >= len(quote):
        detail = f"the {what}'s beginning differs"
    else:
        src_char = _describe(text[t_end]) if t_end < len(text) else "the end of the text"
        detail = (
            f"after {quote[match.b : q_end][-30:]!r} the {what} has {_describe(quote[q_end])} "
            f"where the source (character {t_end}) has {src_char}"
        )
    return (
        f"{what} not found verbatim; closest match starts at source character {match.a}: {detail}"
    )
