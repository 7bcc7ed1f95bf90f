"""A real browser: headless Chromium opens /docs, runs "Try it out" on GET /v1/claims with a topic
filter and sees the response (the screenshot is kept in test-artifacts/, CI keeps it too); and a
page on another origin uses the API as a browser app would: it pages through `Link`, makes a
conditional request that gets 304, and reads the request id."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from bench.server import running_api
from tests.conftest import ROOT, ingest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    (not CHROMIUM or not CHROMEDRIVER) and os.environ.get("CI", "").lower() != "true",
    reason="Debian packages chromium and chromium-driver are not installed",
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'docs.db'}"
    ingest(url)
    with running_api({"DATABASE_URL": url}) as server:
        yield server.base


def _chromium() -> Any:
    """Headless Chromium driven by selenium, keeping the page's console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM and CHROMEDRIVER, "install Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,2000"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def test_docs_try_it_out_on_claims(live_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(f"{live_server}/docs")
        block = wait.until(ec.presence_of_element_located((By.ID, "operations-claims-listClaims")))
        block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
        block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        # Swagger UI pre-fills every parameter with its documented example (real values that
        # make a valid request together); topic is a list of the loaded dataset's topic ids
        row = block.find_element(By.CSS_SELECTOR, "tr[data-param-name='topic']")
        options = row.find_elements(By.CSS_SELECTOR, "select option")
        assert "arctic" in [o.get_attribute("value") for o in options]
        selected = [o.get_attribute("value") for o in options if o.is_selected()]
        assert selected == ["arctic"]
        block.find_element(By.CSS_SELECTOR, ".execute").click()
        body = wait.until(
            lambda d: block.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight")
        )
        wait.until(lambda d: '"items"' in body.text)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", body)
        driver.save_screenshot(str(ARTIFACTS / "docs-try-it-out.png"))
        status = block.find_element(
            By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"
        )
        assert status.text.strip().startswith("200")
        assert '"total"' in body.text
        request_url = block.find_element(By.CSS_SELECTOR, ".request-url pre").text
        assert "topic=arctic" in request_url
    except Exception:
        driver.save_screenshot(str(ARTIFACTS / "docs-try-it-out-failure.png"))
        raise
    finally:
        driver.quit()


PAGE_SCRIPT = """
const [api, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const out = {ids: [], pages: 0};
  let url = api + "/v1/claims?topic=arctic&limit=4";
  let first = null;
  while (url) {
    const response = await fetch(url);
    if (!first) first = response;
    out.pages += 1;
    out.ids.push(...(await response.json()).items.map((c) => c.id));
    const link = response.headers.get("Link");
    url = link ? new URL(link.slice(1, link.indexOf(">")), api).href : null;
  }
  out.total = (await (await fetch(api + "/v1/claims?topic=arctic&limit=1")).json()).total;
  out.etag = first.headers.get("ETag");
  out.lastModified = first.headers.get("Last-Modified");
  const conditional = await fetch(api + "/v1/claims?topic=arctic&limit=4", {
    headers: {"If-None-Match": out.etag, "X-Request-ID": "browser-req-1"},
  });
  out.conditionalStatus = conditional.status;
  out.conditionalRequestId = conditional.headers.get("X-Request-ID");
  const since = await fetch(api + "/v1/topics", {
    headers: {"If-Modified-Since": out.lastModified},
  });
  out.sinceStatus = since.status;
  out.madeRequestId = first.headers.get("X-Request-ID");
  done(out);
})().catch((error) => done({error: String(error)}));
"""


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static page served from another port: another origin than the API's."""
    import functools
    import http.server
    import threading

    from bench.server import free_port

    folder = tmp_path_factory.mktemp("page")
    (folder / "index.html").write_text("<!doctype html><title>client app</title><p>app</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory, other_origin: str) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cors') / 'cors.db'}"
    ingest(url)
    with running_api({"DATABASE_URL": url, "CORS_ORIGINS": other_origin}) as server:
        yield server.base


def test_a_page_on_another_origin_pages_revalidates_and_reads_request_ids(
    cors_server: str, other_origin: str
) -> None:
    """Issue 12, item 3: follow Link, get a 304 for If-None-Match, read X-Request-ID."""

    driver = _chromium()
    try:
        driver.set_script_timeout(30)
        driver.get(f"{other_origin}/index.html")
        result = driver.execute_async_script(PAGE_SCRIPT, cors_server)
        console = [entry["message"] for entry in driver.get_log("browser")]
    finally:
        driver.quit()
    assert "error" not in result, (result, console)
    assert not [m for m in console if "CORS" in m], console
    assert result["pages"] > 1
    assert len(result["ids"]) == len(set(result["ids"])) == result["total"] > 0
    assert result["etag"] and result["lastModified"]
    assert result["conditionalStatus"] == 304
    assert result["conditionalRequestId"] == "browser-req-1"
    assert result["sinceStatus"] == 304
    assert len(result["madeRequestId"]) >= 16
