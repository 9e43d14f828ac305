"""The inspector in a real browser: headless Chromium driven by Selenium against a real
`theazo-emu serve`, clicking its controls and reading the DOM. `.ci/run` installs Debian's
chromium and chromium-driver; where neither can be had the test is skipped, saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from conftest import START, serve_process
from receiver import receiver

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs it
    webdriver = None

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(webdriver is None, reason="selenium is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium and chromedriver on this machine "
                                                         "(apt-get install chromium chromium-driver; .ci/run does)"),
]
KEY = "th_test_browser_alpha_9f3c"
AUTH = {"Authorization": f"Bearer {KEY}"}
THEO = {"Authorization": "Bearer theo_sk_test_browser_beta_7d21"}
SECRET = "sk-browser-canary-5150"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_window_size(1280, 900)
    try:
        yield driver
    finally:
        driver.quit()


def _until(driver: Any, check: Callable[[], Any], what: str, timeout: float = 10) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda _: check(), message=what)


def _text(driver: Any, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def _rows(driver: Any, table: str) -> list[tuple[str, str]]:
    """(text, class) of each row under the heading, read at once: the page redraws every second."""
    return driver.execute_script("return [...document.querySelectorAll('#' + arguments[0] + ' tr')].slice(1)"
                                 ".map(r => [r.innerText.replace(/\\t/g, ' '), r.className])", table)


def _click(driver: Any, table: str, needle: str, selector: str = "") -> None:
    """Click the first row of `table` holding `needle` (or `selector` inside it), found and clicked at once."""
    driver.execute_script(
        "const row = [...document.querySelectorAll('#' + arguments[0] + ' tr')].slice(1)"
        ".find(r => r.innerText.includes(arguments[1]));"
        "if (!row) throw new Error('no row with ' + arguments[1]);"
        "(arguments[2] ? row.querySelector(arguments[2]) : row).click();", table, needle, selector)


def test_the_inspector_in_a_browser(browser: Any, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "10-empty.json").write_text('{"description": "nothing seeded"}')
    with serve_process("--clock", START, "--heartbeat", "0.2", "--fixtures", str(fixtures),
                       "--allow-private-webhooks") as url, receiver([400]) as hook, \
            httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
        session = http.post("/v1/sessions", json={"userId": "u1"}).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={"tools": ["web_search"]}).json()
        run = http.post(f"/v1/agents/{agent['id']}/run", json={"task": "Look around"}).json()
        assert http.post("/v1/secrets", json={"name": "TOKEN", "value": SECRET}).status_code == 201
        assert http.get("/v1/agents/agt_nope").status_code == 404
        theo = {"headers": THEO}
        assert http.post("/api/v1/webhooks", json={"url": hook.url, "event_types": ["completion.created"]},
                         **theo).status_code == 201
        completion = http.post("/api/v1/completions", json={"prompt": "Say hello"}, **theo).json()
        job = http.post("/api/v1/video", json={"prompt": "waves"}, **theo).json()
        hook.wait_for(1)

        browser.get(f"{url}/_emu/ui")
        _until(browser, lambda: "2025-05-01T00:00:00.000Z (frozen)" in _text(browser, "clock"), "the clock shows")
        _until(browser, lambda: len(_rows(browser, "journal")) >= 5, "the journal fills")

        # Tenants by their key's alias; the key itself appears nowhere on the page.
        assert _rows(browser, "tenants")[0][0].startswith("key1 (th_test_…9f3c) 1 1 1 0")
        assert KEY not in browser.page_source and SECRET not in browser.page_source
        theo_tenant = next(text for text, _ in _rows(browser, "tenants") if "theo_sk_test_" in text)
        assert theo_tenant.startswith("theo1 (theo_sk_test_…7d21) 0 0 0 0 1 1 1"), theo_tenant
        assert "browser_beta" not in browser.page_source

        # Theo's completions, jobs (their status on the clock) and webhook deliveries (failed in red).
        assert completion["id"] in _rows(browser, "theo-completions")[0][0]
        assert "auto → fast" in _rows(browser, "theo-completions")[0][0]
        assert job["job_id"] in _rows(browser, "theo-jobs")[0][0] and "queued" in _rows(browser, "theo-jobs")[0][0]
        _until(browser, lambda: _rows(browser, "theo-deliveries")[0][1] == "error", "the refused delivery shows red")
        assert "completion.created" in _rows(browser, "theo-deliveries")[0][0]
        assert " 400 " in _rows(browser, "theo-deliveries")[0][0]

        # Every column fits at 1280 px: nothing scrolls sideways.
        overflow = browser.execute_script(
            "return [document.documentElement.scrollWidth - window.innerWidth,"
            " ...[...document.querySelectorAll('section')].map(s => s.scrollWidth - s.clientWidth)]")
        assert max(overflow) <= 1, overflow

        # A journal row opens the whole exchange; errors are highlighted.
        error_rows = [text for text, kind in _rows(browser, "journal") if "error" in kind]
        assert [text.split()[1:3] for text in error_rows] == [["GET", "/v1/agents/agt_nope"]]
        _click(browser, "journal", "/v1/agents/agt_nope")
        _until(browser, lambda: '"code": "not_found"' in _text(browser, "detail-response"), "the error opens")
        _click(browser, "journal", "/v1/secrets")
        _until(browser, lambda: "[REDACTED]" in _text(browser, "detail-request"), "the request opens")
        assert SECRET not in _text(browser, "detail-request") and "Bearer <key1>" in _text(browser, "detail-request")

        # The run's timeline: events to come, then released as the clock moves.
        _click(browser, "runs", run["taskId"])
        _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.pending"), "a timeline")
        assert browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.released")
        browser.find_element(By.CSS_SELECTOR, "[data-advance='3600']").click()
        _until(browser, lambda: "2025-05-01T01:00:00.000Z" in _text(browser, "clock"), "+1 h moves the clock")
        _until(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.pending"),
               "every event released")
        _until(browser, lambda: any(agent["id"] in text and "idle" in text for text, _ in _rows(browser, "agents")),
               "the agent reads idle")
        _until(browser, lambda: "completed 100%" in _rows(browser, "theo-jobs")[0][0], "the job completed on the clock")

        # The scrubber moves the virtual clock ahead by what it shows.
        browser.execute_script("const s = document.getElementById('scrub'); s.value = 7200;"
                               "s.dispatchEvent(new Event('input'));")
        assert "2025-05-01T03:00:00.000Z" in _text(browser, "scrub-label")
        browser.find_element(By.ID, "scrub-go").click()
        _until(browser, lambda: "2025-05-01T03:00:00.000Z" in _text(browser, "clock"), "the scrubber moves the clock")
        browser.find_element(By.ID, "resume").click()
        _until(browser, lambda: "(flowing)" in _text(browser, "clock"), "resume")
        browser.find_element(By.ID, "freeze").click()
        _until(browser, lambda: "(frozen)" in _text(browser, "clock"), "freeze")

        # Faults: add one from the page, see it fire, delete it.
        browser.find_element(By.ID, "fault-path").send_keys("/v1/sessions")
        browser.find_element(By.ID, "fault-add").click()
        _until(browser, lambda: "provider_error" in _text(browser, "faults"), "the fault is listed")
        assert http.get("/v1/sessions").status_code == 502
        _click(browser, "faults", "provider_error", ".fault-delete")
        _until(browser, lambda: "nothing yet" in _text(browser, "faults"), "the fault is gone")
        assert http.get("/v1/sessions").status_code == 200

        # Fixtures reload, then reset everything.
        browser.find_element(By.ID, "fixtures-reload").click()
        _until(browser, lambda: "reloaded: version 2" in _text(browser, "fixtures-result"), "the reload answers")
        browser.find_element(By.ID, "reset-all").click()
        _until(browser, lambda: "nothing yet" in _text(browser, "tenants"), "reset empties the tenants")

        journal = httpx.get(f"{url}/_emu/requests", params={"kind": "request"}).json()["data"]
    assert not [e for e in journal if "favicon" in e["path"]]
    assert json.dumps(journal).count(SECRET) == 0
