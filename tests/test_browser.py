"""A real browser: headless Chromium opens /docs, runs "Try it out" on GET /v1/claims with a topic
filter and sees the response. The screenshot is kept in test-artifacts/ (CI keeps it too)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

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


def test_docs_try_it_out_on_claims(live_server: str) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert CHROMIUM and CHROMEDRIVER, "install Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,2000"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(f"{live_server}/docs")
        block = wait.until(
            ec.presence_of_element_located((By.ID, "operations-claims-list_claims_v1_claims_get"))
        )
        block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
        block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        row = block.find_element(By.CSS_SELECTOR, "tr[data-param-name='topic']")
        row.find_element(By.XPATH, ".//button[contains(., 'Add string item')]").click()
        field = row.find_element(By.CSS_SELECTOR, "input")
        field.send_keys(Keys.CONTROL, "a")  # Swagger UI pre-fills a generated example
        field.send_keys(Keys.BACKSPACE, "arctic")
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
        assert '"arctic"' in body.text
        request_url = block.find_element(By.CSS_SELECTOR, ".request-url pre").text
        assert "topic=arctic" in request_url
    except Exception:
        driver.save_screenshot(str(ARTIFACTS / "docs-try-it-out-failure.png"))
        raise
    finally:
        driver.quit()
