"""Approvals over HTTP: the gates workflow `approval` steps open (sdk-compat §3
"theazo.approvals"): list (envelope or the SDK's bare array), get, approve with
modifications, deny with a reason, the bulk forms, and expiry on the virtual clock with
the step's `defaultAction`. Frozen clock, one tenant per test, no sleeping.
"""

from __future__ import annotations

import pytest
from conftest import advance, assert_error, make_session

APR_ID = "apr_01JT4J97000000012Y7ZM38QJT"  # well-formed, never created
SDK = {"X-SDK-Version": "0.1.0"}


def _gated(client, auth, *, user: str = "user_1", session_id: str | None = None, **gate) -> dict:
    """Start a run of `gate` -> `after` (which echoes the approval's output); returns the run."""
    steps = [{"id": "gate", "type": "approval", "action": "deploy", "params": {"env": "$.input.env"}, **gate},
             {"id": "after", "type": "transform", "expression": "$.gate.output", "dependsOn": ["gate"]}]
    workflow = client.post("/v1/workflows", json={"name": "deploy", "steps": steps}, headers=auth).json()
    body = {"userId": user, "input": {"env": "prod"}} | ({"sessionId": session_id} if session_id else {})
    response = client.post(f"/v1/workflows/{workflow['id']}/runs", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _pending(client, auth, **query) -> list[dict]:
    response = client.get("/v1/approvals", params={"status": "pending", **query}, headers={**auth, **SDK})
    assert response.status_code == 200
    return response.json()


def _run(client, auth, run_id: str) -> dict:
    return client.get(f"/v1/workflow-runs/{run_id}", headers=auth).json()


def test_an_approval_step_opens_a_pending_approval_and_pauses_the_run(client, auth):
    run = _gated(client, auth, timeout="2h")
    assert (run["status"], run["currentStepId"]) == ("paused", "gate")
    (approval,) = _pending(client, auth)
    assert approval["id"].startswith("apr_")
    assert {k: approval[k] for k in ("agentId", "runId", "stepId", "action", "params", "status", "defaultAction")} == {
        "agentId": "", "runId": run["id"], "stepId": "gate", "action": "deploy", "params": {"env": "prod"},
        "status": "pending", "defaultAction": "deny"}
    assert (approval["requestedAt"], approval["expiresAt"]) == ("2025-05-01T00:00:00.000Z", "2025-05-01T02:00:00.000Z")
    assert "resolvedAt" not in approval and "resolvedBy" not in approval  # the SDK types them optional


def test_an_approval_after_an_agent_step_names_that_agent(client, auth, key):
    steps = [{"id": "draft", "type": "agent", "agent": "writer"},
             {"id": "gate", "type": "approval", "action": "publish", "dependsOn": ["draft"]}]
    workflow = client.post("/v1/workflows", json={"name": "publish", "steps": steps}, headers=auth).json()
    run = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u"}, headers=auth).json()
    client.post("/_emu/settle", json={"key": key})
    (approval,) = _pending(client, auth)
    assert approval["agentId"] == _run(client, auth, run["id"])["stepResults"]["draft"]["agentId"]
    assert approval["agentId"].startswith("agt_")


def test_the_list_is_an_envelope_for_the_reference_and_a_bare_array_for_the_sdk(client, auth):
    _gated(client, auth)
    reference = client.get("/v1/approvals", headers=auth).json()
    assert set(reference) == {"data", "nextCursor", "cursor", "hasMore"} and len(reference["data"]) == 1
    assert client.get("/v1/approvals", headers={**auth, **SDK}).json() == reference["data"]


def test_the_list_filters_by_session_and_status(client, auth):
    mine = make_session(client, auth, userId="ada")
    _gated(client, auth, user="ada", session_id=mine["id"])
    other = _gated(client, auth, user="bob")
    assert [a["sessionId"] for a in _pending(client, auth, sessionId=mine["id"])] == [mine["id"]]
    (theirs,) = _pending(client, auth, sessionId=other["sessionId"])
    client.post(f"/v1/approvals/{theirs['id']}/deny", headers=auth)
    denied = client.get("/v1/approvals?status=denied", headers={**auth, **SDK}).json()
    assert [a["id"] for a in denied] == [theirs["id"]]
    assert_error(client.get("/v1/approvals?status=maybe", headers=auth), 422, "unprocessable_entity")


def test_get_one_and_unknown_is_404(client, auth):
    _gated(client, auth)
    (approval,) = _pending(client, auth)
    assert client.get(f"/v1/approvals/{approval['id']}", headers=auth).json() == approval
    body = assert_error(client.get(f"/v1/approvals/{APR_ID}", headers=auth), 404, "not_found")
    assert APR_ID in body["error"]["message"]


def test_approve_with_modifications_continues_the_run_with_merged_params(client, auth):
    run = _gated(client, auth)
    (approval,) = _pending(client, auth)
    response = client.post(f"/v1/approvals/{approval['id']}/approve", headers=auth,
                           json={"modifications": {"env": "staging", "canary": True}, "resolvedBy": "alice"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolvedBy"]) == ("approved", "alice")
    assert response.json()["resolvedAt"] == "2025-05-01T00:00:00.000Z"
    done = _run(client, auth, run["id"])
    assert done["status"] == "completed"
    assert done["output"]["params"] == {"env": "staging", "canary": True}
    assert done["output"]["approved"] is True


def test_approve_without_a_body_works(client, auth):
    run = _gated(client, auth)
    (approval,) = _pending(client, auth)
    response = client.post(f"/v1/approvals/{approval['id']}/approve", content=b"",
                           headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["resolvedBy"] == "api"
    assert _run(client, auth, run["id"])["status"] == "completed"


def test_deny_fails_the_step_with_the_reason(client, auth):
    run = _gated(client, auth)
    (approval,) = _pending(client, auth)
    denied = client.post(f"/v1/approvals/{approval['id']}/deny", json={"reason": "freeze week"}, headers=auth).json()
    assert (denied["status"], denied["reason"]) == ("denied", "freeze week")
    failed = _run(client, auth, run["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == f"Approval {approval['id']} was denied: freeze week"


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_resolving_twice_is_409_naming_the_status(client, auth, action):
    _gated(client, auth)
    (approval,) = _pending(client, auth)
    client.post(f"/v1/approvals/{approval['id']}/approve", headers=auth)
    body = assert_error(client.post(f"/v1/approvals/{approval['id']}/{action}", headers=auth), 409, "conflict")
    assert body["error"]["message"] == (f"Approval {approval['id']} is approved; only a pending approval can be "
                                        "resolved.")


def test_an_expired_approval_with_default_deny_fails_the_step_at_its_instant(client, auth):
    run = _gated(client, auth, timeout="30m")
    (approval,) = _pending(client, auth)
    advance(client, 1799)
    assert _run(client, auth, run["id"])["status"] == "paused"
    fired = advance(client, 1)["fired"]
    assert {"type": "approval", "approvalId": approval["id"], "status": "expired", "defaultAction": "deny",
            "expiredAt": "2025-05-01T00:30:00.000Z"} in fired
    expired = client.get(f"/v1/approvals/{approval['id']}", headers=auth).json()
    assert (expired["status"], expired["resolvedBy"]) == ("expired", "system:timeout")
    failed = _run(client, auth, run["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "approval_expired")
    assert_error(client.post(f"/v1/approvals/{approval['id']}/approve", headers=auth), 409, "conflict")


def test_an_expired_approval_with_default_approve_lets_the_run_go_on(client, auth):
    run = _gated(client, auth, timeout="1h", defaultAction="approve")
    advance(client, 3600)
    done = _run(client, auth, run["id"])
    assert (done["status"], done["output"]["approved"], done["output"]["status"]) == ("completed", True, "expired")


def test_the_default_timeout_is_24_hours(client, auth):
    _gated(client, auth)
    assert _pending(client, auth)[0]["expiresAt"] == "2025-05-02T00:00:00.000Z"


def test_bulk_approve_resolves_each_and_reports_the_rest(client, auth):
    first, second = _gated(client, auth), _gated(client, auth)
    ids = [a["id"] for a in _pending(client, auth)]
    response = client.post("/v1/approvals/bulk-approve", json={"ids": [*ids, APR_ID]}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body["approved"]) == sorted(ids) and all(a["status"] == "approved" for a in body["data"])
    assert body["failed"] == [{"id": APR_ID, "code": "not_found", "message": f"No approval with id '{APR_ID}'."}]
    assert {_run(client, auth, r["id"])["status"] for r in (first, second)} == {"completed"}


def test_bulk_deny_skips_already_resolved_ones(client, auth):
    _gated(client, auth)
    _gated(client, auth)
    first, second = (a["id"] for a in _pending(client, auth))
    client.post(f"/v1/approvals/{first}/approve", headers=auth)
    body = client.post("/v1/approvals/bulk-deny", json={"ids": [first, second], "reason": "no"}, headers=auth).json()
    assert body["denied"] == [second]
    assert body["failed"][0]["id"] == first and body["failed"][0]["code"] == "conflict"


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "apr_x"}, {"ids": ["a"] * 101}])
def test_bulk_with_bad_ids_is_422(client, auth, body):
    error = assert_error(client.post("/v1/approvals/bulk-approve", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert "ids" in error["message"]


def test_another_tenant_cannot_see_or_resolve_an_approval(client, auth):
    _gated(client, auth)
    (approval,) = _pending(client, auth)
    other = {"Authorization": "Bearer th_test_someone_else"}
    assert client.get("/v1/approvals", headers=other).json()["data"] == []
    assert_error(client.post(f"/v1/approvals/{approval['id']}/approve", headers=other), 404, "not_found")
    assert _pending(client, auth)[0]["status"] == "pending"
