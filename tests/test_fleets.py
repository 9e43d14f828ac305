"""Fleets over HTTP: dispatch one agent over many inputs with a concurrency limit, read
status and paged results, stream the items, cancel, and stop on `maxCost` or a failure
(sdk-compat "Fleet instance", reference "Fleets (additional)"). The clock is frozen; a
test advances it in small steps to watch items start and finish.
"""

from __future__ import annotations

import json

import pytest
from conftest import START, advance, assert_error, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

FLT_ID = "flt_01JT4J97000000012Y7ZM38QJT"  # well-formed, never created


def _dispatch(client, auth, session_id: str | None = None, **body) -> dict:
    session_id = session_id or make_session(client, auth)["id"]
    payload = {"agent": "researcher", "inputs": [{"company": f"c{i}"} for i in range(6)], "concurrency": 2, **body}
    response = client.post(f"/v1/sessions/{session_id}/fleets", json=payload, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _status(client, auth, fleet_id: str) -> dict:
    response = client.get(f"/v1/fleets/{fleet_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _until_done(client, auth, fleet_id: str, step_s: float = 0.5, limit: int = 400) -> list[dict]:
    """Advance in small steps until the fleet ends (or rests, paused); every status seen."""
    seen = [_status(client, auth, fleet_id)]
    for _ in range(limit):
        if seen[-1]["completedAt"] or (seen[-1]["status"] == "paused" and not seen[-1]["running"]):
            break
        advance(client, step_s)
        seen.append(_status(client, auth, fleet_id))
    return seen


def _frames(text: str) -> list[dict]:
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if fields:
            frames.append({"event": fields["event"], "id": fields["id"], "data": json.loads(fields["data"])})
    return frames


def test_dispatch_answers_the_fleet_and_starts_concurrency_items(client, auth):
    fleet = _dispatch(client, auth)
    assert fleet["id"].startswith("flt_")
    assert (fleet["status"], fleet["totalItems"], fleet["total"]) == ("dispatching", 6, 6)
    assert (fleet["running"], fleet["pending"], fleet["completed"]) == (2, 4, 0)
    assert _status(client, auth, fleet["id"])["status"] == "running"


def test_never_more_than_concurrency_items_run(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(12)], concurrency=3)
    seen = _until_done(client, auth, fleet["id"])
    assert max(s["running"] for s in seen) == 3
    assert all(s["running"] <= 3 for s in seen)
    assert all(s["running"] + s["pending"] + s["completed"] + s["failed"] == 12 for s in seen)
    assert (seen[-1]["status"], seen[-1]["completed"], seen[-1]["completedAt"] is not None) == ("completed", 12, True)


def test_the_fleet_cost_is_the_sum_of_its_items_and_is_in_the_ledger(client, auth):
    fleet = _dispatch(client, auth)
    _until_done(client, auth, fleet["id"])
    items = client.get(f"/v1/fleets/{fleet['id']}/results", headers=auth).json()["data"]
    total = sum(i["cost"]["amount"] for i in items)
    assert _status(client, auth, fleet["id"])["cost"] == {"amount": total, "currency": "usd"}
    assert client.get("/v1/usage/summary", headers=auth).json()["total"]["amount"] == total > 0


def test_each_item_runs_a_fresh_agent_on_its_input_then_ends_it(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"company": "Stripe"}, "Summarise Vercel"])
    _until_done(client, auth, fleet["id"])
    first, second = client.get(f"/v1/fleets/{fleet['id']}/results", headers=auth).json()["data"]
    assert first["output"].startswith('Done: {"company": "Stripe"}')
    assert second["output"].startswith("Done: Summarise Vercel")
    assert first["agentId"] != second["agentId"]
    status = client.get(f"/v1/agents/{first['agentId']}/status", headers=auth).json()
    assert (status["status"], status["task"]) == ("terminated", '{"company": "Stripe"}')


def test_results_are_in_item_order_paged_and_filtered(client, auth):
    fleet = _dispatch(client, auth)
    advance(client, 0)
    page = client.get(f"/v1/fleets/{fleet['id']}/results?limit=4", headers=auth).json()
    assert [i["itemIndex"] for i in page["data"]] == [0, 1, 2, 3]
    assert [i["status"] for i in page["data"]] == ["running", "running", "pending", "pending"]
    assert page["hasMore"] is True and page["cursor"] == page["nextCursor"] == "cur_item3"
    rest = client.get(f"/v1/fleets/{fleet['id']}/results", params={"cursor": page["cursor"]}, headers=auth).json()
    assert ([i["itemIndex"] for i in rest["data"]], rest["hasMore"], rest["cursor"]) == ([4, 5], False, "")
    running = client.get(f"/v1/fleets/{fleet['id']}/results?status=running", headers=auth).json()["data"]
    assert [i["itemIndex"] for i in running] == [0, 1]
    item = page["data"][0]
    assert set(item) >= {"itemIndex", "input", "output", "cost", "duration", "status"}
    assert item["input"] == {"company": "c0"} and item["cost"]["currency"] == "usd"


@pytest.mark.parametrize(("query", "field"), [("cursor=abc", "cursor"), ("status=lost", "status"),
                                              ("limit=0", "limit")])
def test_bad_result_queries_are_422(client, auth, query, field):
    fleet = _dispatch(client, auth)
    error = assert_error(client.get(f"/v1/fleets/{fleet['id']}/results?{query}", headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert field in error["message"]


def test_the_stream_carries_both_payload_shapes_and_closes_after_fleet_complete(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"company": "a"}, {"company": "b"}])
    _until_done(client, auth, fleet["id"])
    frames = _frames(client.get(f"/v1/fleets/{fleet['id']}/stream", headers=auth).text)
    assert [f["event"] for f in frames].count("agent:start") == 2
    assert [f["event"] for f in frames].count("agent:complete") == 2
    assert frames[-1]["event"] == "fleet:complete"
    start = frames[0]["data"]
    assert (start["index"], start["itemIndex"], start["task"], start["input"], start["status"]) == (
        0, 0, '{"company": "a"}', {"company": "a"}, "running")
    done = next(f["data"] for f in frames if f["event"] == "agent:complete")
    assert done["agentId"].startswith("agt_") and done["output"] and done["cost"]["currency"] == "usd"
    assert done["status"] == "completed" and done["duration"].endswith("s")
    end = frames[-1]["data"]
    assert (end["completed"], end["failed"], end["status"], end["input"]) == (2, 0, "completed", {})
    assert end["totalCost"] == _status(client, auth, fleet["id"])["cost"]
    assert [f["id"] for f in frames] == [f"{fleet['id']}:{i}" for i in range(1, len(frames) + 1)]


def test_max_cost_stops_dispatching_as_cost_limited(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(10)], concurrency=2, maxCost={"amount": 20})
    seen = _until_done(client, auth, fleet["id"])
    final = seen[-1]
    assert final["status"] == "cost_limited"
    assert final["cost"]["amount"] >= 20 and final["cost"]["amount"] - 20 < 20
    assert final["cancelled"] > 0 and final["pending"] == final["running"] == 0
    cancelled = client.get(f"/v1/fleets/{fleet['id']}/results?status=cancelled", headers=auth).json()["data"]
    assert cancelled[0]["error"]["message"] == "Not dispatched: the fleet reached its maxCost (20 cents)."


def test_failed_items_are_counted_and_the_fleet_goes_on_by_default(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(4)], timeout="1s")
    final = _until_done(client, auth, fleet["id"])[-1]
    assert (final["status"], final["failed"], final["completed"]) == ("completed", 4, 0)
    item = client.get(f"/v1/fleets/{fleet['id']}/results?status=failed", headers=auth).json()["data"][0]
    assert item["error"]["code"] == "timeout" and item["output"] is None


def test_failure_policy_abort_cancels_the_rest(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(6)], timeout="1s", failurePolicy="abort")
    final = _until_done(client, auth, fleet["id"])[-1]
    assert final["status"] == "failed"
    assert final["failed"] >= 1 and final["failed"] + final["cancelled"] == 6 and final["completedAt"]


def test_failure_policy_pause_stops_dispatching(client, auth):
    fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(6)], timeout="1s", failurePolicy="pause",
                      concurrency=1)
    final = _until_done(client, auth, fleet["id"])[-1]
    assert (final["status"], final["failed"], final["pending"], final["running"]) == ("paused", 1, 5, 0)
    cancelled = client.post(f"/v1/fleets/{fleet['id']}/cancel", headers=auth).json()
    assert (cancelled["status"], cancelled["cancelled"]) == ("cancelled", 5)


def test_a_session_agent_limit_makes_items_wait_for_a_free_slot(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 2})
    fleet = _dispatch(client, auth, session["id"], concurrency=5)
    seen = _until_done(client, auth, fleet["id"])
    assert max(s["running"] for s in seen) == 2
    assert (seen[-1]["status"], seen[-1]["completed"]) == ("completed", 6)


def test_cancel_terminates_running_items_and_drops_pending_ones(client, auth):
    fleet = _dispatch(client, auth)
    response = client.post(f"/v1/fleets/{fleet['id']}/cancel", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancelled"], body["running"], body["pending"]) == ("cancelled", 6, 0, 0)
    items = client.get(f"/v1/fleets/{fleet['id']}/results", headers=auth).json()["data"]
    assert client.get(f"/v1/agents/{items[0]['agentId']}", headers=auth).json()["status"] == "terminated"
    assert advance(client, 600)["fired"] == []
    frames = _frames(client.get(f"/v1/fleets/{fleet['id']}/stream", headers=auth).text)
    assert frames[-1]["event"] == "fleet:complete" and frames[-1]["data"]["status"] == "cancelled"
    assert_error(client.post(f"/v1/fleets/{fleet['id']}/cancel", headers=auth), 409, "conflict")


def test_an_agent_definition_id_is_used_for_every_item(client, auth):
    definition = client.post("/v1/agent-definitions", headers=auth, json={"name": "scout", "instructions": "Scout."})
    assert definition.status_code == 201, definition.text
    fleet = _dispatch(client, auth, agent=definition.json()["id"], inputs=[{"a": 1}])
    item = client.get(f"/v1/fleets/{fleet['id']}/results", headers=auth).json()["data"][0]
    agent = client.get(f"/v1/agents/{item['agentId']}", headers=auth).json()
    assert (agent["definitionId"], agent["instructions"]) == (definition.json()["id"], "Scout.")


BAD_FLEETS = [
    ({"inputs": []}, "inputs"),
    ({"concurrency": 0}, "concurrency"),
    ({"concurrency": "two"}, "concurrency"),
    ({"inputs": "a, b"}, "inputs"),
    ({"agent": ""}, "agent"),
    ({"agent": "adef_01JT4J97000000012Y7ZM38QJT"}, "agent"),
    ({"agent": {"compute": "cobol"}}, "compute"),
    ({"failurePolicy": "explode"}, "failurePolicy"),
    ({"maxCost": {"amount": -5}}, "maxCost.amount"),
    ({"timeout": "forever"}, "timeout"),
]


@pytest.mark.parametrize(("body", "field"), BAD_FLEETS, ids=[f for _, f in BAD_FLEETS])
def test_bad_fleets_are_422_and_run_nothing(client, auth, body, field):
    session = make_session(client, auth)
    payload = {"agent": "researcher", "inputs": [{"a": 1}], "concurrency": 1, **body}
    response = client.post(f"/v1/sessions/{session['id']}/fleets", json=payload, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in error["message"]
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


def test_unknown_definition_message_names_it(client, auth):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/fleets", headers=auth,
                           json={"agent": "adef_01JT4J97000000012Y7ZM38QJT", "inputs": [{}]})
    assert assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"] == [
        {"field": "agent", "message": "unknown agent definition 'adef_01JT4J97000000012Y7ZM38QJT'", "type": "value_error"}]


def test_a_fleet_in_an_unknown_session_is_404(client, auth):
    response = client.post("/v1/sessions/ses_01JT4J97000000012Y7ZM38QJT/fleets", headers=auth,
                           json={"agent": "r", "inputs": [{}]})
    assert_error(response, 404, "not_found")


def test_a_fleet_in_a_terminated_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/fleets", headers=auth, json={"agent": "r", "inputs": [{}]})
    assert_error(response, 409, "conflict")
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


@pytest.mark.parametrize(("method", "path"), [("GET", ""), ("GET", "/results"), ("GET", "/stream"),
                                              ("POST", "/cancel")])
def test_unknown_fleet_is_404(client, auth, method, path):
    body = assert_error(client.request(method, f"/v1/fleets/{FLT_ID}{path}", headers=auth), 404, "not_found")
    assert FLT_ID in body["error"]["message"]


def test_under_pace_instant_a_fleet_finishes_as_it_is_dispatched():
    app = create_app(Settings(clock=START, pace="instant"))
    with TestClient(app) as client:
        auth = {"Authorization": "Bearer th_test_instant"}
        fleet = _dispatch(client, auth, inputs=[{"n": i} for i in range(7)], concurrency=2)
    assert (fleet["status"], fleet["completed"], fleet["running"]) == ("completed", 7, 0)
