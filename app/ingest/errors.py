"""Errors a curator can act on: each names the file, the line and (when known) the claim."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SeedError:
    file: Path
    line: int | None
    message: str
    claim_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        claim = f" [claim {self.claim_id}]" if self.claim_id else ""
        return f"{where}:{claim} {self.message}"


class SeedsInvalid(Exception):
    """Raised with every problem found, so one run of `bilateral check` lists them all."""

    def __init__(self, errors: list[SeedError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in the seeds")
