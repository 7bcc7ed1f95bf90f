"""QuoteIndex answers exactly what a plain scan of the text answers, near misses included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest.quotes import QuoteIndex, QuoteNotFound, find_quote, scan_starts

# Few letters, so quotes recur, overlap and share the index's slices.
TEXTS = st.text(alphabet="ab \n’", max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, cut=st.tuples(st.integers(0, 400), st.integers(1, 80)), other=TEXTS)
def test_every_start_is_found(text: str, cut: tuple[int, int], other: str) -> None:
    index = QuoteIndex(text)
    start, length = cut
    for quote in (text[start : start + length], other[:length]):
        if quote:
            assert index.starts(quote) == scan_starts(text, quote)


@pytest.mark.parametrize(
    "quote, occurrence",
    [
        ("a" * 40, None),  # overlapping occurrences: not unique
        ("a" * 40, 3),
        ("a" * 40, 500),
        ("b" * 40, None),  # absent, so the near-miss explanation runs
        ("aaaa’s", None),
    ],
)
def test_find_gives_find_quotes_answer_and_message(quote: str, occurrence: int | None) -> None:
    text = "a" * 100 + " the curator’s text " + "a" * 37

    def answer(find: Callable[[str, str, int | None], int]) -> int | str:
        try:
            return find(text, quote, occurrence)
        except QuoteNotFound as exc:
            return str(exc)

    assert answer(lambda t, q, o: QuoteIndex(t).find(q, o)) == answer(find_quote)
