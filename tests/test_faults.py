"""Fault injection in process: every kind by header, rules by API (match, times, probability,
list, delete), stream cuts, and rules from fixture files.

Latency faults really wait (they are for testing client timeouts), so their tests keep
the delay small. Everything else runs on the frozen clock.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import START, advance, assert_error, make_agent, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

FAULT = "X-Theazo-Emu-Fault"


def _fault(client, auth, value: str, method: str = "GET", path: str = "/v1/sessions", **kwargs):
    return client.request(method, path, headers={**auth, FAULT: value}, **kwargs)


def _add(client, **rule) -> dict:
    response = client.post("/_emu/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def _user_ids(client, auth) -> list[str]:
    return [s["userId"] for s in client.get("/v1/sessions", headers=auth).json()["data"]]


# ---- the header ----

@pytest.mark.parametrize(("value", "status", "code"), [
    ("provider_error", 502, "provider_error"),
    ("timeout", 504, "timeout"),
    ("internal_error", 500, "internal_error"),
    ("rate_limited", 429, "rate_limited"),
])
def test_the_header_injects_each_error(client, auth, value, status, code):
    body = assert_error(_fault(client, auth, value), status, code)
    assert body["error"]["details"]["injected"] == "header"


def test_an_injected_provider_error_says_so(client, auth):
    body = assert_error(_fault(client, auth, "provider_error"), 502, "provider_error")
    assert body["error"]["message"] == "Upstream compute provider returned an error (injected fault)."


def test_rate_limited_sends_retry_after_as_the_reference_does(client, auth):
    response = _fault(client, auth, "rate_limited")
    body = assert_error(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "2"
    assert body["error"]["message"] == "Too many requests. Retry after 2 seconds."
    assert body["error"]["details"] == {"retryAfter": 2, "injected": "header"}


def test_rate_limited_takes_its_retry_after_from_the_header(client, auth):
    response = _fault(client, auth, "rate_limited=7")
    assert response.headers["retry-after"] == "7" and response.json()["error"]["details"]["retryAfter"] == 7


def test_latency_delays_then_answers_normally(client, auth):
    started = time.monotonic()
    response = _fault(client, auth, "latency=150ms")
    assert response.status_code == 200 and time.monotonic() - started >= 0.15


def test_faults_combine_with_commas(client, auth):
    started = time.monotonic()
    assert_error(_fault(client, auth, "latency=100ms, timeout"), 504, "timeout")
    assert time.monotonic() - started >= 0.1


def test_a_faulted_write_stores_nothing(client, auth):
    assert_error(_fault(client, auth, "provider_error", "POST", "/v1/sessions", json={"userId": "u"}), 502,
                 "provider_error")
    assert _user_ids(client, auth) == []


@pytest.mark.parametrize("value", ["bogus", "latency", "latency=soon", "latency=61s", "stream_cut=x",
                                   "rate_limited=-1", "timeout=3"])
def test_a_bad_header_is_422_naming_it(client, auth, value):
    body = assert_error(_fault(client, auth, value), 422, "unprocessable_entity")
    assert body["error"]["message"].startswith("Invalid X-Theazo-Emu-Fault value")
    assert body["error"]["details"]["fields"][0]["field"] == "X-Theazo-Emu-Fault"


def test_admin_routes_are_never_faulted(client):
    assert client.get("/_emu/health", headers={FAULT: "internal_error"}).status_code == 200


def test_public_routes_are_faulted_too(client):
    assert_error(client.get("/v1/openapi.json", headers={FAULT: "timeout"}), 504, "timeout")


# ---- rules ----

def test_a_rule_answers_201_and_is_listed_with_its_counters(client):
    rule = _add(client, fault="provider_error", match={"method": "post", "path": "/v1/agents/*/run"}, times=2)
    assert rule == {"id": "fault_1", "fault": "provider_error", "match": {"method": "post", "path": "/v1/agents/*/run"},
                    "latencyMs": None, "afterEvents": None, "retryAfter": None, "probability": 1.0, "times": 2,
                    "remaining": 2, "matched": 0, "fired": 0, "message": None, "source": "api"}
    assert client.get("/_emu/faults").json() == {"data": [rule]}


def test_a_counted_rule_fires_that_many_times_then_stops(client, auth):
    _add(client, fault="timeout", match={"path": "/v1/sessions"}, times=2)
    statuses = [client.get("/v1/sessions", headers=auth).status_code for _ in range(4)]
    assert statuses == [504, 504, 200, 200]
    listed = client.get("/_emu/faults").json()["data"][0]
    assert (listed["remaining"], listed["matched"], listed["fired"]) == (0, 2, 2)


def test_a_rule_matches_method_path_glob_and_key(client, auth, key):
    _add(client, fault="internal_error", match={"method": "POST", "path": "/v1/sessions/*/agents", "key": key})
    session = make_session(client, auth)
    other = {"Authorization": "Bearer th_test_other"}
    other_session = make_session(client, other)
    assert_error(client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=auth), 500, "internal_error")
    assert client.get(f"/v1/sessions/{session['id']}/agents", headers=auth).status_code == 200
    assert client.post(f"/v1/sessions/{other_session['id']}/agents", json={}, headers=other).status_code == 201


def test_a_single_star_stays_within_one_segment_and_a_double_star_does_not(client, auth):
    _add(client, fault="timeout", match={"path": "/v1/*"})
    _add(client, fault="provider_error", match={"path": "/v1/usage/**"})
    assert_error(client.get("/v1/sessions", headers=auth), 504, "timeout")
    assert_error(client.get("/v1/usage/summary", headers=auth), 502, "provider_error")


def test_a_path_starting_with_a_caret_is_a_regex(client, auth):
    _add(client, fault="timeout", match={"path": "^/v1/(sessions|agents)$"})
    assert_error(client.get("/v1/agents", headers=auth), 504, "timeout")
    assert client.get("/v1/usage/summary", headers=auth).status_code == 200


def test_the_first_rule_added_wins(client, auth):
    _add(client, fault="timeout", match={"path": "/v1/sessions"}, times=1)
    _add(client, fault="provider_error", match={"path": "/v1/sessions"})
    assert [client.get("/v1/sessions", headers=auth).status_code for _ in range(2)] == [504, 502]


def test_a_rule_with_latency_delays_before_failing(client, auth):
    _add(client, fault="rate_limited", latencyMs="100ms", retryAfter=5, match={"path": "/v1/sessions"})
    started = time.monotonic()
    response = client.get("/v1/sessions", headers=auth)
    assert time.monotonic() - started >= 0.1
    assert response.headers["retry-after"] == "5" and response.json()["error"]["details"]["injected"] == "fault_1"


def test_a_rules_message_replaces_the_default(client, auth):
    _add(client, fault="provider_error", message="E2B is down", match={"path": "/v1/sessions"})
    assert assert_error(client.get("/v1/sessions", headers=auth), 502, "provider_error")["error"]["message"] == \
        "E2B is down"


def _outcomes(seed: int, count: int = 40) -> list[int]:
    with TestClient(create_app(Settings(clock=START, seed=seed))) as client:
        _add(client, fault="timeout", probability=0.5, match={"path": "/v1/sessions"})
        return [client.get("/v1/sessions", headers={"Authorization": "Bearer th_test_p"}).status_code
                for _ in range(count)]


def test_probability_draws_are_repeatable_for_a_seed_and_differ_across_seeds():
    first, again, other = _outcomes(0), _outcomes(0), _outcomes(1)
    assert first == again
    assert first != other
    assert 10 <= first.count(504) <= 30  # about half


def test_probability_zero_never_fires_and_does_not_use_up_times(client, auth):
    _add(client, fault="timeout", probability=0, times=1, match={"path": "/v1/sessions"})
    assert all(client.get("/v1/sessions", headers=auth).status_code == 200 for _ in range(5))
    listed = client.get("/_emu/faults").json()["data"][0]
    assert (listed["matched"], listed["fired"], listed["remaining"]) == (5, 0, 1)


def test_delete_one_rule(client, auth):
    first = _add(client, fault="timeout", match={"path": "/v1/sessions"})
    second = _add(client, fault="provider_error", match={"path": "/v1/agents"})
    assert client.delete(f"/_emu/faults/{first['id']}").json() == {"ok": True, "id": "fault_1"}
    assert [r["id"] for r in client.get("/_emu/faults").json()["data"]] == [second["id"]]
    assert client.get("/v1/sessions", headers=auth).status_code == 200


def test_delete_an_unknown_rule_is_404(client):
    body = assert_error(client.delete("/_emu/faults/fault_99"), 404, "not_found")
    assert body["error"]["message"] == "No fault rule with id 'fault_99'."


def test_delete_all_rules(client, auth):
    _add(client, fault="timeout")
    _add(client, fault="timeout")
    assert client.delete("/_emu/faults").json() == {"ok": True, "deleted": 2}
    assert client.get("/v1/sessions", headers=auth).status_code == 200


def test_reset_clears_the_rules_added_by_api(client, auth):
    _add(client, fault="timeout")
    client.post("/_emu/reset", json={})
    assert client.get("/_emu/faults").json()["data"] == []


@pytest.mark.parametrize(("rule", "field"), [
    ({"fault": "explode"}, "fault"),
    ({"fault": "latency"}, "body"),
    ({"fault": "stream_cut"}, "body"),
    ({"fault": "timeout", "times": 0}, "times"),
    ({"fault": "timeout", "probability": 1.5}, "probability"),
    ({"fault": "timeout", "match": {"path": "^(["}}, "match.path"),
    ({"fault": "timeout", "latencyMs": 120000}, "latencyMs"),
    ({"fault": "timeout", "tims": 1}, "body"),
    ({"fault": "latency", "latencyMs": None}, "body"),  # an explicit null is absent (once a 500)
    ({"fault": "latency", "latencyMs": -1}, "latencyMs"),
])
def test_an_invalid_rule_is_422_and_adds_nothing(client, rule, field):
    body = assert_error(client.post("/_emu/faults", json=rule), 422, "unprocessable_entity")
    assert field in {d["field"] for d in body["error"]["details"]["fields"]}
    assert client.get("/_emu/faults").json()["data"] == []


def test_fired_faults_are_journaled(client, auth):
    _fault(client, auth, "timeout")
    events = client.get("/_emu/requests", params={"kind": "fault"}).json()["data"]
    assert [(e["fault"], e["source"], e["path"]) for e in events] == [("timeout", "header", "/v1/sessions")]


# ---- stream cuts ----

def _finished_run(client, auth) -> str:
    agent = make_agent(client, auth, tools=["web_search"])
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Find papers"}, headers=auth).json()
    advance(client, run["durationMs"] / 1000)
    return agent["id"]


def _event_names(text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]


def test_stream_cut_ends_a_stream_after_n_events(client, auth):
    agent_id = _finished_run(client, auth)
    full = _event_names(client.get(f"/v1/agents/{agent_id}/stream", headers=auth, params={"lastEventId": ""}).text)
    assert len(full) > 3 and full[-1] == "output"
    cut = client.get(f"/v1/agents/{agent_id}/stream", headers={**auth, FAULT: "stream_cut=2",
                                                                 "Last-Event-ID": _first_id(client, auth, agent_id)})
    assert cut.status_code == 200 and _event_names(cut.text) == full[1:3]


def _first_id(client, auth, agent_id: str) -> str:
    run_id = client.get(f"/v1/agents/{agent_id}/status", headers=auth).json()["taskId"]
    return f"{run_id}:1"


def test_a_stream_cut_rule_applies_to_matching_streams(client, auth):
    agent_id = _finished_run(client, auth)
    _add(client, fault="stream_cut", afterEvents=1, match={"path": "/v1/agents/*/stream"}, times=1)
    assert len(_event_names(client.get(f"/v1/agents/{agent_id}/stream", headers=auth).text)) == 1


def test_stream_cut_zero_sends_no_event(client, auth):
    agent_id = _finished_run(client, auth)
    response = client.get(f"/v1/agents/{agent_id}/stream", headers={**auth, FAULT: "stream_cut=0"})
    assert response.status_code == 200 and _event_names(response.text) == []


# ---- rules from fixture files ----

@pytest.fixture
def faulty(tmp_path: Path):
    (tmp_path / "faults.toml").write_text('''
[[faults]]
match = { path = "/v1/sessions", method = "GET" }
fault = "timeout"
times = 1
''')
    with TestClient(create_app(Settings(clock=START, fixtures=tmp_path))) as client:
        yield client


def test_fixture_rules_are_listed_after_api_rules_with_their_source(faulty):
    _add(faulty, fault="provider_error", match={"path": "/nowhere"})
    assert [(r["id"], r["source"]) for r in faulty.get("/_emu/faults").json()["data"]] == [
        ("fault_1", "api"), ("fixture_1", "faults.toml faults[0]")]


def test_fixture_rules_are_counted_and_reset_restores_their_count(faulty, auth):
    assert [faulty.get("/v1/sessions", headers=auth).status_code for _ in range(2)] == [504, 200]
    faulty.post("/_emu/reset", json={})
    assert faulty.get("/_emu/faults").json()["data"][0]["remaining"] == 1
    assert faulty.get("/v1/sessions", headers=auth).status_code == 504
