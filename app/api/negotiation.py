"""One content-negotiation decision per request, made before the route runs.

The response cache key, the ETag and the response builder all read the decision stored in the
ASGI scope, so they can never disagree about which representation a request gets. `?format=`
(on the paths that offer a choice) wins over `Accept`; otherwise the offered representation with
the highest `q` in `Accept` (most specific matching range first, RFC 9110 §12.5.1) is chosen,
ties going to the server's order. Nothing acceptable: None, answered 406 by the caller.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from starlette.types import Scope

MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "svg": "image/svg+xml"}
CSV_SUFFIX = ".csv"
SCOPE_KEY = "bilateral.representation"
JSON_ONLY = ("json",)
MAX_RANGES = 32  # an Accept header longer than this is judged on its first ranges


def offers(csv_lists: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Which representations each path offers: a list path with a `.csv` twin offers JSON and
    CSV; the twin offers CSV only; every other path (absent here) JSON only."""
    offered: dict[str, tuple[str, ...]] = {}
    for path in csv_lists:
        offered[path] = ("json", "csv")
        offered[path + CSV_SUFFIX] = ("csv",)
    return offered


# Paths with a parameter that offer more than JSON (a figure and its `.svg` chart), first match
# wins; registered by their routes (offer_pattern).
_PATTERNS: list[tuple[re.Pattern[str], tuple[str, ...]]] = []


def offer_pattern(path: str, offered: tuple[str, ...]) -> None:
    """Declare what a path template such as /v1/figures/{figure_id}.svg offers."""
    regex = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(path))
    _PATTERNS.append((re.compile(regex), offered))


def offered_for(offered: dict[str, tuple[str, ...]], path: str) -> tuple[str, ...]:
    """What `path` offers: a list or its `.csv` twin (offers), a registered pattern, else JSON."""
    if path in offered:
        return offered[path]
    return next((names for pattern, names in _PATTERNS if pattern.fullmatch(path)), JSON_ONLY)


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each well-formed media range; malformed ones are skipped."""
    ranges = []
    for part in accept.split(",")[:MAX_RANGES]:
        media, *params = part.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if math.isfinite(q) and 0.0 <= q <= 1.0:
            ranges.append((kind, sub, q))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, sub = media_type.partition("/")
    best, specificity = 0.0, -1
    for range_kind, range_sub, q in ranges:
        if range_kind == kind and range_sub == sub:
            rank = 2
        elif range_kind == kind and range_sub == "*":
            rank = 1
        elif range_kind == "*" and range_sub == "*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


def choose(accept: str | None, offered: tuple[str, ...], format: str | None = None) -> str | None:
    """The representation to send, or None when none of `offered` is acceptable."""
    if format in MEDIA_TYPES:
        return format if format in offered else None
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    if not ranges:
        return offered[0]  # an unparseable Accept is ignored, as if absent
    scored = [(_quality(MEDIA_TYPES[name], ranges), -i, name) for i, name in enumerate(offered)]
    q, _, name = max(scored)
    return name if q > 0 else None


def _format_parameter(scope: Scope) -> str | None:
    values = [
        value
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        if name == "format"
    ]
    return values[-1] if values else None


def negotiate(scope: Scope, offered: tuple[str, ...]) -> str | None:
    """Decide once for this request and remember the decision in the scope."""
    accept = ",".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"accept")
    format = _format_parameter(scope) if offered != JSON_ONLY else None
    decision = choose(accept, offered, format)
    scope[SCOPE_KEY] = decision
    return decision


def representation(scope: Scope) -> str:
    """The decision made for this request (JSON when no negotiation ran, e.g. in unit tests)."""
    return scope.get(SCOPE_KEY) or "json"
