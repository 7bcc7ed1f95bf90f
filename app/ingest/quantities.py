"""Read the number a quantity's `as_stated` text gives, so a `value` that disagrees with it
(`value: 170000000` for "$1.7 billion") is refused instead of reaching the figures.

Understood: digits with thousands commas and decimals ("5,525", "1.6", "119"), number words
up to ninety-nine ("two", "eight", "twenty-five"), each optionally followed by thousand,
million, billion or trillion; currency marks before a number ($, US$, USD, C$, CAD). When the
text states several numbers ("USD 2 billion (CAD 2.6 billion)"), the value must be one of
them, and for a currency unit the one marked with that currency when any is marked.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORDS = {word: n for n, word in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_CURRENCY = {"us$": "USD", "usd": "USD", "c$": "CAD", "ca$": "CAD", "cad": "CAD", "$": None}
_WORD = "|".join(sorted(WORDS, key=len, reverse=True))
_NUMBER = re.compile(
    r"(?:(?P<currency>US\$|CA\$|C\$|USD|CAD|\$)\s?)?"
    r"(?:(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"|\b(?P<word>(?:{_WORD})(?:[- ](?:{_WORD}))?)\b)"
    rf"(?:\s+(?P<scale>{'|'.join(SCALES)})\b)?",
    re.IGNORECASE,
)
# Words in as_stated that fix the qualifier; a quantity saying otherwise is refused.
QUALIFIER_WORDS = {
    "more than": "more_than", "over": "more_than", "nearly": "nearly", "almost": "nearly",
    "close to": "nearly", "about": "about", "approximately": "about", "around": "about",
    "roughly": "about", "at least": "at_least", "less than": "less_than",
    "fewer than": "less_than", "up to": "at_most", "at most": "at_most",
}  # fmt: skip
_QUALIFIER = re.compile(rf"\b({'|'.join(QUALIFIER_WORDS)})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Stated:
    value: float
    currency: str | None  # USD or CAD when marked; None for "$" or no mark
    text: str


def _word_value(text: str) -> float | None:
    parts = re.split(r"[- ]", text.casefold())
    values = [WORDS[p] for p in parts]
    if len(values) == 2 and not (values[0] >= 20 and values[0] % 10 == 0 and values[1] < 10):
        return None  # "two eight" is two numbers, not one
    return float(sum(values))


@lru_cache(maxsize=65536)  # a corpus states the same few forms many times over
def _read(as_stated: str) -> tuple[tuple[Stated, ...], str | None]:
    """The numbers `as_stated` gives, and the qualifier phrase in it if any."""
    words = _QUALIFIER.search(as_stated)
    return tuple(stated_numbers(as_stated)), words.group(1) if words else None


def stated_numbers(text: str) -> list[Stated]:
    """Every number the text states, with its scale applied."""
    numbers = []
    for match in _NUMBER.finditer(text):
        if match.group("digits"):
            value: float | None = float(match.group("digits").replace(",", ""))
        else:
            value = _word_value(match.group("word"))
        if value is None:
            continue
        if match.group("scale"):
            value *= SCALES[match.group("scale").casefold()]
        mark = match.group("currency")
        numbers.append(Stated(value, _CURRENCY[mark.casefold()] if mark else None, match.group()))
    return numbers


def value_problem(value: float, unit: str, qualifier: str, as_stated: str) -> str | None:
    """Why `value` (or `qualifier`) disagrees with `as_stated`, or None when they agree."""
    numbers, words = _read(as_stated)
    if not numbers:
        return (
            f"as_stated {as_stated!r} states no number this check reads (digits such as "
            "'5,525' or '1.6 million', or words up to ninety-nine such as 'two')"
        )
    marked = [n for n in numbers if n.currency == unit.upper()]
    candidates = marked or numbers
    if not any(math.isclose(value, n.value, rel_tol=1e-9) for n in candidates):
        stated = " or ".join(f"{n.value:,.15g} ({n.text.strip()})" for n in candidates)
        return f"value {value:,.15g} does not match as_stated {as_stated!r}, which states {stated}"
    if words and QUALIFIER_WORDS[words.casefold()] != qualifier:
        expected = QUALIFIER_WORDS[words.casefold()]
        return f"qualifier is {qualifier!r} but as_stated says {words!r}: use {expected!r}"
    return None
