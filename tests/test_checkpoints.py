"""Checkpoints and progress of long-running agents, and resuming from a checkpoint."""

from __future__ import annotations

import httpx
import pytest
from conftest import START, advance, assert_error, make_agent, serve_process


def _checkpoint(client, auth, agent_id: str, **body):
    return client.post(f"/v1/agents/{agent_id}/checkpoints", json=body, headers=auth)


def _write(client, auth, agent_id: str, path: str, data: str) -> None:
    response = client.post(f"/v1/agents/{agent_id}/files", json={"path": path, "data": data}, headers=auth)
    assert response.status_code == 201, response.text


def _files(client, auth, agent_id: str) -> dict[str, str]:
    listed = client.get(f"/v1/agents/{agent_id}/files?dir=/data", headers=auth).json()["data"]
    return {e["name"]: client.get(f"/v1/agents/{agent_id}/files{e['path']}", headers=auth).json()["data"]
            for e in listed if e["type"] == "file"}


def test_a_checkpoint_records_phase_progress_and_metadata(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    made = _checkpoint(client, auth, agent, phase="initial-scan", progress=25, metadata={"builds": 147})
    assert made.status_code == 201
    body = made.json()
    assert body["id"].startswith("ckpt_") and body["snapshotId"].startswith("snap_")
    assert (body["agentId"], body["phase"], body["progress"], body["metadata"], body["createdAt"]) == (
        agent, "initial-scan", 25, {"builds": 147}, "2025-05-01T00:00:00.000Z")
    bare = _checkpoint(client, auth, agent).json()  # the SDK may send {}
    assert (bare["phase"], bare["progress"], bare["metadata"]) == (None, 0, None)
    listed = client.get(f"/v1/agents/{agent}/checkpoints", headers=auth).json()["data"]
    assert [c["id"] for c in listed] == [body["id"], bare["id"]]


def test_progress_reads_the_clock_and_the_runs(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    empty = client.get(f"/v1/agents/{agent}/progress", headers=auth).json()
    assert empty == {"phase": None, "progress": 0, "checkpoints": 0, "totalDuration": "0ms", "totalDurationMs": 0,
                     "activeDuration": "0ms", "activeDurationMs": 0, "status": "active", "lastCheckpointAt": None}
    run = client.post(f"/v1/agents/{agent}/run", json={"task": "scan"}, headers=auth).json()
    advance(client, 3600)
    _checkpoint(client, auth, agent, phase="scanned", progress=50)
    progress = client.get(f"/v1/agents/{agent}/progress", headers=auth).json()
    assert (progress["phase"], progress["progress"], progress["checkpoints"]) == ("scanned", 50, 1)
    assert progress["totalDuration"] == "1h" and progress["activeDurationMs"] == run["durationMs"]
    assert progress["lastCheckpointAt"] == "2025-05-01T01:00:00.000Z"
    client.post(f"/v1/agents/{agent}/pause", headers=auth)
    assert client.get(f"/v1/agents/{agent}/progress", headers=auth).json()["status"] == "hibernated"
    client.post(f"/v1/agents/{agent}/terminate", headers=auth)
    assert client.get(f"/v1/agents/{agent}/progress", headers=auth).json()["status"] == "terminated"


def test_resuming_from_a_checkpoint_puts_the_files_back(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/state.json", "v1")
    first = _checkpoint(client, auth, agent, phase="one", progress=25).json()
    _write(client, auth, agent, "/data/state.json", "v2")
    _write(client, auth, agent, "/data/extra.txt", "later")
    second = _checkpoint(client, auth, agent, phase="two", progress=50).json()
    assert _files(client, auth, agent) == {"extra.txt": "later", "state.json": "v2"}

    client.post(f"/v1/agents/{agent}/pause", headers=auth)
    resumed = client.post(f"/v1/agents/{agent}/resume", json={"checkpoint": first["id"]}, headers=auth)
    assert resumed.status_code == 200 and resumed.json()["status"] == "idle"
    assert _files(client, auth, agent) == {"state.json": "v1"}
    assert client.get(f"/v1/agents/{agent}/progress", headers=auth).json()["phase"] == "one"

    client.post(f"/v1/agents/{agent}/pause", headers=auth)
    client.post(f"/v1/agents/{agent}/resume", json={"checkpoint": second["id"]}, headers=auth)
    assert _files(client, auth, agent) == {"extra.txt": "later", "state.json": "v2"}


def test_a_refused_resume_restores_nothing(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/a.txt", "old")
    ckpt = _checkpoint(client, auth, agent).json()
    _write(client, auth, agent, "/data/a.txt", "new")
    not_paused = client.post(f"/v1/agents/{agent}/resume", json={"checkpoint": ckpt["id"]}, headers=auth)
    assert_error(not_paused, 409, "conflict")
    assert _files(client, auth, agent) == {"a.txt": "new"}
    client.post(f"/v1/agents/{agent}/pause", headers=auth)
    other_agent = make_agent(client, auth)["id"]
    foreign = _checkpoint(client, auth, other_agent).json()
    assert_error(client.post(f"/v1/agents/{agent}/resume", json={"checkpoint": foreign["id"]}, headers=auth),
                 404, "not_found")
    assert_error(client.post(f"/v1/agents/{agent}/resume", json={"checkpoint": "ckpt_nope"}, headers=auth),
                 404, "not_found")
    assert _files(client, auth, agent) == {"a.txt": "new"}
    assert client.get(f"/v1/agents/{agent}", headers=auth).json()["status"] == "paused"


@pytest.mark.parametrize(("body", "field"), [
    ({"progress": 101}, "progress"), ({"progress": -1}, "progress"), ({"progress": "half"}, "progress"),
    ({"phase": ""}, "phase"), ({"phase": "a\nb"}, "phase"), ({"phase": "x" * 201}, "phase"),
    ({"metadata": "not an object"}, "metadata"), ({"metadata": {str(i): i for i in range(101)}}, "metadata"),
])
def test_bad_checkpoints_are_422_and_make_nothing(client, auth, body, field) -> None:
    agent = make_agent(client, auth)["id"]
    error = assert_error(_checkpoint(client, auth, agent, **body), 422, "unprocessable_entity")
    assert field in {d["field"] for d in error["error"]["details"]["fields"]}
    assert client.get(f"/v1/agents/{agent}/checkpoints", headers=auth).json()["data"] == []


def test_limits_tenants_and_terminated_agents(client, auth, monkeypatch) -> None:
    from theazo_emu.theazo.routes import checkpoints

    monkeypatch.setattr(checkpoints, "MAX_CHECKPOINTS", 2)
    agent = make_agent(client, auth)["id"]
    for _ in range(2):
        assert _checkpoint(client, auth, agent).status_code == 201
    assert_error(_checkpoint(client, auth, agent), 409, "conflict")
    other = {"Authorization": "Bearer th_test_checkpoints_other"}
    assert_error(client.get(f"/v1/agents/{agent}/checkpoints", headers=other), 404, "not_found")
    assert_error(client.get(f"/v1/agents/{agent}/progress", headers=other), 404, "not_found")
    client.post(f"/v1/agents/{agent}/terminate", headers=auth)
    assert_error(_checkpoint(client, auth, agent), 409, "conflict")
    assert len(client.get(f"/v1/agents/{agent}/checkpoints", headers=auth).json()["data"]) == 2


@pytest.mark.server
def test_the_long_running_example_over_loopback() -> None:
    key = {"Authorization": "Bearer th_test_checkpoints_server"}
    with serve_process("--clock", START, "--pace", "instant") as url, \
            httpx.Client(base_url=url, headers=key, timeout=10) as http:
        session = http.post("/v1/sessions/by-user/longrun_user", json={}).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={"compute": "python"}).json()["id"]
        http.post(f"/v1/agents/{agent}/run", json={"task": "Scan the last 24 hours of CI builds"})
        first = http.post(f"/v1/agents/{agent}/checkpoints", json={"phase": "initial-scan-complete", "progress": 25,
                                                                     "metadata": {"buildsScanned": 147}}).json()
        http.post(f"/v1/agents/{agent}/run", json={"task": "Deep-analyze the failure patterns"})
        http.post(f"/v1/agents/{agent}/checkpoints", json={"phase": "deep-analysis-complete", "progress": 50})
        progress = http.get(f"/v1/agents/{agent}/progress").json()
        assert (progress["phase"], progress["checkpoints"], progress["status"]) == ("deep-analysis-complete", 2,
                                                                                   "active")
        assert http.post(f"/v1/agents/{agent}/pause").status_code == 200
        assert http.post(f"/v1/agents/{agent}/resume", json={"checkpoint": first["id"]}).status_code == 200
        assert http.get(f"/v1/agents/{agent}/progress").json()["phase"] == "initial-scan-complete"
