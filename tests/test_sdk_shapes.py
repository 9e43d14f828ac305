"""Answers shaped as the official SDK's types expect (sdk-compat.md; the SDK's types.ts).

Where one body serves both clients it does so for every request (the SDK's `cursor` is an
empty string on the last page; workflows, runs and approvals, which only the SDK
documents, leave optional fields out instead of sending null; a trigger list shows a
masked secret; fleet stream frames are all FleetItemResults). Where it cannot, the dialect
rule decides: a request with `X-SDK-Version` gets the agent status `ready` (the reference
keeps `idle`) and the pause answer as a Snapshot.
"""

from __future__ import annotations

import json

import pytest
from conftest import advance, make_agent, make_session

SDK = {"X-SDK-Version": "0.1.0"}
STEPS = [{"id": "a", "type": "delay", "duration": "1s"}]


def _sdk(auth: dict) -> dict:
    return {**auth, **SDK}


# ---- agent status: the reference's idle is the SDK's ready ----

def test_an_idle_agent_reads_ready_to_the_sdk_and_idle_to_the_reference(client, auth):
    session = make_session(client, auth)
    created = client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=_sdk(auth)).json()
    assert created["status"] == "ready"
    agent_id = created["id"]
    for path in (f"/v1/agents/{agent_id}", f"/v1/agents/{agent_id}/status"):
        assert client.get(path, headers=_sdk(auth)).json()["status"] == "ready"
        assert client.get(path, headers=auth).json()["status"] == "idle"
    for path in ("/v1/agents", f"/v1/sessions/{session['id']}/agents"):
        assert [a["status"] for a in client.get(path, headers=_sdk(auth)).json()["data"]] == ["ready"]
        assert [a["status"] for a in client.get(path, headers=auth).json()["data"]] == ["idle"]


def test_the_status_filter_takes_both_words(client, auth):
    agent = make_agent(client, auth)
    running = make_agent(client, auth)
    client.post(f"/v1/agents/{running['id']}/run", json={"task": "t"}, headers=auth)
    for word in ("ready", "idle"):
        listed = client.get("/v1/agents", params={"status": word}, headers=auth).json()["data"]
        assert [a["id"] for a in listed] == [agent["id"]]
    assert [a["id"] for a in client.get("/v1/agents?status=running", headers=auth).json()["data"]] == [running["id"]]


def test_a_running_agent_reads_running_to_both(client, auth):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth)
    assert client.get(f"/v1/agents/{agent['id']}", headers=_sdk(auth)).json()["status"] == "running"


# ---- pause: the SDK's Snapshot ----

def test_pause_answers_the_sdk_a_snapshot_with_a_size_text(client, auth):
    agent = make_agent(client, auth)
    snapshot = client.post(f"/v1/agents/{agent['id']}/pause", headers=_sdk(auth)).json()
    assert snapshot["id"].startswith("snap_") and snapshot["agentId"] == agent["id"]
    assert (snapshot["size"], snapshot["sizeBytes"], snapshot["provider"]) == ("1.0 MB", 1_048_576, "mock")
    client.post(f"/v1/agents/{agent['id']}/resume", headers=auth)
    reference = client.post(f"/v1/agents/{agent['id']}/pause", headers=auth).json()
    assert reference["id"] == agent["id"] and reference["snapshot"]["id"].startswith("snap_")
    assert reference["size"] == 1_048_576


@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1_060_864, "1.0 MB"),
                                            (5 * 1024**3 // 2, "2.5 GB")])
def test_size_text(size, text):
    from theazo_emu.theazo.domain.pricing import size_text

    assert size_text(size) == text


# ---- lists: the SDK's cursor is a string ----

@pytest.mark.parametrize("path", ["/v1/sessions", "/v1/agents", "/v1/workflow-runs", "/v1/workflows"])
def test_the_last_page_has_an_empty_cursor_and_a_null_next_cursor(client, auth, path):
    page = client.get(path, headers=_sdk(auth)).json()
    assert (page["cursor"], page["nextCursor"], page["hasMore"]) == ("", None, False)


def test_an_empty_cursor_sent_back_reads_the_first_page(client, auth):
    make_session(client, auth)
    assert len(client.get("/v1/sessions?cursor=", headers=auth).json()["data"]) == 1


# ---- workflows and their runs: optional fields absent, not null ----

def test_a_workflow_leaves_out_the_optional_fields_it_does_not_have(client, auth):
    created = client.post("/v1/workflows", json={"name": "w", "steps": STEPS}, headers=_sdk(auth)).json()
    for absent in ("description", "inputSchema", "outputSchema", "policy", "retries", "timeout"):
        assert absent not in created
    assert created["onFailure"] == "abort"
    full = client.post("/v1/workflows", headers=auth, json={
        "name": "w2", "steps": STEPS, "description": "d", "timeout": 300, "retries": {"maxAttempts": 2}}).json()
    assert (full["description"], full["timeout"], full["retries"]["maxAttempts"]) == ("d", "300s", 2)
    assert client.get(f"/v1/workflows/{created['id']}", headers=auth).json() == created
    assert all(None not in w.values() for w in client.get("/v1/workflows", headers=auth).json()["data"])


def test_a_workflow_run_leaves_out_the_optional_fields_it_does_not_have(client, auth):
    workflow = client.post("/v1/workflows", json={"name": "w", "steps": STEPS}, headers=auth).json()
    run = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u"}, headers=auth).json()
    for absent in ("canRetryFrom", "completedAt", "idempotencyKey"):
        assert absent not in run
    advance(client, 2)
    done = client.get(f"/v1/workflow-runs/{run['id']}", headers=auth).json()
    assert done["status"] == "completed" and done["completedAt"] == "2025-05-01T00:00:01.000Z"
    keyed = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u", "idempotencyKey": "k1"},
                        headers=auth).json()
    assert keyed["idempotencyKey"] == "k1"


# ---- triggers, schedules, definitions ----

def test_a_trigger_list_shows_a_masked_secret(client, auth):
    created = client.post("/v1/triggers", json={"name": "t", "agent": "r", "userId": "u"}, headers=auth).json()
    (listed,) = client.get("/v1/triggers", headers=_sdk(auth)).json()
    assert listed["secret"] == "whsec_********" and created["secret"] not in json.dumps(listed)


def test_a_workflow_schedules_agent_is_a_string(client, auth):
    workflow = client.post("/v1/workflows", json={"name": "w", "steps": STEPS}, headers=auth).json()
    schedule = client.post(f"/v1/workflows/{workflow['id']}/schedule", json={"cron": "0 * * * *", "userId": "u"},
                           headers=_sdk(auth)).json()
    assert schedule["agent"] == workflow["id"]
    (listed,) = client.get("/v1/schedules", headers=_sdk(auth)).json()
    assert listed["agent"] == workflow["id"]


def test_the_first_versions_changelog_is_a_string(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "d"}, headers=auth).json()
    client.put(f"/v1/agent-definitions/{definition['id']}", json={"instructions": "v2"}, headers=auth)
    versions = client.get(f"/v1/agent-definitions/{definition['id']}/versions", headers=_sdk(auth)).json()
    assert [(v["version"], v["changelog"]) for v in versions] == [(2, ""), (1, "Initial version")]


# ---- fleet.stream(): every frame is a FleetItemResult ----

def _frames(text: str) -> list[dict]:
    frames, current = [], {}
    for line in text.split("\n"):
        if not line:
            if "data" in current:
                frames.append(current)
            current = {}
        elif line.startswith("event:"):
            current["event"] = line[6:].strip()
        elif line.startswith("data:"):
            current["data"] = json.loads(line[5:])
    return frames


def test_every_fleet_stream_frame_is_an_item_result(client, auth):
    session = make_session(client, auth)
    fleet = client.post(f"/v1/sessions/{session['id']}/fleets", headers=auth,
                        json={"agent": "analyst", "inputs": [{"company": "a"}, {"company": "b"}]}).json()
    advance(client, 3600)
    frames = _frames(client.get(f"/v1/fleets/{fleet['id']}/stream", headers=_sdk(auth)).text)
    assert [f["event"] for f in frames][-1] == "fleet:complete" and len(frames) == 5
    for frame in frames:
        item = frame["data"]
        assert isinstance(item["itemIndex"], int) and isinstance(item["input"], dict), frame
        assert isinstance(item["output"], str) and isinstance(item["duration"], str), frame
        assert set(item["cost"]) == {"amount", "currency"}, frame
        assert item["status"] in ("completed", "failed", "pending", "running"), frame
    start, end = frames[0]["data"], frames[-1]["data"]
    assert (start["output"], start["status"]) == ("", "running")
    assert (end["itemIndex"], end["input"], end["output"]) == (-1, {}, "")
