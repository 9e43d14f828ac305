"""The pytest plugin, exercised the way users meet it: pytest runs a test file that uses
the `theazo_emu` fixture (in a subprocess, so the entry point is loaded as installed)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

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
