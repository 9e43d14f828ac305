"""The inspector in a real browser: headless Chromium driven by Selenium against a real
`theazo-emu serve`, at 1280 px, clicking its controls and reading the DOM. `.ci/run` installs
Debian's chromium and chromium-driver; where neither can be had the test is skipped, saying so.

It saves a screenshot of every view under tests/.artifacts/inspector/ (ignored by git) and
prints where, for a person to look at."""

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
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs it
    webdriver = None

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(webdriver is None, reason="selenium is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium and chromedriver on this machine "
                                                         "(apt-get install chromium chromium-driver; .ci/run does)"),
]
KEY = "th_test_browser_alpha_9f3c"  # long: shown masked
ALICE = "th_test_alice"  # short and named by a person: shown as "alice"
AUTH = {"Authorization": f"Bearer {KEY}"}
ALICE_AUTH = {"Authorization": f"Bearer {ALICE}"}
THEO = {"Authorization": "Bearer theo_sk_test_browser_beta_7d21"}
SECRET = "sk-browser-canary-5150"
XSS = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900")
SHOTS = Path(__file__).resolve().parent / ".artifacts" / "inspector"
VIEWS = ("overview", "sessions", "agents", "runs", "events", "schedules", "completions", "jobs", "deliveries",
         "journal", "clock", "faults", "fixtures")


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
    """(text, class) of each body row of a table, read at once."""
    return driver.execute_script("return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
                                 ".map(r => [r.innerText.replace(/\\t/g, ' '), r.className])", table)


def _click(driver: Any, table: str, needle: str, selector: str = "") -> None:
    """Click the first row of `table` holding `needle` (or `selector` inside it)."""
    driver.execute_script(
        "const row = [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".find(r => r.innerText.includes(arguments[1]));"
        "if (!row) throw new Error('no row with ' + arguments[1]);"
        "row.scrollIntoView({block: 'center'});"
        "(arguments[2] ? row.querySelector(arguments[2]) : row).click();", table, needle, selector)


def _view(driver: Any, view: str) -> None:
    driver.execute_script("location.hash = '#/' + arguments[0]", view)
    _until(driver, lambda: driver.find_element(By.ID, f"view-{view}").is_displayed(), f"the {view} view shows")


def _refreshes(driver: Any) -> int:
    return int(driver.execute_script("return Number(document.body.dataset.refreshes || 0)"))


def _two_refreshes(driver: Any) -> None:
    seen = _refreshes(driver)
    _until(driver, lambda: _refreshes(driver) >= seen + 2, "two refreshes")


def _in_viewport(driver: Any, element_id: str) -> dict:
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, w: innerWidth, h: innerHeight,"
        " inside: r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth}",
        element_id)


def _cut_times(driver: Any) -> list[str]:
    """Time cells of the shown view whose text does not fit, or that lack a time of day."""
    return driver.execute_script(
        "return [...document.querySelectorAll('main > section.current td.time, #drawer td.time')]"
        ".filter(td => td.offsetParent && (td.scrollWidth > td.clientWidth"
        " || (td.innerText && !/\\d\\d:\\d\\d:\\d\\d/.test(td.innerText)))).map(td => td.innerText)")


def _shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_the_inspector_in_a_browser(browser: Any, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "10-empty.json").write_text('{"description": "nothing seeded"}')
    with serve_process("--clock", START, "--heartbeat", "0.2", "--fixtures", str(fixtures),
                       "--allow-private-webhooks") as url, receiver([400]) as hook, \
            httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
        # First open: no traffic, a hint with the two commands that make some, for this server.
        browser.get(f"{url}/_emu/ui")
        _until(browser, lambda: "2025-05-01T00:00:00.000Z (frozen)" in browser.find_element(By.ID, "clock")
               .get_attribute("textContent"), "the clock shows")
        _until(browser, lambda: browser.find_element(By.ID, "first-open").is_displayed(), "the first-open hint")
        commands = [_text(browser, "hint-theazo"), _text(browser, "hint-theo")]
        assert f"curl -s -X POST {url}/v1/sessions" in commands[0] and f"{url}/api/v1/completions" in commands[1]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#first-open .copy")) == 2
        _shot(browser, "00-first-open")

        session = http.post("/v1/sessions", json={"userId": "u1"}).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={"tools": ["web_search"]}).json()
        run = http.post(f"/v1/agents/{agent['id']}/run", json={"task": "Look around"}).json()
        assert http.post("/v1/secrets", json={"name": "TOKEN", "value": SECRET}).status_code == 201
        assert http.get("/v1/agents/agt_nope").status_code == 404
        hostile = http.post("/v1/sessions", json={"userId": XSS}, headers=ALICE_AUTH).json()
        assert http.post("/v1/schedules", headers=ALICE_AUTH, json={
            "name": "hourly", "cron": "0 * * * *", "action": {"type": "agent-run", "config": {"task": "t"}}}) \
            .status_code == 201
        theo = {"headers": THEO}
        assert http.post("/api/v1/webhooks", json={"url": hook.url, "event_types": ["completion.created"]},
                         **theo).status_code == 201
        completion = http.post("/api/v1/completions", json={"prompt": "Say hello"}, **theo).json()
        streamed = http.post("/api/v1/completions", json={"prompt": "A haiku", "stream": True}, **theo)
        assert streamed.headers["content-type"].startswith("text/event-stream")
        job = http.post("/api/v1/video", json={"prompt": "waves"}, **theo).json()
        for i in range(40):  # enough rows that the journal scrolls
            http.get("/v1/sessions", params={"limit": 1, "n": i})
        hook.wait_for(1)
        _until(browser, lambda: not browser.find_element(By.ID, "first-open").is_displayed(), "the hint goes")

        # Tenants: a person's short key by its name, a long key masked; no key on the page.
        _until(browser, lambda: any(t.endswith(" 2 1 2") for t, _ in _rows(browser, "tenants")), "every tenant counted")
        tenants = [text for text, _ in _rows(browser, "tenants")]
        assert len(tenants) == 3, tenants
        assert any(t.startswith("alice key2 · th_test_…ice") for t in tenants), tenants
        assert any(t.startswith("key1 key1 · th_test_…9f3c 1 1 1 0") for t in tenants), tenants
        assert any(t.startswith("theo1 theo1 · theo_sk_test_…7d21 0 0 0 0 2 1 2") for t in tenants), tenants
        for secret in (KEY, SECRET, "browser_beta", ALICE):
            assert secret not in browser.page_source
        _view(browser, "sessions")
        assert any("alice" in text for text, _ in _rows(browser, "sessions"))  # rows name the tenant too

        # Every view at 1280 px: nothing scrolls sideways, no time loses its time of day; a screenshot each.
        for n, view in enumerate(VIEWS, start=1):
            _view(browser, view)
            overflow = browser.execute_script(
                "const m = document.querySelector('main');"
                "return [document.documentElement.scrollWidth - innerWidth, m.scrollWidth - m.clientWidth]")
            assert max(overflow) <= 1, (view, overflow)
            assert _cut_times(browser) == [], view
            _shot(browser, f"{n:02d}-{view}")

        # Theo's completions, jobs (their status on the clock) and webhook deliveries (failed in red).
        _view(browser, "completions")
        assert any(completion["id"] in text and "auto → fast" in text for text, _ in _rows(browser, "theo-completions"))
        _view(browser, "jobs")
        assert job["job_id"] in _rows(browser, "theo-jobs")[0][0] and "queued" in _rows(browser, "theo-jobs")[0][0]
        _view(browser, "deliveries")
        _until(browser, lambda: [text for text, cls in _rows(browser, "theo-deliveries") if "error" in cls],
               "the refused delivery shows red")
        refused = [text for text, cls in _rows(browser, "theo-deliveries") if "error" in cls]
        assert len(refused) == 1 and "completion.created" in refused[0] and " 400 " in refused[0], refused

        # A selected id survives two refreshes, even as a new row arrives above it.
        _view(browser, "sessions")
        browser.execute_script(
            "const span = [...document.querySelectorAll('#sessions tbody tr .v')].find(s => s.textContent === arguments[0]);"
            "const range = document.createRange(); range.selectNodeContents(span);"
            "getSelection().removeAllRanges(); getSelection().addRange(range);", session["id"])
        scroll = browser.execute_script("const m = document.querySelector('main'); m.scrollTop = 30; return m.scrollTop")
        newer = http.post("/v1/sessions", json={"userId": "arrives later"}).json()
        _until(browser, lambda: newer["id"] in _rows(browser, "sessions")[0][0], "the new session shows on top")
        _two_refreshes(browser)
        assert browser.execute_script("return getSelection().toString()") == session["id"]
        assert browser.execute_script("return document.querySelector('main').scrollTop") == scroll

        # Copy buttons on ids.
        _click(browser, "sessions", session["id"], ".copy")
        _until(browser, lambda: f"copied {session['id']}" in _text(browser, "status"), "the id is copied")

        # The journal: a filter box; a click far down the page opens the detail in view; Esc closes it.
        _view(browser, "journal")
        filter_box = browser.find_element(By.ID, "journal-filter")
        filter_box.send_keys("agt_nope")
        _until(browser, lambda: len(_rows(browser, "journal")) == 1, "the filter keeps one row")
        assert "404" in _rows(browser, "journal")[0][0] and "error" in _rows(browser, "journal")[0][1]
        filter_box.clear()
        filter_box.send_keys(" ")  # clear() sends no input event
        _until(browser, lambda: len(_rows(browser, "journal")) > 40, "every row is back")
        _click(browser, "journal", "/v1/secrets")  # near the bottom: the page scrolls to it first
        assert browser.execute_script("return document.querySelector('main').scrollTop") > 200
        _until(browser, lambda: "[REDACTED]" in _text(browser, "detail-request"), "the request opens")
        assert _in_viewport(browser, "drawer")["inside"], _in_viewport(browser, "drawer")
        assert _in_viewport(browser, "detail-request")["inside"], _in_viewport(browser, "detail-request")
        headers = browser.find_element(By.ID, "detail-request-headers").get_attribute("textContent")
        assert SECRET not in _text(browser, "drawer-body") and "Bearer <key1>" in headers
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        _until(browser, lambda: not browser.find_element(By.ID, "drawer").is_displayed(), "Esc closes the drawer")

        # A streamed exchange shows its frames.
        _click(browser, "journal", "/api/v1/completions")  # the newest of the two: the streamed one
        _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#detail-frames .frame"), "frames")
        frames = _text(browser, "detail-frames")
        assert "token" in frames and "done" in frames and "(over" not in frames
        _shot(browser, "20-journal-stream-frames")

        # What a user typed is shown as text, never run as markup.
        _view(browser, "sessions")
        _click(browser, "sessions", hostile["id"])
        _until(browser, lambda: "<script>" in _text(browser, "drawer-body"), "the hostile user id shows as text")
        assert browser.execute_script("return window.__xss") is None
        assert browser.execute_script("return document.scripts.length") == 1
        assert not browser.find_elements(By.CSS_SELECTOR, "main img, #drawer img")
        _shot(browser, "21-session-drawer")
        browser.find_element(By.ID, "drawer-close").click()

        # The run's timeline opens in the drawer: events to come, then released as the clock moves.
        _view(browser, "runs")
        _click(browser, "runs", run["taskId"])
        _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.pending"), "a timeline")
        assert _in_viewport(browser, "timeline")["inside"]
        assert browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.released")
        assert _cut_times(browser) == []
        _shot(browser, "22-run-drawer")
        browser.find_element(By.CSS_SELECTOR, "header [data-advance='3600']").click()
        _until(browser, lambda: "01:00:00.000Z" in _text(browser, "clock-time"), "+1 h moves the clock")
        _until(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, "#timeline-track .tick.pending"),
               "every event released")
        _view(browser, "agents")
        _until(browser, lambda: any(agent["id"] in text and "idle" in text for text, _ in _rows(browser, "agents")),
               "the agent reads idle")
        _click(browser, "agents", agent["id"])  # its drawer follows only its live events
        _until(browser, lambda: browser.find_elements(By.ID, "follow-agent"), "the agent opens")
        browser.find_element(By.ID, "follow-agent").click()
        _until(browser, lambda: browser.find_element(By.ID, "view-events").is_displayed(), "the events view")
        assert _text(browser, "feed-scope") == f"agent {agent['id']}" and not browser.find_element(By.ID, "drawer").is_displayed()
        _until(browser, lambda: len(_rows(browser, "events")) >= 5, "its released events replayed")
        assert all(agent["id"] in text for text, _ in _rows(browser, "events"))
        _view(browser, "jobs")
        _until(browser, lambda: "completed 100%" in _rows(browser, "theo-jobs")[0][0], "the job completed on the clock")

        # The scrubber moves the virtual clock ahead by what it shows.
        _view(browser, "clock")
        browser.execute_script("const s = document.getElementById('scrub'); s.value = 7200;"
                               "s.dispatchEvent(new Event('input'));")
        assert "2025-05-01T03:00:00.000Z" in _text(browser, "scrub-label")
        browser.find_element(By.ID, "scrub-go").click()
        _until(browser, lambda: "2025-05-01T03:00:00.000Z" in _text(browser, "clock-now"), "the scrubber moves the clock")
        browser.find_element(By.ID, "resume").click()
        _until(browser, lambda: "(flowing)" in _text(browser, "clock-now"), "resume")
        browser.find_element(By.ID, "freeze").click()
        _until(browser, lambda: "(frozen)" in _text(browser, "clock-now"), "freeze")

        # Faults: add one from the page, see it fire, delete it.
        _view(browser, "faults")
        browser.find_element(By.ID, "fault-path").send_keys("/v1/sessions")
        browser.find_element(By.ID, "fault-add").click()
        _until(browser, lambda: "provider_error" in _text(browser, "faults"), "the fault is listed")
        assert http.get("/v1/sessions").status_code == 502
        _click(browser, "faults", "provider_error", ".fault-delete")
        _until(browser, lambda: "no fault injected" in _text(browser, "faults"), "the fault is gone")
        assert http.get("/v1/sessions").status_code == 200

        # Fixtures reload, then reset everything.
        _view(browser, "fixtures")
        browser.find_element(By.ID, "fixtures-reload").click()
        _until(browser, lambda: "reloaded: version 2" in _text(browser, "fixtures-result"), "the reload answers")
        browser.find_element(By.ID, "reset-all").click()
        _view(browser, "overview")
        _until(browser, lambda: "no tenant yet" in _text(browser, "tenants"), "reset empties the tenants")

        journal = httpx.get(f"{url}/_emu/requests", params={"kind": "request"}).json()["data"]
    assert not [e for e in journal if "favicon" in e["path"]]
    assert json.dumps(journal).count(SECRET) == 0
    print(f"\ninspector screenshots: {SHOTS}")
