"""`bilateral pin`: record each document's sha256 and size in sources.yaml, editing only those
lines, so comments and layout stay as the curator wrote them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from app.ingest.errors import SeedError, SeedsInvalid
from app.ingest.reader import MAX_DOCUMENT_BYTES, ReadFailed, read_text, read_yaml

PINNED = ("sha256", "size")


@dataclass(frozen=True)
class Pin:
    source_id: str
    file: str
    sha256: str
    size: int
    changed: bool


def pin_documents(seeds_dir: Path) -> list[Pin]:
    """Rewrite the `sha256:` and `size:` lines of every entry in sources.yaml (adding them
    after `file:` when missing) to match the documents as they are now."""
    path = seeds_dir / "sources.yaml"
    try:
        text = read_yaml(path).text
    except ReadFailed as exc:
        raise SeedsInvalid([exc.error]) from exc
    tree = YAML(typ="rt").load(text)
    entries = tree.get("sources") if isinstance(tree, CommentedMap) else None
    if not isinstance(entries, list):
        raise SeedsInvalid([SeedError(path, 1, "expected `sources:` with a list of entries")])
    lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines(True)]
    errors: list[SeedError] = []
    pins: list[Pin] = []
    edits: list[tuple[int, list[str], int]] = []  # (first line, new lines, lines replaced)
    for entry in entries:
        line = entry.lc.line + 1 if isinstance(entry, CommentedMap) else None
        file = entry.get("file") if isinstance(entry, CommentedMap) else None
        if not isinstance(file, str) or "/" in file or file.startswith("."):
            errors.append(SeedError(path, line, "entry has no valid `file:`"))
            continue
        try:
            raw = read_text(seeds_dir / "documents" / file, MAX_DOCUMENT_BYTES).encode("utf-8")
        except ReadFailed as exc:
            errors.append(exc.error)
            continue
        pin = Pin(str(entry.get("id")), file, hashlib.sha256(raw).hexdigest(), len(raw), False)
        values = {"sha256": pin.sha256, "size": str(pin.size)}
        if all(str(entry.get(key)) == values[key] for key in PINNED):
            pins.append(pin)
            continue
        pins.append(Pin(pin.source_id, file, pin.sha256, pin.size, True))
        for key in (key for key in PINNED if key in entry):
            at, column = entry.lc.key(key)
            if not lines[at].lstrip().startswith(f"{key}:"):
                errors.append(SeedError(path, at + 1, f"write `{key}:` on a line of its own"))
                continue
            edits.append((at, [f"{' ' * column}{key}: {values[key]}\n"], 1))
        missing = [key for key in PINNED if key not in entry]
        if missing:  # new lines go after `file:`, indented like it
            at, column = entry.lc.key("file")
            edits.append((at + 1, [f"{' ' * column}{key}: {values[key]}\n" for key in missing], 0))
    if errors:
        raise SeedsInvalid(errors)
    for at, new, replaced in sorted(edits, key=lambda e: (e[0], e[2]), reverse=True):
        lines[at : at + replaced] = new
    if edits:
        path.write_text("".join(lines), encoding="utf-8")
    return pins
