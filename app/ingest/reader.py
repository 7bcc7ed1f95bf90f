"""Read seed files safely: size-capped, UTF-8 only, YAML 1.2 without object construction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

from app.ingest.errors import SeedError

MAX_YAML_BYTES = 5 * 1024 * 1024
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_NESTING = 100  # the seed formats nest 5 levels; deeper input is refused where it recurses


class ReadFailed(Exception):
    def __init__(self, error: SeedError) -> None:
        self.error = error
        super().__init__(str(error))


def read_text(path: Path, max_bytes: int) -> str:
    """Return the file's text, or raise ReadFailed naming what is wrong and where."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadFailed(SeedError(path, None, f"cannot read file: {exc.strerror}")) from exc
    if size > max_bytes:
        raise ReadFailed(SeedError(path, None, f"file is {size} bytes; the limit is {max_bytes}"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ReadFailed(
            SeedError(path, line, f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}")
        ) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ReadFailed(SeedError(path, line, "contains a NUL character"))
    return text


@dataclass
class YamlDocument:
    path: Path
    data: Any  # plain dicts, lists and scalars
    text: str
    _tree: Any = None
    # After entries with schema errors were set aside: per list field, the original index of
    # each entry kept (line() maps through it), and the ids of the entries set aside.
    kept: dict[str, list[int]] = field(default_factory=dict)
    dropped_ids: dict[str, set[str]] = field(default_factory=dict)

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        """1-based line of the deepest part of `loc` that exists in the file.

        Line numbers are only needed to report errors, so the (slow) round-trip parse that
        keeps them runs only then.
        """
        if self._tree is None:
            try:
                yaml = YAML(typ="rt")
                yaml.Constructor = _RoundTripDatesAsWritten
                self._tree = yaml.load(self.text)
            except RecursionError:  # read_yaml refuses deep nesting; be safe all the same
                return None
        if len(loc) > 1 and isinstance(loc[1], int) and loc[0] in self.kept:
            loc = (loc[0], self.kept[str(loc[0])][loc[1]], *loc[2:])
        node, line = self._tree, 1
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        return line


def _refuse_structure(path: Path, text: str) -> None:
    """Refuse anchors and aliases, and nesting deeper than MAX_NESTING, before composing.

    A few hundred bytes of nested aliases expand to gigabytes (the "billion laughs"), and
    seed files have no use for them. Thousands of nested brackets make the composer recurse
    out of stack, and cost libyaml time that grows with the square of the depth; the event
    parser keeps its own stack, and this pass stops at the first problem.
    """
    depth = 0
    for event in YAML(typ="safe").parse(text):
        line = int(event.start_mark.line) + 1
        if isinstance(event, AliasEvent):
            raise ReadFailed(
                SeedError(path, line, f"alias *{event.anchor} not allowed in seed files")
            )
        if getattr(event, "anchor", None):
            raise ReadFailed(
                SeedError(
                    path,
                    line,
                    f"anchor &{event.anchor} not allowed in seed files: write each value out",
                )
            )
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep(path, line)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _too_deep(path: Path, line: int | None) -> ReadFailed:
    return ReadFailed(
        SeedError(
            path,
            line,
            f"nested more than {MAX_NESTING} levels deep; seed files nest a few levels at most",
        )
    )


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _DatesAsWritten(SafeConstructor):
    """Timestamps stay the text that was written: the schema checks them, so an impossible
    unquoted date such as 2021-02-30 is reported at its line instead of crashing the loader."""


class _RoundTripDatesAsWritten(RoundTripConstructor):
    """The same for the round-trip parse that finds an error's line."""


_DatesAsWritten.add_constructor(_TIMESTAMP, SafeConstructor.construct_yaml_str)
_RoundTripDatesAsWritten.add_constructor(_TIMESTAMP, RoundTripConstructor.construct_yaml_str)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_yaml(path: Path) -> YamlDocument:
    """A YAML file, or a .json file (JSON is YAML 1.2 too, and parses ~100x faster)."""
    text = read_text(path, MAX_YAML_BYTES)
    if not text.strip():
        raise ReadFailed(SeedError(path, 1, "file is empty"))
    if path.suffix == ".json":
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            _refuse_structure(path, text)  # JSON is YAML too: this finds the line
            raise _too_deep(path, None) from None
        except json.JSONDecodeError as exc:
            raise ReadFailed(SeedError(path, exc.lineno, f"invalid JSON: {exc.msg}")) from exc
        except ValueError as exc:
            raise ReadFailed(SeedError(path, None, f"invalid JSON: {exc}")) from exc
        if not isinstance(data, dict):
            raise ReadFailed(SeedError(path, 1, "expected an object at the top of the file"))
        return YamlDocument(path, data, text)
    yaml = YAML(typ="safe")  # libyaml-backed when ruamel.yaml.clib is installed
    yaml.Constructor = _DatesAsWritten
    yaml.allow_duplicate_keys = False
    try:
        _refuse_structure(path, text)
        data = _plain(yaml.load(text))
    except RecursionError:  # not expected after _refuse_structure; never a traceback
        raise _too_deep(path, None) from None
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ReadFailed(SeedError(path, line, f"invalid YAML: {problem}")) from exc
    except YAMLError as exc:
        raise ReadFailed(SeedError(path, None, f"invalid YAML: {exc}")) from exc
    if not isinstance(data, dict):
        raise ReadFailed(SeedError(path, 1, "expected a mapping at the top of the file"))
    return YamlDocument(path, data, text)


def _plain(node: Any) -> Any:
    """YAML's own types -> plain Python (dates as ISO text), so validation sees what was written."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, datetime):
        return node.date().isoformat() if node.time() == datetime.min.time() else node.isoformat()
    if isinstance(node, date):
        return node.isoformat()
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
