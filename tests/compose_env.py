"""Compose's variable interpolation and the shipped .env.example, for the deploy checks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}")


def expand(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation (`${X}`, `${X:-default}`, `${X:?error}`) over `env`."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return VARIABLE.sub(one, value)


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name: value for name, value in pairs}
