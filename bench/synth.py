"""Generate a synthetic seeds folder of N claims, shaped like the real one, for load tests.

    uv run python -m bench.synth OUT_DIR N

Documents are made of numbered sentences; each claim quotes one sentence verbatim, so the
ingestion job validates it exactly as it validates real seeds. Claim files are JSON (which is
YAML 1.2 too), the format for bulk data. Topics, entities and figures
are the real vocabularies; sources, dates, topics and quantities are spread realistically.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CLAIMS_PER_SOURCE = 2000
MIN_SOURCES = 20  # so a small corpus still spreads over many dates, countries and publishers
WORDS = (
    "trade border energy defense climate arctic security students investment jobs partnership "
    "agreement cooperation pipeline grid treaty waters caribou fisheries minerals supply chain "
    "summit ministers embassy consulate health vaccine exchange program relations"
).split()
# about the real corpus's mix of kinds (half facts)
KINDS = ("fact", "position", "fact", "commitment", "fact", "rhetoric")
TOPIC_WEIGHTS = {
    "trade": 30, "economy": 20, "energy": 10, "defense": 10, "security": 10, "border": 10,
    "climate": 8, "environment": 6, "arctic": 5, "health": 6, "education": 4, "diplomacy": 15,
    "human-rights": 4, "inclusion": 3, "humanitarian": 3,
}  # fmt: skip


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def generate(out: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "documents").mkdir(parents=True)
    (out / "claims").mkdir()
    shutil.copy(SEEDS / "topics.yaml", out / "topics.yaml")
    shutil.copy(SEEDS / "figures.yaml", out / "figures.yaml")
    shutil.copytree(SEEDS / "entities", out / "entities")
    entity_ids = [
        line.split(":", 1)[1].strip()
        for path in (out / "entities").glob("*.yaml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("  - id:")
    ]
    topics, weights = zip(*TOPIC_WEIGHTS.items(), strict=True)
    sources = ["sources:"]
    source_count = max(min(MIN_SOURCES, n), (n + CLAIMS_PER_SOURCE - 1) // CLAIMS_PER_SOURCE)
    for s in range(source_count):
        count = n // source_count + (1 if s < n % source_count else 0)
        sid = f"synthetic-source-{s:05d}"
        year = rng.randint(2005, 2024)
        month = rng.randint(1, 12)
        published = rng.choice([f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-15", None])
        precision = {None: "unknown", 4: "year", 7: "month", 10: "day"}[
            len(published) if published else None
        ]
        country = rng.choice(["US", "CA", "null"])
        sources.append(
            f"  - id: {sid}\n    file: {sid}.txt\n    name: Synthetic source {s}\n"
            f"    title: Synthetic document {s}\n    publisher: Synthetic Publisher\n"
            f"    country: {country}\n    url: null\n"
            f"    published: {_q(published) if published else 'null'}\n"
            f"    published_precision: {precision}\n    provenance_note: Generated for benchmarks."
        )
        sentences = []
        claims = []
        for c in range(count):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18)))
            value = rng.randint(1, 999)
            sentence = f"Fact {s}-{c}: the {words} figure was {value} million in {year}."
            sentences.append(sentence)
            chosen = sorted(set(rng.choices(topics, weights, k=rng.randint(1, 3))))
            claim: dict[str, object] = {
                "id": f"syn-{s}-{c}",
                "statement": f"According to the synthetic source, {sentence}",
                "quote": sentence,
                "kind": KINDS[c % len(KINDS)],  # not drawn from rng: the rest stays as it was
                "topics": chosen,
            }
            if rng.random() < 0.3:
                claim["entities"] = [rng.choice(entity_ids)]
            if rng.random() < 0.5:
                claim["period"] = str(rng.randint(1950, 2024))
            if rng.random() < 0.3:
                claim["quantities"] = [
                    {"value": value * 1_000_000, "unit": "USD", "as_stated": f"{value} million"}
                ]
            claims.append(claim)
        document = "\n".join(sentences).encode("utf-8")
        (out / "documents" / f"{sid}.txt").write_bytes(document)
        sources[-1] += (
            f"\n    sha256: {hashlib.sha256(document).hexdigest()}\n    size: {len(document)}"
        )
        (out / "claims" / f"{sid}.json").write_text(
            json.dumps({"source": sid, "claims": claims}, ensure_ascii=False), encoding="utf-8"
        )
    (out / "sources.yaml").write_text("\n".join(sources) + "\n", encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
