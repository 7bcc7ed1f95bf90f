"""Validate every seed file and build the complete dataset in memory, before anything is written."""

from __future__ import annotations

import difflib
import gc
import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from app.claim_document import SOURCE_SUMMARY_FIELDS, claim_document, dumps
from app.figures import currency_uncertain
from app.ingest.errors import SeedError, SeedsInvalid
from app.ingest.quantities import value_problem
from app.ingest.quotes import QuoteIndex, QuoteNotFound, explain_miss
from app.ingest.reader import MAX_DOCUMENT_BYTES, ReadFailed, YamlDocument, read_text, read_yaml
from app.ingest.schema import (
    ClaimEntry,
    ClaimsFile,
    EntitiesFile,
    EvidenceEntry,
    FiguresFile,
    SourceEntry,
    SourcesFile,
    TopicsFile,
    period_bounds,
    published_bounds,
)
from app.models import MAX_TOPICS

Model = TypeVar("Model", bound=BaseModel)
MAX_ERRORS_SHOWN_PER_FILE = 50
_SPACES = re.compile(r"\s+")  # any run of whitespace, no-break spaces included
# The attribution rule (seeds/README.md): a figure, a stated view or a slogan is the source's,
# never the dataset's own voice, so its statement says whose it is.
_ATTRIBUTED = re.compile(
    r"\bAccording to\b|\b(?:said|says|stated|states|describes|described|calls|called)\b"
)
ATTRIBUTED_KINDS = ("position", "rhetoric")
# What json.dumps(sort_keys=True, default=str, ensure_ascii=False) builds on every call; one
# instance spares that per claim. Versions and digests are sha256 of its output.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


@dataclass
class CuratedSeeds:
    """The seeds, validated: rows for every table, ready for a bulk insert, plus the digest that
    versions them (what gets loaded; app.models.Dataset is the loaded dataset's table row)."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    topic_aliases: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    entity_aliases: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    claim_topics: list[dict[str, Any]] = field(default_factory=list)
    claim_entities: list[dict[str, Any]] = field(default_factory=list)
    quantities: list[dict[str, Any]] = field(default_factory=list)
    claim_counts: list[dict[str, Any]] = field(default_factory=list)
    excluded: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """sha256 of the canonical JSON of every table but the derived counts."""
        tables = [
            self.sources, self.topics, self.entities, self.entity_aliases, self.figures,
            self.claims, self.claim_topics, self.claim_entities, self.quantities, self.evidence,
        ]  # fmt: skip
        if self.topic_aliases:  # absent from older datasets, whose version must not change
            tables.append(self.topic_aliases)
        digest = hashlib.sha256()
        for piece in _canonical_pieces(tables):
            digest.update(piece.encode())
        return digest.hexdigest()[:16]


def _canonical_pieces(tables: list[list[Any]], rows_per_piece: int = 2000) -> Iterator[str]:
    """`_CANONICAL.encode(tables)` in pieces (a list's JSON is its items' JSON joined by ", "),
    so a big dataset is hashed without building its JSON as one string."""
    yield "["
    for number, rows in enumerate(tables):
        yield ", [" if number else "["
        for at in range(0, len(rows), rows_per_piece):
            items = _CANONICAL.encode(rows[at : at + rows_per_piece])[1:-1]
            yield ", " + items if at else items
        yield "]"
    yield "]"


class _Collector:
    def __init__(self) -> None:
        self.errors: list[SeedError] = []
        self.entity_names: dict[str, str] = {}  # casefolded name -> entity id, once loaded

    def add(self, file: Path, line: int | None, message: str, claim_id: str | None = None) -> None:
        self.errors.append(SeedError(file, line, message, claim_id))

    def parse(self, path: Path, model: type[Model]) -> tuple[Model, YamlDocument] | None:
        """The file as `model`; when some list entries break the schema, they are reported and
        set aside, so the rest (and the files that refer to them) are still checked."""
        try:
            doc = read_yaml(path)
        except ReadFailed as exc:
            self.errors.append(exc.error)
            return None
        try:
            return model.model_validate(doc.data), doc
        except ValidationError as exc:
            for err in exc.errors()[:MAX_ERRORS_SHOWN_PER_FILE]:
                loc = tuple(err["loc"])
                message = schema_message(model, err) + self._entity_hint(loc, err["input"])
                self.add(path, doc.line(loc), message, _claim_id(doc.data, loc))
            return _salvage(model, doc, exc)

    def _entity_hint(self, loc: tuple[Any, ...], value: Any) -> str:
        """An entity written by name (`NORAD`) instead of id: say which id that name has."""
        if len(loc) > 1 and loc[-2] == "entities" and isinstance(value, str):
            owner = self.entity_names.get(value.casefold())
            if owner:
                return f"; {value!r} is a name of entity {owner!r}: use that id"
        return ""


def _salvage(
    model: type[Model], doc: YamlDocument, exc: ValidationError
) -> tuple[Model, YamlDocument] | None:
    """The file without its list entries that have errors, or None if the error is elsewhere."""
    bad: dict[str, set[int]] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) < 2 or not isinstance(loc[0], str) or not isinstance(loc[1], int):
            return None
        bad.setdefault(loc[0], set()).add(loc[1])
    data = dict(doc.data)
    for name, indices in bad.items():
        items = data.get(name)
        if not isinstance(items, list):
            return None
        doc.kept[name] = [i for i in range(len(items)) if i not in indices]
        data[name] = [items[i] for i in doc.kept[name]]
        doc.dropped_ids[name] = {
            str(items[i]["id"]) for i in indices if isinstance(items[i], dict) and "id" in items[i]
        }
    try:
        return model.model_validate(data), doc
    except ValidationError:
        return None


PERIOD_FORMS = (
    "YYYY (2018), YYYY-MM (2021-02), YYYY-MM-DD (2021-02-23), a range START/END "
    "(2020/2021, 2019-07/2019-08-22), open-ended START/ (1957/) or up to /END (/2019)"
)


def schema_message(model: type[BaseModel], err: Any) -> str:
    """A pydantic error as a curator reads it: where, what, and what would be valid."""
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden" and loc:
        fields = sorted(_fields_at(model, loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown field {loc[-1]!r}; {hint}valid fields: {', '.join(fields)}"
    if loc and loc[-1] == "period":
        return f"{where}: {err['input']!r} is not a period; accepted forms: {PERIOD_FORMS}"
    return f"{where}: {err['msg']}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model nested at `loc` (list indices skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field_info = current.model_fields.get(part) if current else None
        current = _inner_model(field_info.annotation) if field_info else None
    return list(current.model_fields) if current else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found:
            return found
    return None


def _claim_id(data: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "claims" and isinstance(loc[1], int):
        try:
            claim = data["claims"][loc[1]]
            return str(claim.get("id")) if isinstance(claim, dict) else None
        except (KeyError, IndexError, TypeError):
            return None
    return None


def _digest(value: Any) -> str:
    return hashlib.sha256(_CANONICAL.encode(value).encode()).hexdigest()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A dataset is millions of small dicts and lists that live until written and hold no
    cycles; while they pile up, the collector would traverse all of them over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_dataset(seeds_dir: Path) -> CuratedSeeds:
    """Read and cross-check all seed files; raise SeedsInvalid listing every problem found."""
    with _gc_paused():
        return _load_dataset(Path(seeds_dir))


def _load_dataset(seeds_dir: Path) -> CuratedSeeds:
    errs = _Collector()
    ds = CuratedSeeds()
    if not seeds_dir.is_dir():
        raise SeedsInvalid([SeedError(seeds_dir, None, "seeds folder does not exist")])

    topics = errs.parse(seeds_dir / "topics.yaml", TopicsFile)
    topic_ids: set[str] = set()
    set_aside: set[str] = set()  # ids of entries with schema errors: known, but not loaded
    if topics:
        set_aside |= topics[1].dropped_ids.get("topics", set())
        for i, topic in enumerate(topics[0].topics):
            if topic.id in topic_ids:
                errs.add(
                    topics[1].path, topics[1].line(("topics", i)), f"duplicate topic {topic.id}"
                )
            topic_ids.add(topic.id)
            if len(topic_ids) > MAX_TOPICS:
                errs.add(
                    topics[1].path,
                    topics[1].line(("topics", i)),
                    f"more than {MAX_TOPICS} topics: the vocabulary is meant to stay small",
                )
                break
            row = topic.model_dump(exclude={"aliases"})
            ds.topics.append({**row, "mask": 1 << (len(topic_ids) - 1)})
        _add_topic_aliases(topics, topic_ids, errs, ds)

    figure_ids = _load_figures(seeds_dir, errs, ds)
    entity_ids = _load_entities(seeds_dir, errs, ds)
    errs.entity_names = {a["alias"]: a["entity_id"] for a in ds.entity_aliases}
    texts, source_seeds, known_sources = _load_sources(seeds_dir, errs, ds)

    refs = _Refs.of(ds, topic_ids | set_aside, entity_ids, figure_ids)
    sources = {source["id"]: source for source in ds.sources}
    claim_ids: dict[str, str] = {}
    claim_sources: dict[str, tuple[str, str]] = {}  # id -> (source, kind)
    parts: list[_PartOf] = []
    claim_counts: dict[str, int] = {}
    unreadable: set[str] = set()  # claims files with errors of their own, by name
    for path in _seed_files(seeds_dir / "claims", errs):
        parsed = errs.parse(path, ClaimsFile)
        if not parsed:
            unreadable.add(path.stem)
            continue
        claims_file, doc = parsed
        if claims_file.source not in texts:
            if known_sources is not None and claims_file.source not in known_sources:
                errs.add(path, doc.line(("source",)), _unknown_source(claims_file.source, texts))
            continue  # else sources.yaml's own errors say it all
        if claims_file.source in claim_counts:
            errs.add(
                path, doc.line(("source",)), f"source {claims_file.source} has two claim files"
            )
        elif path.stem != claims_file.source:
            errs.add(
                path,
                doc.line(("source",)),
                f"the claims of source {claims_file.source} go in "
                f"claims/{claims_file.source}{path.suffix}, not {path.name}",
            )
        # as written: claims set aside for schema errors count too
        written = len(doc.data["claims"]) if "claims" in doc.kept else len(claims_file.claims)
        claim_counts[claims_file.source] = written
        _check_curated(errs, path, doc, source_seeds[claims_file.source], written)
        context = _ClaimsContext(
            path, doc, sources[claims_file.source], QuoteIndex(texts[claims_file.source]), refs
        )
        spans = ds.excluded.setdefault(claims_file.source, [])
        for i, excluded in enumerate(claims_file.excluded):
            starts = context.quotes.starts(excluded.text)
            if not starts:
                errs.add(
                    path,
                    doc.line(("excluded", i, "text")),
                    explain_miss(context.quotes.text, excluded.text, "excluded text"),
                )
            spans.extend((at, at + len(excluded.text)) for at in starts)
        for position, (claim, content) in enumerate(
            zip(claims_file.claims, _claim_contents(claims_file), strict=True)
        ):
            if claim.id in claim_ids:
                errs.add(
                    path,
                    doc.line(("claims", position)),
                    f"duplicate claim id (also in {claim_ids[claim.id]})",
                    claim.id,
                )
                continue
            claim_ids[claim.id] = path.name
            claim_sources[claim.id] = (claims_file.source, claim.kind)
            _add_claim(ds, errs, claim, content, position, context)
            if claim.part_of is not None:
                line = doc.line(("claims", position, "part_of"))
                parts.append(_PartOf(path, line, claim.id, claim.part_of, claims_file.source))
    _check_parts(errs, parts, claim_sources)
    if (seeds_dir / "claims").is_dir():
        for source_id, seed in source_seeds.items():
            if seed.curated and source_id not in claim_counts and source_id not in unreadable:
                seed.error(
                    errs,
                    f"source {source_id} has no claims file: create claims/{source_id}.yaml, or "
                    "mark the source `curated: false` while it has no claims yet",
                )
    if errs.errors:
        raise SeedsInvalid(errs.errors)
    ds.claim_counts = _claim_counts(ds)
    return ds


@dataclass(frozen=True)
class _PartOf:
    """A claim's `part_of` link, kept until every claim file is read (the parent may follow)."""

    path: Path
    line: int | None
    claim_id: str
    parent: str
    source: str


def _check_parts(
    errs: _Collector, parts: list[_PartOf], claims: dict[str, tuple[str, str]]
) -> None:
    """A part names another claim of its own source, and that claim is not itself a part: one
    level, so hiding the parts (`part_of=none`) never hides a claim whose parent is shown. A
    part restates its parent, so it is the same kind of sentence."""
    source_of = {part.claim_id: part.source for part in parts}
    for part in parts:
        parent = claims.get(part.parent)
        if part.parent == part.claim_id:
            message = "part_of names the claim itself"
        elif parent is None:
            message = f"part_of names unknown claim {part.parent!r}"
        elif parent[0] != part.source:
            message = f"part_of names {part.parent!r}, a claim of another source"
        elif part.parent in source_of:
            message = f"part_of names {part.parent!r}, which is itself part of another claim"
        elif parent[1] != claims[part.claim_id][1]:
            message = (
                f"part_of names {part.parent!r}, a {parent[1]}: a part restates its parent, "
                f"so its kind must be {parent[1]} too, not {claims[part.claim_id][1]}"
            )
        else:
            continue
        errs.add(part.path, part.line, message, part.claim_id)


@dataclass(frozen=True)
class _Refs:
    """The vocabularies claims refer to, and what a claim's document takes from them."""

    topic_ids: set[str]
    entity_ids: set[str]
    figure_ids: set[str]
    masks: dict[str, int]
    entities: dict[str, dict[str, Any]]
    aliases: dict[str, str]  # every casefolded name of an entity -> its id

    @classmethod
    def of(
        cls, ds: CuratedSeeds, topic_ids: set[str], entity_ids: set[str], figure_ids: set[str]
    ) -> _Refs:
        masks = {t["id"]: t["mask"] for t in ds.topics}
        aliases = {a["alias"]: a["entity_id"] for a in ds.entity_aliases}
        entities = {e["id"]: e for e in ds.entities}
        return cls(topic_ids, entity_ids, figure_ids, masks, entities, aliases)

    def unknown(self, name: str, value: str) -> str:
        """Why `value` is not a known topic, entity or figure id, and what would be."""
        if name == "entity":
            owner = self.aliases.get(value.casefold())
            if owner:
                return f"unknown entity {value!r}: it is a name of entity {owner!r}; use that id"
            return f"unknown entity {value!r}{_closest(value, self.entity_ids)}; entities are " + (
                "defined in seeds/entities/*.yaml"
            )
        known = self.topic_ids if name == "topic" else self.figure_ids
        file = "topics.yaml" if name == "topic" else "figures.yaml"
        return (
            f"unknown {name} {value!r}{_closest(value, known)}; the {name}s, defined in "
            f"seeds/{file}, are: {', '.join(sorted(known))}"
        )


def _closest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_source(source_id: str, texts: dict[str, str]) -> str:
    return f"unknown source {source_id!r}{_closest(source_id, texts)}: it has no sources.yaml entry"


@dataclass(frozen=True)
class _ClaimsContext:
    """One claims file: where its errors point, its source, and what its claims may cite."""

    path: Path
    doc: YamlDocument
    source: dict[str, Any]
    quotes: QuoteIndex
    refs: _Refs
    source_json: str = field(init=False)

    def __post_init__(self) -> None:
        summary = {key: self.source[key] for key in SOURCE_SUMMARY_FIELDS}
        object.__setattr__(self, "source_json", dumps(summary))


def _claim_contents(claims_file: ClaimsFile) -> list[dict[str, Any]]:
    """Each claim's curated content (what its digest covers), dumped in one call for the file."""
    dumped = claims_file.model_dump(
        include={"claims"}, exclude={"claims": {"__all__": {"occurrence", "start"}}}
    )
    return list(dumped["claims"])


def _claim_counts(ds: CuratedSeeds) -> list[dict[str, Any]]:
    """Claims per source and topic (topic `*`: all of the source's claims)."""
    source_of = {claim["id"]: claim["source_id"] for claim in ds.claims}
    counts = Counter((claim["source_id"], "*") for claim in ds.claims)
    counts.update((source_of[link["claim_id"]], link["topic_id"]) for link in ds.claim_topics)
    return [{"source_id": s, "topic_id": t, "claims": n} for (s, t), n in sorted(counts.items())]


def _seed_files(folder: Path, errs: _Collector, required: bool = True) -> list[Path]:
    """The .yaml/.json files of a folder, after refusing anything there that would silently not
    be read (a .yml file, a subfolder). Names starting with "." (editor files) are skipped."""
    if not folder.is_dir():
        if required:
            errs.add(
                folder,
                None,
                f"{folder.name} folder is missing: every curated source needs "
                f"{folder.name}/<source-id>.yaml (ingesting without it would remove every claim)",
            )
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file() and path.suffix in (".yaml", ".json"):
            files.append(path)
        else:
            errs.add(
                path,
                None,
                f"not read: files in {folder.name}/ end in .yaml or .json "
                "(rename it, or move it elsewhere)",
            )
    return files


def _check_curated(
    errs: _Collector, path: Path, doc: YamlDocument, seed: _SourceSeed, claims: int
) -> None:
    """A curated source has claims; one marked `curated: false` has none yet."""
    if seed.curated and not claims:
        errs.add(
            path,
            doc.line(("claims",)),
            "no claims: a curated source needs at least one (mark the source `curated: false` "
            "in sources.yaml while it is not yet curated)",
        )
    elif not seed.curated and claims:
        seed.error(
            errs,
            f"source {seed.id} is marked `curated: false` but {path.name} has {claims} "
            "claim(s): remove `curated: false`",
        )


def _load_figures(seeds_dir: Path, errs: _Collector, ds: CuratedSeeds) -> set[str]:
    path = seeds_dir / "figures.yaml"
    if not path.exists():
        return set()
    parsed = errs.parse(path, FiguresFile)
    ids: set[str] = set()
    if parsed:
        ids |= parsed[1].dropped_ids.get("figures", set())
        for i, figure in enumerate(parsed[0].figures):
            if figure.id in ids:
                errs.add(path, parsed[1].line(("figures", i)), f"duplicate figure {figure.id}")
            ids.add(figure.id)
            ds.figures.append(
                {**figure.model_dump(exclude={"window"}), "time_window": figure.window}
            )
    return ids


def _add_topic_aliases(
    topics: tuple[TopicsFile, YamlDocument], topic_ids: set[str], errs: _Collector, ds: CuratedSeeds
) -> None:
    """Aliases may not name another topic or be declared twice."""
    taken: dict[str, str] = {}
    for i, topic in enumerate(topics[0].topics):
        for alias in topic.aliases:
            other = taken.get(alias) or (alias if alias in topic_ids else None)
            if other is not None:
                where = topics[1].line(("topics", i))
                errs.add(topics[1].path, where, f"alias {alias!r} already names topic {other}")
                continue
            taken[alias] = topic.id
            ds.topic_aliases.append({"alias": alias, "topic_id": topic.id})


def _load_entities(seeds_dir: Path, errs: _Collector, ds: CuratedSeeds) -> set[str]:
    ids: set[str] = set()
    aliases: dict[str, str] = {}
    for path in _seed_files(seeds_dir / "entities", errs, required=False):
        parsed = errs.parse(path, EntitiesFile)
        if not parsed:
            continue
        ids |= parsed[1].dropped_ids.get("entities", set())
        for i, entity in enumerate(parsed[0].entities):
            if entity.id in ids:
                errs.add(path, parsed[1].line(("entities", i)), f"duplicate entity id {entity.id}")
                continue
            ids.add(entity.id)
            ds.entities.append({"id": entity.id, "name": entity.name, "kind": entity.kind})
            # looked up case-folded, shown as written (the name and aliases before the slug id)
            written: dict[str, str] = {}
            for name in (entity.name, *entity.aliases, entity.id):
                written.setdefault(name.casefold(), name)
            for alias in sorted(written):
                if aliases.get(alias, entity.id) != entity.id:
                    errs.add(
                        path,
                        parsed[1].line(("entities", i)),
                        f"alias {alias!r} already names entity {aliases[alias]}",
                    )
                    continue
                if alias not in aliases:
                    aliases[alias] = entity.id
                    ds.entity_aliases.append(
                        {"alias": alias, "entity_id": entity.id, "written": written[alias]}
                    )
    return ids


@dataclass(frozen=True)
class _SourceSeed:
    """A source entry as other files' checks need it: where it is, and whether it is curated."""

    id: str
    doc: YamlDocument
    index: int
    curated: bool

    def error(self, errs: _Collector, message: str, *field: str) -> None:
        errs.add(self.doc.path, self.doc.line(("sources", self.index, *field)), message)


def _load_sources(
    seeds_dir: Path, errs: _Collector, ds: CuratedSeeds
) -> tuple[dict[str, str], dict[str, _SourceSeed], set[str] | None]:
    """Each source's text and entry; and every id sources.yaml lists (None if unreadable)."""
    path = seeds_dir / "sources.yaml"
    parsed = errs.parse(path, SourcesFile)
    texts: dict[str, str] = {}
    seeds: dict[str, _SourceSeed] = {}
    if not parsed:
        return texts, seeds, None
    sources, doc = parsed
    listed = {  # entries set aside for schema errors list their document too
        str(entry["file"])
        for entry in doc.data.get("sources", [])
        if isinstance(entry, dict) and "file" in entry
    }
    owners: dict[str, str] = {}
    for i, source in enumerate(sources.sources):
        seed = _SourceSeed(source.id, doc, i, source.curated)
        if source.id in seeds:
            seed.error(errs, f"duplicate source id {source.id}")
            continue
        seeds[source.id] = seed
        if source.file in owners:
            seed.error(errs, f"{source.file} is already the document of {owners[source.file]}")
        owners[source.file] = source.id
        try:
            text = read_text(seeds_dir / "documents" / source.file, MAX_DOCUMENT_BYTES)
        except ReadFailed as exc:
            seed.error(errs, f"source {source.id}: {exc.error}")
            continue
        raw = text.encode("utf-8")
        sha256 = hashlib.sha256(raw).hexdigest()
        if (sha256, len(raw)) != (source.sha256, source.size):
            seed.error(errs, pin_mismatch(source.file, raw, sha256, source), "sha256")
        texts[source.id] = text
        for j, entry in enumerate(source.evidence):
            if not _shows_same_text(entry, text):
                errs.add(
                    path,
                    doc.line(("sources", i, "evidence", j, "quote")),
                    f"source {source.id}: evidence quote is not in the document (spacing aside), "
                    f"so it does not show that {entry.value} has the document's text",
                )
        earliest, latest, _ = (
            published_bounds(source.published) if source.published else (None, None, None)
        )
        ds.sources.append(
            {
                **source.model_dump(exclude={"size", "curated", "evidence"}),
                "published_earliest": earliest,
                "published_latest": latest,
                "text": text,
                "sha256": sha256,
            }
        )
        ds.evidence.extend(
            {
                **entry.model_dump(exclude={"checked"}),
                "source_id": source.id,
                "position": position,
                "checked": date.fromisoformat(entry.checked),
            }
            for position, entry in enumerate(source.evidence)
        )
    _check_documents_listed(seeds_dir / "documents", listed, errs)
    return texts, seeds, set(seeds) | doc.dropped_ids.get("sources", set())


def pin_mismatch(file: str, raw: bytes, sha256: str, pinned: SourceEntry) -> str:
    """Why a document no longer matches its pin, and how to re-pin after a deliberate change."""
    hints = [
        hint
        for hint, present in (
            ("it now starts with a byte-order mark", raw.startswith(b"\xef\xbb\xbf")),
            ("it now has CRLF line endings", b"\r\n" in raw),
            ("it now ends with a newline", raw.endswith(b"\n")),
        )
        if present
    ]
    return (
        f"documents/{file} is not the pinned document: it is {len(raw)} bytes with sha256 "
        f"{sha256}, the pin says {pinned.size} bytes with sha256 {pinned.sha256}"
        + (f" ({'; '.join(hints)})" if hints else "")
        + ". Documents stay byte for byte as received, since quotes and offsets are checked "
        "against them. If the change is deliberate, re-check the claims, then run "
        "`bilateral pin` to update sha256 and size in sources.yaml."
    )


def _check_documents_listed(folder: Path, files: set[str], errs: _Collector) -> None:
    """Every document needs a sources.yaml entry, or its claims could never be checked."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if not path.name.startswith(".") and path.name not in files:
            errs.add(
                path,
                None,
                "document has no entry in sources.yaml: add one (see seeds/README.md) "
                "or remove the file",
            )


def _shows_same_text(entry: EvidenceEntry, text: str) -> bool:
    """A url entry (but a translation's) quotes its page; the quote must be the document's too."""
    if entry.establishes != "url" or entry.relation == "translation" or entry.quote is None:
        return True
    return _SPACES.sub(" ", entry.quote) in _SPACES.sub(" ", text)


def _add_claim(
    ds: CuratedSeeds,
    errs: _Collector,
    claim: ClaimEntry,
    content: dict[str, Any],
    position: int,
    context: _ClaimsContext,
) -> None:
    start = _check_claim(errs, claim, position, context)
    if start is None:
        return
    source_id = context.source["id"]
    period_start, period_end = period_bounds(claim.period) if claim.period else (None, None)
    row = {
        "id": claim.id,
        "source_id": source_id,
        "position": position,
        "statement": claim.statement,
        "quote": claim.quote,
        "quote_start": start,
        "quote_end": start + len(claim.quote),
        "period_start": period_start,
        "period_end": period_end,
        "period_text": claim.period,
        "kind": claim.kind,
        "part_of": claim.part_of,
        "note": claim.note,
        "digest": _digest({**content, "source": source_id, "start": start}),
    }
    quantities = [
        {
            "claim_id": claim.id,
            "position": i,
            "value": q.value,
            "unit": q.unit,
            "per": q.per,
            "qualifier": q.qualifier,
            "as_stated": q.as_stated,
            "figure_id": q.figure,
            "currency_uncertain": currency_uncertain(
                q.unit, q.as_stated, context.source["country"]
            ),
        }
        for i, q in enumerate(claim.quantities)
    ]
    ds.claims.append(row)
    ds.claim_topics.extend({"claim_id": claim.id, "topic_id": t} for t in claim.topics)
    ds.claim_entities.extend({"claim_id": claim.id, "entity_id": e} for e in claim.entities)
    ds.quantities.extend(quantities)
    if not errs.errors:  # once anything is wrong nothing is written, so documents can wait
        _render_document(row, claim, quantities, context)


# Stands in for a claim's source summary while its document is encoded; the summary, the same
# for every claim of a source, is encoded once per claims file and put in its place. Random, so
# no seed text can contain it; seed files cannot hold the NUL it starts with either.
_SOURCE_MARK = "\x00" + secrets.token_hex(16)
_SOURCE_MARK_JSON = dumps(_SOURCE_MARK)


def _render_document(
    row: dict[str, Any],
    claim: ClaimEntry,
    quantities: list[dict[str, Any]],
    context: _ClaimsContext,
) -> None:
    """Give the claim row its public JSON (`doc`), which the API serves as stored, and its
    topic mask. The JSON is exactly `dumps(claim_document(...))`."""
    refs = context.refs
    entities = [refs.entities[e] for e in claim.entities]
    document = claim_document(row, context.source, list(claim.topics), entities, quantities)
    document["source"] = _SOURCE_MARK
    row["doc"] = dumps(document).replace(_SOURCE_MARK_JSON, context.source_json, 1)
    row["topic_mask"] = sum(refs.masks[t] for t in set(claim.topics))


def _attributed(claim: ClaimEntry, source: dict[str, Any]) -> bool:
    """Whether a claim that must be attributed (it states a figure, or is a position or
    rhetoric) says whose words it reports: a reporting phrase, or its publisher as subject."""
    if not claim.quantities and claim.kind not in ATTRIBUTED_KINDS:
        return True
    publisher = (source.get("publisher") or "").split(",")[0].strip()
    return bool(_ATTRIBUTED.search(claim.statement)) or (
        bool(publisher) and publisher in claim.statement
    )


def _check_claim(
    errs: _Collector, claim: ClaimEntry, position: int, context: _ClaimsContext
) -> int | None:
    """Where the claim's quote starts, or None after recording everything wrong with it."""
    path, doc, refs = context.path, context.doc, context.refs
    loc = ("claims", position)
    ok = True
    try:
        start = context.quotes.find(claim.quote, claim.occurrence)
    except QuoteNotFound as exc:
        errs.add(path, doc.line((*loc, "quote")), str(exc), claim.id)
        ok = False
    else:
        if claim.start is not None and claim.start != start:
            errs.add(
                path, doc.line((*loc, "start")),
                f"start is {claim.start} but the quote starts at character {start}", claim.id,
            )  # fmt: skip
            ok = False
    for name, values, known in (
        ("topic", claim.topics, refs.topic_ids),
        ("entity", claim.entities, refs.entity_ids),
        ("figure", [q.figure for q in claim.quantities if q.figure], refs.figure_ids),
    ):
        for value in values:
            if value not in known:
                errs.add(path, doc.line(loc), refs.unknown(name, value), claim.id)
                ok = False
        if len(set(values)) != len(values) and name != "figure":
            errs.add(path, doc.line(loc), f"{name} listed twice", claim.id)
            ok = False
    if not _attributed(claim, context.source):
        errs.add(
            path, doc.line((*loc, "statement")),
            f"a {'figure' if claim.quantities else claim.kind} is the source's, not the "
            "dataset's own voice: attribute it (\"According to …, \", \"… said\", or the "
            "publisher as the subject)", claim.id,
        )  # fmt: skip
        ok = False
    for i, quantity in enumerate(claim.quantities):
        problem = (
            f"as_stated {quantity.as_stated!r} is not part of the quote"
            if quantity.as_stated not in claim.quote
            else value_problem(
                quantity.value, quantity.unit, quantity.qualifier, quantity.as_stated
            )
        )
        if problem:
            errs.add(path, doc.line((*loc, "quantities", i)), problem, claim.id)
            ok = False
    return start if ok else None
