"""Mark the words a full-text query matched, so a client can show why a claim was found."""

from __future__ import annotations

import re

_SUFFIXES = ("ing", "ers", "ies", "es", "ed", "er", "s")


def _root(word: str) -> str:
    """A crude stem, so 'trading' marks 'trade' and 'trades' the way the search engines match."""
    lowered = word.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) - len(suffix) >= 4:
            return lowered[: -len(suffix)]
    return lowered.rstrip("e") if len(lowered) > 4 else lowered


def mark(text: str, words: list[str], open_tag: str = "<mark>", close_tag: str = "</mark>") -> str:
    roots = sorted({_root(w) for w in words if w}, key=len, reverse=True)
    if not roots:
        return text
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(r) for r in roots) + r")\w*", re.I)
    return pattern.sub(lambda m: f"{open_tag}{m.group(0)}{close_tag}", text)
