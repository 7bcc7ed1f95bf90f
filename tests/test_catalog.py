"""The Catalog, used as the API uses it: every read of the dataset, on SQLite and Postgres.

Also where each read runs (quick SQLite reads on the event loop, the rest in a thread), that a
detail read reads its one row, and that what holds for one dataset version is read again after
an ingest, and only then.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app import queries
from app.api.main import create_app
from app.catalog import Catalog, ClaimsPage
from app.core.config import Settings
from app.db import reader_engine
from app.filters import ClaimFilters
from app.vocabulary import Vocabulary
from tests.conftest import SEEDS, count_calls, ingest
from tests.oracle import Oracle

ORACLE = Oracle()
T = TypeVar("T")
SOURCE = "usdos-2021-neighbors-friends-and-allies"
FIGURE = "land-ports-of-entry"
CHANGED_SOURCE = "article-us-canada-relationship-undated"
INGESTED_AT = "x-dataset-ingested-at"


def run(read: Callable[[], Awaitable[T]]) -> T:
    """Await one catalog call on a fresh event loop, as a request would."""

    async def main() -> T:
        return await read()

    return asyncio.run(main())


@dataclass
class Statements:
    """The SELECT statements a catalog ran, with their parameters and the thread they ran on."""

    seen: list[tuple[str, Any, threading.Thread]] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and sql.strip() != "SELECT 1":
            self.seen.append((sql, params, threading.current_thread()))

    @property
    def threads(self) -> set[threading.Thread]:
        return {thread for _, _, thread in self.seen}

    def parameters(self) -> list[set[Any]]:
        """Each statement's bound values."""
        out = []
        for _, params, _ in self.seen:
            values = params.values() if isinstance(params, dict) else params
            out.append(set(values or ()))
        return out


@pytest.fixture
def catalog(seeded_db: str) -> Iterator[Catalog]:
    found = Catalog.from_settings(Settings(database_url=seeded_db))
    yield found
    found.dispose()


@pytest.fixture
def statements(catalog: Catalog) -> Iterator[Statements]:
    seen = Statements()
    event.listen(catalog.engine, "before_cursor_execute", seen)
    yield seen
    event.remove(catalog.engine, "before_cursor_execute", seen)


# --- every read the API makes ----------------------------------------------------------------


def test_a_claims_page_has_its_total_items_cursor_and_facets(catalog: Catalog) -> None:
    arctic = ClaimFilters(topic=("arctic",))
    first = run(lambda: catalog.claims_page(arctic, "id", 2, facets=["topic"]))
    expected = sorted(ORACLE.ids(topic=["arctic"]))
    assert first.total == len(expected)
    assert [json.loads(d)["id"] for d in first.documents] == expected[:2]
    assert first.next_cursor is not None and first.next_cursor.id == expected[1]
    assert first.facets is not None
    assert {"value": "arctic", "count": len(expected)} in first.facets["topic"]
    stamp = run(catalog.dataset_stamp)
    assert first.stamp == stamp  # the page names the dataset it was read from

    second = run(lambda: catalog.claims_page(arctic, "id", 2, first.next_cursor))
    assert [json.loads(d)["id"] for d in second.documents] == expected[2:4]
    assert second.facets is None


def test_a_page_of_nothing_reads_no_items(catalog: Catalog) -> None:
    nothing = ClaimFilters(source=("no-such-source",))
    assert run(lambda: catalog.claims_page(nothing, "id", 10)) == ClaimsPage(
        0, [], None, None, run(catalog.dataset_stamp)
    )


def test_claims_are_read_in_batches_for_exports(catalog: Catalog) -> None:
    everything: list[str] = []
    after = None
    while True:
        batch, after = run(partial(catalog.claim_batch, ClaimFilters(), "id", after, 7))
        assert len(batch) <= 7
        everything += [json.loads(d)["id"] for d in batch]
        if after is None:
            break
    assert everything == sorted(c.id for c in ORACLE.claims)


def test_one_claim(catalog: Catalog) -> None:
    known = ORACLE.claims[0]
    document = run(lambda: catalog.claim(known.id))
    assert document is not None and json.loads(document)["quote"] == known.quote
    assert run(lambda: catalog.claim("no-such-claim")) is None


def test_sources_and_one_source(catalog: Catalog) -> None:
    sources = run(catalog.sources)
    assert [s["id"] for s in sources] == sorted(ORACLE.sources)
    assert all("text" not in s for s in sources)  # the list leaves the texts out
    one = run(lambda: catalog.source(SOURCE))
    assert one is not None and one["text"] == ORACLE.texts[SOURCE]
    listed = next(s for s in sources if s["id"] == SOURCE)
    assert {k: v for k, v in one.items() if k != "text"} == listed
    assert run(lambda: catalog.source("no-such-source")) is None


def test_topics(catalog: Catalog) -> None:
    topics = {t["id"]: t for t in run(catalog.topics)}
    assert topics["arctic"]["claims"] == len(ORACLE.ids(topic=["arctic"]))


def test_entities_of_a_kind_and_one_entity(catalog: Catalog) -> None:
    everyone = run(catalog.entities)
    kind = everyone[0]["kind"]
    of_kind = run(lambda: catalog.entities(kind))
    assert of_kind == [e for e in everyone if e["kind"] == kind]
    norad = ORACLE.aliases["norad"]
    one = run(lambda: catalog.entity(norad))
    assert one is not None
    ids = [json.loads(d)["id"] for d in one.pop("claim_documents")]
    assert ids == sorted(c.id for c in ORACLE.claims if norad in c.entities)
    assert one == next(e for e in everyone if e["id"] == norad)
    assert run(lambda: catalog.entity("no-such-entity")) is None


def test_figures_and_one_figure(catalog: Catalog) -> None:
    every = {found.figure["id"]: found for found in run(catalog.figures)}
    one = run(lambda: catalog.figure(FIGURE))
    assert one is not None and one == every[FIGURE]
    assert one.statements and {s["figure_id"] for s in one.statements} == {FIGURE}
    assert run(lambda: catalog.figure("no-such-figure")) is None


def test_the_dataset_stamp_vocabulary_and_readiness(catalog: Catalog) -> None:
    stamp = run(catalog.dataset_stamp)
    assert stamp is not None and len(stamp[0]) == 16 and stamp[1].tzinfo is not None
    vocabulary = run(catalog.vocabulary)
    assert vocabulary.topics["defence"] == "defense"  # an alias, case-folded
    assert vocabulary.entity_id("NORAD") == ORACLE.aliases["norad"]
    ready = run(catalog.readiness)
    assert ready.info is not None and ready.info["version"] == stamp[0]
    assert ready.info["claims"] == len(ORACLE.claims)
    assert ready.replication.caught_up


def test_requests_arriving_before_the_first_stamp_wait_for_it(seeded_db: str) -> None:
    """Even on Postgres, where the stamp is read in a thread: no early request goes without."""
    catalog = Catalog.from_settings(Settings(database_url=seeded_db))

    async def many() -> list[Any]:
        return list(await asyncio.gather(*(catalog.dataset_stamp() for _ in range(5))))

    try:
        stamps = asyncio.run(many())
    finally:
        catalog.dispose()
    assert stamps[0] is not None and stamps == [stamps[0]] * 5


# --- where reads run ---------------------------------------------------------------------------


def _threads_of(
    catalog: Catalog, statements: Statements, read: Callable[[], Awaitable[Any]]
) -> Any:
    """Run `read` and say whether its statements ran on the event loop's thread (True), in
    other threads (False), or both (None)."""
    statements.seen.clear()

    async def main() -> threading.Thread:
        await read()
        return threading.current_thread()

    loop_thread = asyncio.run(main())
    on_loop = {thread is loop_thread for thread in statements.threads}
    assert on_loop, "no statement ran"
    return on_loop.pop() if len(on_loop) == 1 else None


def test_quick_sqlite_reads_run_on_the_loop_and_every_other_read_in_a_thread(
    backend: str, catalog: Catalog, statements: Statements
) -> None:
    sqlite = backend == "sqlite"
    run(catalog.dataset_stamp)
    catalog.stamp_ttl = 3600.0  # a read's own statements only, not the stamp's now and then
    plain = ClaimFilters(topic=("arctic",))
    quick: list[Callable[[], Awaitable[Any]]] = [
        lambda: catalog.claims_page(plain, "id", 5),  # an index walk, a precomputed total
        lambda: catalog.claim(ORACLE.claims[0].id),
        lambda: catalog.source(SOURCE),
        catalog.readiness,
    ]
    scanning: list[Callable[[], Awaitable[Any]]] = [
        lambda: catalog.claims_page(ClaimFilters(q="border"), "id", 5),
        lambda: catalog.claims_page(plain, "id", 5, facets=["year"]),
        lambda: catalog.claims_page(ClaimFilters(min_value=1.0), "id", 5),  # counts claims
        lambda: catalog.claim_batch(plain, "id", None, 50),
        catalog.sources,
        catalog.topics,
        catalog.entities,
        lambda: catalog.entity(ORACLE.aliases["norad"]),
        catalog.figures,
        lambda: catalog.figure(FIGURE),
        catalog.vocabulary,
    ]
    for read in quick:
        assert _threads_of(catalog, statements, read) is sqlite
    for read in scanning:
        assert _threads_of(catalog, statements, read) is False


# --- detail reads read their row -----------------------------------------------------------------


def test_detail_reads_read_one_row_not_the_whole_list(
    catalog: Catalog, statements: Statements
) -> None:
    run(lambda: catalog.source(SOURCE))
    assert statements.seen and all(SOURCE in values for values in statements.parameters())

    statements.seen.clear()
    run(lambda: catalog.figure(FIGURE))
    assert statements.seen and all(FIGURE in values for values in statements.parameters())

    statements.seen.clear()
    norad = ORACLE.aliases["norad"]
    claim_ids = {c.id for c in ORACLE.claims if norad in c.entities}
    run(lambda: catalog.entity(norad))
    assert len(statements.seen) >= 3
    for values in statements.parameters():  # the entity's rows, then its claims' documents
        assert norad in values or values == claim_ids


# --- what holds for one dataset version ----------------------------------------------------------


def _changed_seeds(root: Path) -> Path:
    """The seeds with one claim statement edited: another dataset version."""
    seeds = root / "seeds-v2"
    shutil.copytree(SEEDS, seeds)
    claims = seeds / "claims" / f"{CHANGED_SOURCE}.yaml"
    text = claims.read_text()
    claims.write_text(text.replace('    statement: "', '    statement: "(v2) ', 1))
    return seeds


def test_vocabulary_and_totals_are_read_again_after_an_ingest_and_not_before(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(empty_db)
    catalog = Catalog(reader_engine(empty_db, 2000), stamp_ttl=0)  # no second's grace here
    vocabulary_reads = count_calls(monkeypatch, Vocabulary, "read")
    counts = count_calls(monkeypatch, queries, "count_claims")
    arctic = ClaimFilters(topic=("arctic",))
    try:
        for _ in range(3):
            run(catalog.vocabulary)
            run(lambda: catalog.claims_page(arctic, "id", 1))
        assert (len(vocabulary_reads), len(counts)) == (1, 1)
        run(lambda: catalog.claims_page(ClaimFilters(topic=("trade",)), "id", 1))
        assert len(counts) == 2  # totals are kept per filter set

        before = run(catalog.dataset_stamp)
        ingest(empty_db, _changed_seeds(tmp_path))
        after = run(catalog.dataset_stamp)
        assert before is not None and after is not None and after[0] != before[0]
        for _ in range(3):
            run(catalog.vocabulary)
            page = run(lambda: catalog.claims_page(arctic, "id", 1))
        assert (len(vocabulary_reads), len(counts)) == (2, 3)
        assert page.stamp == after
    finally:
        catalog.dispose()


def test_totals_are_not_kept_when_the_response_cache_is_off(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RESPONSE_CACHE_ENTRIES=0 (the benchmarks' uncached runs) counts on every request."""
    catalog = Catalog.from_settings(Settings(database_url=seeded_db, response_cache_entries=0))
    counts = count_calls(monkeypatch, queries, "count_claims")
    try:
        for _ in range(3):
            run(lambda: catalog.claims_page(ClaimFilters(topic=("arctic",)), "id", 1))
    finally:
        catalog.dispose()
    assert len(counts) == 3


# --- a page read just after an ingest names the dataset it was read from --------------------------


def test_a_claims_page_read_after_an_ingest_names_its_own_dataset(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp behind validators is re-read once a second; a page read in between from a
    newer dataset says so itself (ETag, Last-Modified, X-Dataset-*, its next cursor's key) and
    is not kept under the older version's cache key."""
    ingest(empty_db)
    app = create_app(Settings(database_url=empty_db))
    url = f"/v1/claims?source={CHANGED_SOURCE}&limit=200"
    with TestClient(app) as client:
        old = client.get(url)
        url += "&_=after"  # not answered from the response cache (that is the old dataset's)
        catalog: Catalog = app.state.catalog
        monkeypatch.setattr(catalog, "stamp_ttl", 3600.0)  # the stamp stays the old one
        ingest(empty_db, _changed_seeds(tmp_path))
        lists = count_calls(monkeypatch, queries, "list_claims")

        new = client.get(url)
        assert "(v2) " not in old.text and "(v2) " in new.text
        version, ingested_at = new.headers["x-dataset-version"], new.headers[INGESTED_AT]
        assert version != old.headers["x-dataset-version"]
        assert datetime.fromisoformat(ingested_at) > datetime.fromisoformat(
            old.headers[INGESTED_AT]
        )
        assert version in new.headers["etag"]
        assert parsedate_to_datetime(new.headers["last-modified"]) == datetime.fromisoformat(
            ingested_at
        ).replace(microsecond=0)
        # the stamp, which other answers still carry, is the old one
        assert client.get("/v1/topics").headers["x-dataset-version"] != version

        again = client.get(url)  # not kept under the old version's key: read again
        assert again.content == new.content and len(lists) == 2
        revalidated = client.get(url, headers={"If-None-Match": new.headers["etag"]})
        assert revalidated.status_code == 304
        assert revalidated.headers["x-dataset-version"] == version

        token = client.get(url, params={"limit": 1}).json()["next_cursor"]
        monkeypatch.setattr(catalog, "stamp_ttl", 0.0)  # the stamp catches up
        assert client.get(url, params={"limit": 1, "cursor": token}).status_code == 200
        assert client.get(url).headers["etag"] == new.headers["etag"]
    catalog.dispose()


def test_a_claims_page_is_one_dataset_even_when_an_ingest_commits_during_it(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stamp, total and items come from one snapshot on both engines: an ingest that commits
    between the count and the page shows in neither."""
    ingest(empty_db)
    catalog = Catalog(reader_engine(empty_db, 2000), count_entries=0)
    changed, original = _changed_seeds(tmp_path), queries.list_claims
    before = run(catalog.dataset_stamp)

    def ingest_first(*args: Any) -> Any:
        ingest(empty_db, changed)  # commits a new dataset between the count and the page
        return original(*args)

    monkeypatch.setattr(queries, "list_claims", ingest_first)
    try:
        page = run(lambda: catalog.claims_page(ClaimFilters(source=(CHANGED_SOURCE,)), "id", 200))
        monkeypatch.setattr(queries, "list_claims", original)
        after = run(lambda: catalog.claims_page(ClaimFilters(source=(CHANGED_SOURCE,)), "id", 200))
    finally:
        catalog.dispose()
    assert page.stamp == before and after.stamp != before  # the ingest did commit
    assert not any("(v2) " in document for document in page.documents)
    assert any("(v2) " in document for document in after.documents)
    assert page.total == len(page.documents) == after.total


def test_the_read_path_knows_nothing_of_http() -> None:
    """app.catalog (and what it imports) never imports the API package."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app.catalog; print(*sys.modules, sep='\\n')"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.split()
    assert "app.catalog" in loaded and "sqlalchemy" in loaded
    assert not [name for name in loaded if name.startswith(("app.api", "fastapi", "starlette"))]
