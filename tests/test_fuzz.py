"""Schemathesis against the ASGI app: no input may produce a 5xx or a response off the schema.

FUZZ_EXAMPLES sets the examples per operation (200 under CI, 40 otherwise); the seed is fixed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from app.api.main import create_app
from app.core.config import Settings
from tests.conftest import ingest

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200" if os.environ.get("CI") else "40"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

_DATABASE = Path(tempfile.mkdtemp(prefix="bf-fuzz-")) / "fuzz.db"
ingest(f"sqlite:///{_DATABASE}")
APP = create_app(Settings(database_url=f"sqlite:///{_DATABASE}"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@HYPOTHESIS
def test_no_input_breaks_the_api(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code == 431:  # a request past MAX_HEADER_BYTES, the server's own limit
        request = response.request
        size = len(request.url) + sum(len(k) + len(v) + 4 for k, v in request.headers.items())
        # (the test client adds a few headers of its own, hence the margin)
        assert size > APP.state.settings.max_header_bytes - 1024, size
        assert response.json()["type"] == "/problems/headers-too-large"
        return
    case.validate_response(response)


def test_stateful_sequences() -> None:
    schema.as_state_machine().run(settings=HYPOTHESIS)
