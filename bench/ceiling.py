"""The reference: a bare Starlette app answering every GET with a fixed JSON payload.

BENCH_PAYLOAD names a file holding the bytes to return (the same size as our API's answer).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAYLOAD = Path(os.environ.get("BENCH_PAYLOAD", "/dev/null")).read_bytes()


async def fixed(_request: Request) -> Response:
    return Response(PAYLOAD, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", fixed)])
