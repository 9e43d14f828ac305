"""Triggers over HTTP: create (both body shapes), list, delete, and the public signed fire.

A fire is accepted only with `sha256=<hex HMAC-SHA256 of the raw body>` keyed with the
trigger's secret; every bad, missing, malformed or replayed-with-another-body signature is
401 and runs nothing; a body that is not JSON is 422 after the signature check. "Nothing
ran" is checked on the tenant's agents and runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from conftest import assert_error, make_session

SDK = {"X-SDK-Version": "0.1.0"}
TRG_ID = "trg_01JT4J97000000024DT7WQJ49N"  # well-formed, never created
REVIEW = {"type": "agent-run", "config": {"task": "Review the pushed code changes"}}
BODY = b'{"ref": "refs/heads/main", "commits": [{"id": "c0ffee"}]}'


def _create(client, auth, **body) -> dict:
    response = client.post("/v1/triggers", json={"name": "GitHub push handler", "action": REVIEW, **body},
                           headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _fire(client, trigger: dict, body: bytes = BODY, signature: str | None = "valid", header="X-Theazo-Signature"):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[header] = _sign(trigger["secret"], body) if signature == "valid" else signature
    return client.post(f"/v1/triggers/{trigger['id']}/fire", content=body, headers=headers)


def _agents(client, auth) -> list:
    return client.get("/v1/agents", headers=auth).json()["data"]


# ---- create, list, delete ----

def test_create_answers_the_fire_url_and_the_secret_under_both_names(client, auth):
    trigger = _create(client, auth)
    assert trigger["id"].startswith("trg_")
    assert trigger["url"] == f"http://testserver/v1/triggers/{trigger['id']}/fire"
    assert trigger["signingSecret"] == trigger["secret"]
    assert trigger["secret"].startswith("whsec_") and len(trigger["secret"]) == 54
    assert (trigger["type"], trigger["action"], trigger["userId"]) == ("webhook", REVIEW, "trigger")


def test_create_with_the_sdk_body(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "Reviewer"}, headers=auth).json()
    response = client.post("/v1/triggers", json={"name": "hook", "agent": definition["id"], "userId": "dev_1",
                                                 "type": "webhook"}, headers={**auth, **SDK})
    assert response.status_code == 201, response.text
    trigger = response.json()
    assert (trigger["agent"], trigger["userId"]) == (definition["id"], "dev_1")
    assert trigger["action"] == {"type": "agent-run", "config": {"definitionId": definition["id"], "userId": "dev_1"}}


def test_each_trigger_has_its_own_secret(client, auth):
    assert _create(client, auth)["secret"] != _create(client, auth)["secret"]


@pytest.mark.parametrize(("body", "field"), [
    ({"action": REVIEW}, "name"),
    ({"name": "x"}, "action"),
    ({"name": "x", "action": {"type": "nope"}}, "action"),
    ({"name": "x", "action": REVIEW, "type": "cron"}, "type"),
    ({"name": "x", "agent": ""}, "agent"),
])
def test_bad_create_bodies_are_422_and_store_nothing(client, auth, body, field):
    response = client.post("/v1/triggers", json=body, headers=auth)
    assert field in {d["field"] for d in assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"]}
    assert client.get("/v1/triggers", headers=auth).json()["data"] == []


def test_an_unknown_definition_is_404_at_creation(client, auth):
    response = client.post("/v1/triggers", json={"name": "x", "agent": "adef_missing"}, headers=auth)
    assert_error(response, 404, "not_found")


def test_list_never_shows_the_secret_and_speaks_both_dialects(client, auth):
    trigger = _create(client, auth)
    reference = client.get("/v1/triggers", headers=auth).json()
    assert [t["id"] for t in reference["data"]] == [trigger["id"]]
    sdk = client.get("/v1/triggers", headers={**auth, **SDK}).json()
    assert [t["id"] for t in sdk] == [trigger["id"]]
    assert trigger["secret"] not in json.dumps([reference, sdk])
    assert sdk[0]["url"] == trigger["url"]


def test_the_secret_is_not_stored_in_the_clear(client, auth, emu):
    trigger = _create(client, auth)
    [row] = emu.store.all("SELECT * FROM triggers")
    assert row["id"] == trigger["id"]  # the search below looks at the right row
    assert trigger["secret"] not in json.dumps(row)
    assert trigger["secret"][6:] not in json.dumps(row)


def test_delete_then_fire_is_404(client, auth):
    trigger = _create(client, auth)
    assert client.delete(f"/v1/triggers/{trigger['id']}", headers=auth).json() == {
        "ok": True, "id": trigger["id"], "deleted": True}
    assert trigger["id"] in assert_error(_fire(client, trigger), 404, "not_found")["error"]["message"]
    assert client.get("/v1/triggers", headers=auth).json()["data"] == []
    assert _agents(client, auth) == []


def test_another_tenant_cannot_delete_a_trigger(client, auth):
    trigger = _create(client, auth)
    assert_error(client.delete(f"/v1/triggers/{trigger['id']}", headers={"Authorization": "Bearer th_test_x"}),
                 404, "not_found")
    assert _fire(client, trigger).status_code == 202


# ---- fire ----

def test_a_signed_fire_runs_the_action_with_the_body_as_input(client, auth):
    trigger = _create(client, auth)
    response = _fire(client, trigger)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["taskId"].startswith("task_") and body["triggerId"] == trigger["id"]
    status = client.get(f"/v1/agents/{body['agentId']}/status", headers=auth).json()
    assert status["taskId"] == body["taskId"]
    assert status["task"] == ('Review the pushed code changes\n\nInput: {"commits": [{"id": "c0ffee"}], '
                              '"ref": "refs/heads/main"}')
    session = client.get(f"/v1/sessions/{body['sessionId']}", headers=auth).json()
    assert session["userId"] == "trigger"


def test_the_sdk_example_header_without_prefix_is_accepted(client, auth):
    trigger = _create(client, auth)
    signature = _sign(trigger["secret"], BODY).removeprefix("sha256=")
    assert _fire(client, trigger, signature=signature, header="X-Trigger-Signature").status_code == 202


def test_an_uppercase_hex_signature_is_accepted(client, auth):
    trigger = _create(client, auth)
    signature = "sha256=" + _sign(trigger["secret"], BODY)[7:].upper()
    assert _fire(client, trigger, signature=signature).status_code == 202


def test_any_json_value_is_an_input(client, auth):
    trigger = _create(client, auth)
    for body in (b"[1, 2]", b'"plain text"', b"42", b"null"):
        assert _fire(client, trigger, body).status_code == 202, body
    assert len(_agents(client, auth)) == 4


def _bad_signatures(secret: str) -> dict[str, str | None]:
    good = _sign(secret, BODY)
    return {
        "missing": None,
        "empty": "",
        "prefix only": "sha256=",
        "wrong secret": _sign("whsec_not_the_secret", BODY),
        "one char off": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "too short": good[:-1],
        "too long": good + "0",
        "not hex": "sha256=" + "z" * 64,
        "base64 of the mac": "sha256=" + "A" * 43 + "=",
        "other algorithm": "sha1=" + good[7:],
        "signature of another body": _sign(secret, b'{"ref": "refs/heads/evil"}'),
        "the secret itself": secret,
    }


@pytest.mark.parametrize("case", list(_bad_signatures("x")))
def test_a_bad_signature_is_401_and_runs_nothing(client, auth, case):
    trigger = _create(client, auth)
    signature = _bad_signatures(trigger["secret"])[case]
    response = _fire(client, trigger, signature=signature) if signature is not None else _fire(client, trigger,
                                                                                                 signature=None)
    body = assert_error(response, 401, "unauthorized")
    assert "X-Theazo-Signature" in body["error"]["message"]
    assert trigger["secret"] not in response.text
    assert _agents(client, auth) == []


def test_a_replayed_signature_with_an_altered_body_is_401(client, auth):
    trigger = _create(client, auth)
    signature = _sign(trigger["secret"], BODY)
    assert _fire(client, trigger, BODY, signature=signature).status_code == 202
    altered = BODY.replace(b"main", b"evil")
    assert_error(_fire(client, trigger, altered, signature=signature), 401, "unauthorized")
    assert len(_agents(client, auth)) == 1


def test_another_triggers_signature_is_401(client, auth):
    first, second = _create(client, auth), _create(client, auth)
    assert_error(_fire(client, second, signature=_sign(first["secret"], BODY)), 401, "unauthorized")


@pytest.mark.parametrize("body", [b"", b"   ", b"not json", b'{"a": 1,}', b"\xff\xfe", b"NaN", b"[" * 100_000],
                         ids=["empty", "blank", "text", "trailing comma", "not utf-8", "NaN", "deeply nested"])
def test_a_signed_body_that_is_not_json_is_422_and_runs_nothing(client, auth, body):
    trigger = _create(client, auth)
    error = assert_error(_fire(client, trigger, body), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "body"
    assert _agents(client, auth) == []


def test_an_unsigned_non_json_body_is_401_not_422(client, auth):
    trigger = _create(client, auth)
    assert_error(_fire(client, trigger, b"not json", signature=None), 401, "unauthorized")


def test_an_unknown_trigger_is_404_without_a_hint(client):
    response = client.post(f"/v1/triggers/{TRG_ID}/fire", content=BODY, headers={"X-Theazo-Signature": "sha256=00"})
    error = assert_error(response, 404, "not_found")["error"]
    assert error["message"] == f"No trigger with id '{TRG_ID}'."


def test_a_refused_action_answers_its_error_and_runs_nothing(client, auth):
    make_session(client, auth, userId="trigger", limits={"maxAgents": 0})
    trigger = _create(client, auth)
    assert_error(_fire(client, trigger), 402, "session_limit_exceeded")
    assert _agents(client, auth) == []


def test_fire_needs_no_api_key_and_ignores_one(client, auth):
    trigger = _create(client, auth)
    response = client.post(f"/v1/triggers/{trigger['id']}/fire", content=BODY,
                           headers={"X-Theazo-Signature": _sign(trigger["secret"], BODY),
                                    "Authorization": "Bearer th_live_whatever"})
    assert response.status_code == 202, response.text


def test_a_workflow_trigger_starts_a_run_with_the_body_as_input(client, auth):
    steps = [{"id": "research", "type": "agent", "agent": "researcher", "inputMap": {"topic": "$.input.ref"}}]
    workflow = client.post("/v1/workflows", json={"name": "on push", "steps": steps}, headers=auth).json()
    trigger = _create(client, auth, action={"type": "workflow-run", "config": {"workflowId": workflow["id"],
                                                                                 "userId": "ci"}})
    response = _fire(client, trigger)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["taskId"] == body["workflowRunId"] and body["taskId"].startswith("wfr_")
    run = client.get(f"/v1/workflow-runs/{body['workflowRunId']}", headers=auth).json()
    assert (run["workflowId"], run["userId"]) == (workflow["id"], "ci")
    assert run["input"] == json.loads(BODY)


# ---- agents by name ----

def test_an_agent_name_is_accepted_and_a_fire_says_how_it_resolved(client, auth):
    response = client.post("/v1/triggers", headers={**auth, **SDK}, json={
        "name": "Payments", "agent": "payment_classifier", "userId": "finance", "type": "webhook"})
    assert response.status_code == 201, response.text
    trigger = response.json()
    assert trigger["agent"] == "payment_classifier"
    fired = _fire(client, trigger)
    assert fired.status_code == 202, fired.text
    answer = fired.json()
    assert (answer["agent"], answer["agentConfig"]) == ("payment_classifier", "default")
    assert "default agent configuration" in answer["note"]
    client.post("/v1/agent-definitions", json={"name": "payment_classifier", "instructions": "Classify."},
                headers=auth)
    again = _fire(client, trigger).json()
    assert (again["agentConfig"], "note" in again) == ("definition", False)
    agent = client.get(f"/v1/agents/{again['agentId']}", headers=auth).json()
    assert agent["instructions"] == "Classify." and agent["userId"] == "finance"
