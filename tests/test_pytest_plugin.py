"""The pytest plugin, exercised the way users meet it: pytest runs a test file that uses
the `theazo_emu` fixture (in a subprocess, so the entry point is loaded as installed)."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _lean_subprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest loads the plugin through its entry point as installed, but not the two
    unrelated plugins installed beside it whose imports (hypothesis, schemathesis) cost each
    inner run (and each of its xdist workers) about a second of start-up. Set once pytester
    is made, which clears PYTEST_ADDOPTS."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:schemathesis")


USER_TESTS = '''
import httpx

def test_journal_fault_and_fixture_helpers(theazo_emu):
    theazo_emu.fault("provider_error", times=1, path="/v1/sessions")
    theazo_emu.add_fixture({"exec": [{"match": {"language": "python", "code": "print(1)"}, "stdout": "one\\n"}]})
    with theazo_emu.client() as api:
        assert api.post("/v1/sessions", json={"userId": "u"}).status_code == 502
        session = api.post("/v1/sessions", json={"userId": "u"}).json()
        agent = api.post(f"/v1/sessions/{session['id']}/agents", json={}).json()
        ran = api.post(f"/v1/agents/{agent['id']}/exec", json={"lang": "python", "code": "print(1)"}).json()
        assert ran["stdout"] == "one\\n"
    entries = theazo_emu.requests(kind="request", method="POST", path="/v1/sessions")
    statuses = [entry["status"] for entry in entries if entry["path"] == "/v1/sessions"]
    assert sorted(statuses) == [201, 502]

def test_creates_a_session(theazo_emu):
    with theazo_emu.client() as api:
        response = api.post("/v1/sessions", json={"userId": "u1"})
        assert response.status_code == 201
        assert api.get("/v1/sessions").json()["data"][0]["userId"] == "u1"

def test_starts_with_an_empty_tenant(theazo_emu):
    with theazo_emu.client() as api:
        assert api.get("/v1/sessions").json()["data"] == []

def test_clock_control_and_settle(theazo_emu):
    with theazo_emu.client() as api:
        session = api.post("/v1/sessions", json={"userId": "u"}).json()
        agent = api.post(f"/v1/sessions/{session['id']}/agents", json={}).json()
        api.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"})
        assert api.get(f"/v1/agents/{agent['id']}").json()["status"] == "running"
        theazo_emu.settle()
        assert api.get(f"/v1/agents/{agent['id']}").json()["status"] == "idle"
        before = theazo_emu.now()
        theazo_emu.advance("1h")
        assert theazo_emu.now() > before
'''


def test_plugin_gives_each_test_a_fresh_tenant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=4)


def test_plugin_works_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-q")
    result.assert_outcomes(passed=4)


def test_plugin_reads_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntheazo_emu_clock = 2030-01-02T03:04:05Z\ntheazo_emu_pace = instant\n")
    pytester.makepyfile(test_ini='''
def test_clock_and_pace(theazo_emu):
    assert theazo_emu.now() == "2030-01-02T03:04:05.000Z"
    with theazo_emu.client() as api:
        session = api.post("/v1/sessions", json={"userId": "u"}).json()
        agent = api.post(f"/v1/sessions/{session['id']}/agents", json={}).json()
        api.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"})
        assert api.get(f"/v1/agents/{agent['id']}").json()["status"] == "idle"
''')
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=1)


def test_plugin_gives_theo_tests_a_key_of_their_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_theo='''
import openai

def test_openai_client_on_the_theo_surface(theo_emu):
    assert theo_emu.api_key.startswith("theo_sk_test_pytest_")
    theo_emu.add_fixture({"completions": [{"match": {"prompt": "ping"}, "content": "pong"}]})
    with openai.OpenAI(base_url=theo_emu.openai_base_url, api_key=theo_emu.api_key, max_retries=0) as client:
        answer = client.chat.completions.create(model="theo-1-auto", messages=[{"role": "user", "content": "ping"}])
    assert answer.choices[0].message.content == "pong"
    assert [e["path"] for e in theo_emu.requests(kind="request")] == ["/api/v1/chat/completions"]

def test_a_fresh_theo_tenant(theo_emu):
    with theo_emu.client() as api:
        assert api.get("/api/v1/conversations").json()["conversations"] == []
        theo_emu.fault("provider_error", times=1, path="/api/v1/completions")
        assert api.post("/api/v1/completions", json={"prompt": "hi"}).status_code == 502
        assert api.post("/api/v1/completions", json={"prompt": "hi"}).status_code == 200
''')
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=2)


MARKED_TESTS = '''
import json
import pytest

URLS = {}

@pytest.mark.theazo_emu(pace="instant", clock="2030-01-01T00:00:00Z")
def test_marked_settings(theazo_emu):
    URLS["instant"] = theazo_emu.base_url
    assert theazo_emu.now() == "2030-01-01T00:00:00.000Z"
    with theazo_emu.client() as api:
        session = api.post("/v1/sessions", json={"userId": "u"}).json()
        agent = api.post(f"/v1/sessions/{session['id']}/agents", json={}).json()
        api.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"})
        assert api.get(f"/v1/agents/{agent['id']}").json()["status"] == "idle"

@pytest.mark.theazo_emu(clock="2030-01-01T00:00:00Z", pace="instant")
def test_same_settings_share_a_server(theazo_emu):
    assert theazo_emu.base_url == URLS["instant"]

def test_default_settings_get_the_default_server(theazo_emu):
    assert theazo_emu.base_url != URLS["instant"]
    assert theazo_emu.now() == "2025-01-01T00:00:00.000Z"

@pytest.mark.theazo_emu(key="th_test_chosen_by_marker", seed=3)
def test_key_and_seed(theazo_emu):
    assert theazo_emu.api_key == "th_test_chosen_by_marker"
    assert theazo_emu.base_url not in (URLS["instant"],)

def test_second_tenant(theazo_emu, theazo_emu_other):
    assert theazo_emu_other.api_key != theazo_emu.api_key and theazo_emu_other.base_url == theazo_emu.base_url
    with theazo_emu.client() as mine, theazo_emu_other.client() as theirs:
        mine.post("/v1/sessions", json={"userId": "mine"})
        assert theirs.get("/v1/sessions").json()["data"] == []
    assert theazo_emu.theo_key.startswith("theo_sk_test_")
'''


def test_the_marker_is_registered_and_picks_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:randomly", "--strict-markers")
    result.assert_outcomes(passed=5)
    help_text = pytester.runpytest_subprocess("--markers").stdout.str()
    assert "@pytest.mark.theazo_emu(pace=None, clock=None, seed=None, fixtures=None, key=None)" in help_text


def test_a_marker_with_an_unknown_keyword_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad='''
import pytest

@pytest.mark.theazo_emu(speed="fast")
def test_bad(theazo_emu):
    pass
''')
    result = pytester.runpytest_subprocess("-q")
    assert "takes only the keywords pace, clock, seed, fixtures, key; got speed" in result.stdout.str() + \
        result.stderr.str()


def test_a_marker_naming_a_missing_fixture_directory_fails_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_missing='''
import pytest

@pytest.mark.theazo_emu(fixtures="tests/fixtures")
def test_uses_fixtures(theazo_emu):
    pass
''')
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    expected = f"theazo_emu: the marker's fixtures= names {pytester.path / 'tests/fixtures'}, which is not a directory"
    assert expected in output and "Traceback" not in output and "FixtureError" not in output
    assert sum(line.startswith("theazo_emu:") for line in output.splitlines()) == 1


def test_a_broken_fixture_directory_fails_in_one_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "broken").mkdir()
    (pytester.path / "broken" / "bad.json").write_text("{not json")
    pytester.makeini("[pytest]\ntheazo_emu_fixtures = broken\n")
    pytester.makepyfile(test_broken="def test_uses_fixtures(theazo_emu):\n    pass\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "theazo_emu: the fixtures in" in output and "the ini option theazo_emu_fixtures" in output
    assert "Traceback" not in output


OVERHEAD = '''
import json, os, statistics
setups = []

def pytest_runtest_logreport(report):
    if report.when == "setup":
        setups.append(report.duration)

def pytest_sessionfinish(session):
    with open(os.environ["OVERHEAD_OUT"], "w") as out:
        json.dump(setups, out)
'''


def test_fixture_overhead_per_test_is_under_5_ms(pytester: pytest.Pytester, tmp_path, monkeypatch) -> None:
    pytester.makeconftest(OVERHEAD)
    pytester.makepyfile(test_many="\n".join(f"def test_{i}(theazo_emu):\n    assert theazo_emu.api_key\n"
                                            for i in range(200)))
    out = tmp_path / "setups.json"
    monkeypatch.setenv("OVERHEAD_OUT", str(out))
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=200)
    setups = json.loads(out.read_text())
    first, rest = setups[0], sorted(setups[1:])
    median, p95 = rest[len(rest) // 2], rest[int(len(rest) * 0.95)]
    print(f"theazo_emu fixture set-up: first (starts the server) {first * 1000:.1f} ms, "
          f"then median {median * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms")
    assert median < 0.005  # p95 is printed, not asserted: a loaded CI machine has outliers
