"""The dataset version is hashed in pieces; the pieces must be exactly the canonical JSON."""

from __future__ import annotations

import pytest

from app.ingest.dataset import _CANONICAL, _canonical_pieces, load_dataset
from tests.conftest import SEEDS


@pytest.mark.parametrize("rows_per_piece", [1, 2, 7, 2000])
def test_pieces_join_to_the_canonical_json(rows_per_piece: int) -> None:
    ds = load_dataset(SEEDS)
    tables = [ds.sources, [], ds.topics, ds.claims[:15], [], ds.quantities]
    joined = "".join(_canonical_pieces(tables, rows_per_piece))
    assert joined == _CANONICAL.encode(tables)
