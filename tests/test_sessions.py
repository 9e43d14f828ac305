"""Sessions over HTTP: create, get-or-create by user, list and page, lifecycle, usage, limits.

Reference "Sessions" plus the SDK's session routes (sdk-compat.md §2 and §3). Every test
runs on its own tenant and the frozen clock at 2025-05-01T00:00:00Z.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from conftest import START, advance, assert_error, make_agent, make_session

from theazo_emu.core.clock import iso, parse_iso

SES_ID = "ses_01JT4J97000000012Y7ZM38QJT"  # well-formed, never created by these tests' tenants


def _run(client, auth, agent_id: str, task: str = "summarise the news") -> dict:
    response = client.post(f"/v1/agents/{agent_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _by_user(client, auth, user_id: str, **body):
    return client.post(f"/v1/sessions/by-user/{quote(user_id, safe='')}", json=body or None, headers=auth)


def _list(client, auth, **query) -> dict:
    response = client.get("/v1/sessions", params=query, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


# ---- POST /v1/sessions ----

def test_create_session_answers_201_with_the_session_object(client, auth):
    response = client.post("/v1/sessions", json={"userId": "user_123"}, headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("ses_")
    assert body["userId"] == "user_123"
    assert body["status"] == "active"
    assert body["environment"] == "development"
    assert body["metadata"] == {} and body["limits"] == {}
    assert body["createdAt"] == "2025-05-01T00:00:00.000Z"
    assert body["pausedAt"] is None and body["terminatedAt"] is None


def test_create_session_keeps_reference_limits_and_metadata(client, auth):
    limits = {"maxCost": {"amount": 500, "currency": "usd", "period": "day"}, "maxAgents": 3,
              "maxComputeMinutes": 60}
    body = make_session(client, auth, limits=limits, metadata={"plan": "pro"})
    assert body["limits"] == limits
    assert body["metadata"] == {"plan": "pro"}


def test_create_session_accepts_sdk_limits_with_max_duration_and_environment(client, auth):
    body = make_session(client, auth, environment="staging",
                        limits={"maxCost": {"amount": 1000, "currency": "usd", "period": "month"},
                                "maxDuration": {"hours": 2}})
    assert body["environment"] == "staging"
    assert body["limits"]["maxCost"] == {"amount": 1000, "currency": "usd", "period": "month"}
    assert body["limits"]["maxDuration"] == {"hours": 2}


def test_create_session_defaults_max_cost_period_to_session(client, auth):
    body = make_session(client, auth, limits={"maxCost": {"amount": 100}})
    assert body["limits"]["maxCost"] == {"amount": 100, "currency": "usd", "period": "session"}


def test_create_session_metadata_is_returned_on_list(client, auth):
    make_session(client, auth, metadata={"plan": "pro", "team": "ml"})
    assert _list(client, auth)["data"][0]["metadata"] == {"plan": "pro", "team": "ml"}


def test_create_session_rejects_unknown_environment(client, auth):
    response = client.post("/v1/sessions", json={"userId": "u", "environment": "prod"}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert "environment" in body["error"]["message"]
    assert [d["field"] for d in body["error"]["details"]["fields"]] == ["environment"]


def test_create_session_rejects_unknown_max_cost_period(client, auth):
    response = client.post("/v1/sessions", json={"userId": "u", "limits": {"maxCost": {"amount": 5, "period": "year"}}},
                           headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "limits.maxCost.period"


def test_create_session_rejects_negative_max_agents(client, auth):
    response = client.post("/v1/sessions", json={"userId": "u", "limits": {"maxAgents": -1}}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "limits.maxAgents"


def test_create_session_rejects_empty_user_id(client, auth):
    response = client.post("/v1/sessions", json={"userId": ""}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "userId"
    assert "characters" in body["error"]["details"]["fields"][0]["message"]


# ---- POST /v1/sessions/by-user/:userId ----

def test_by_user_creates_with_201_then_returns_the_same_session_with_200(client, auth):
    first = _by_user(client, auth, "user_42")
    second = _by_user(client, auth, "user_42")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()


def test_by_user_options_apply_only_on_creation(client, auth):
    created = _by_user(client, auth, "user_42", limits={"maxAgents": 2}, metadata={"plan": "pro"}).json()
    again = _by_user(client, auth, "user_42", limits={"maxAgents": 9}, metadata={"plan": "free"}, environment="production")
    assert again.status_code == 200
    assert again.json()["limits"] == {"maxAgents": 2}
    assert again.json()["metadata"] == {"plan": "pro"}
    assert again.json()["environment"] == created["environment"] == "development"


def test_by_user_without_body_creates_a_plain_session(client, auth):
    response = client.post("/v1/sessions/by-user/user_7", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.json()["userId"] == "user_7"
    assert response.json()["limits"] == {}


@pytest.mark.parametrize("user_id", ["josé", "team/alice", "a b+c@example.com", "ユーザー"])
def test_by_user_decodes_url_encoded_user_ids(client, auth, user_id):
    response = _by_user(client, auth, user_id)
    assert response.status_code == 201
    assert response.json()["userId"] == user_id
    assert _by_user(client, auth, user_id).json()["id"] == response.json()["id"]


def test_by_user_distinguishes_users_that_differ_only_after_a_slash(client, auth):
    first = _by_user(client, auth, "org/alice").json()
    second = _by_user(client, auth, "org/bob").json()
    assert first["id"] != second["id"]
    assert (first["userId"], second["userId"]) == ("org/alice", "org/bob")


def test_by_user_finds_a_session_created_with_post_sessions(client, auth):
    session = make_session(client, auth, userId="josé")
    response = _by_user(client, auth, "josé")
    assert response.status_code == 200
    assert response.json()["id"] == session["id"]


def test_by_user_twenty_sequential_calls_give_one_session(client, auth):
    ids = {_by_user(client, auth, "user_many").json()["id"] for _ in range(20)}
    assert len(ids) == 1
    assert len(_list(client, auth, limit=100)["data"]) == 1


def test_by_user_creates_a_new_session_after_the_old_one_was_terminated(client, auth):
    old = _by_user(client, auth, "user_1").json()
    client.post(f"/v1/sessions/{old['id']}/terminate", headers=auth)
    response = _by_user(client, auth, "user_1")
    assert response.status_code == 201
    assert response.json()["id"] != old["id"]


def test_by_user_rejects_a_user_id_with_control_characters(client, auth):
    response = client.post("/v1/sessions/by-user/bad%09id", headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"] == [{"field": "userId", "message": "must not contain control characters", "type": "value_error"}]


def test_by_user_rejects_a_user_id_longer_than_256_characters(client, auth):
    body = assert_error(_by_user(client, auth, "x" * 257), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"] == [{"field": "userId", "message": "must be 1 to 256 characters", "type": "value_error"}]
    assert _by_user(client, auth, "x" * 256).status_code == 201


def test_by_user_rejects_invalid_options(client, auth):
    response = _by_user(client, auth, "user_1", limits={"maxAgents": "many"})
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "limits.maxAgents"
    assert _list(client, auth)["data"] == []


# ---- GET /v1/sessions ----

def test_list_sessions_is_empty_for_a_new_tenant(client, auth):
    assert _list(client, auth) == {"data": [], "nextCursor": None, "cursor": "", "hasMore": False}


def test_list_sessions_pages_through_everything_without_duplicates_or_gaps(client, auth):
    created = [make_session(client, auth, userId=f"user_{i}")["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        page = _list(client, auth, limit=3, **({"cursor": cursor} if cursor else {}))
        pages += 1
        seen += [s["id"] for s in page["data"]]
        assert (page["nextCursor"] or "") == page["cursor"]
        assert page["hasMore"] is (page["nextCursor"] is not None)
        if not page["hasMore"]:
            break
        cursor = page["nextCursor"]
    assert pages == 3
    assert seen == list(reversed(created))


def test_list_sessions_last_full_page_has_no_more(client, auth):
    for i in range(4):
        make_session(client, auth, userId=f"user_{i}")
    first = _list(client, auth, limit=2)
    second = _list(client, auth, limit=2, cursor=first["nextCursor"])
    assert first["hasMore"] is True and len(first["data"]) == 2
    assert second["hasMore"] is False and len(second["data"]) == 2
    assert second["nextCursor"] is None and second["cursor"] == ""


def test_list_sessions_filters_by_status(client, auth):
    active = make_session(client, auth, userId="a")
    paused = make_session(client, auth, userId="b")
    client.post(f"/v1/sessions/{paused['id']}/pause", headers=auth)
    assert [s["id"] for s in _list(client, auth, status="paused")["data"]] == [paused["id"]]
    assert [s["id"] for s in _list(client, auth, status="active")["data"]] == [active["id"]]
    assert _list(client, auth, status="terminated")["data"] == []


def test_list_sessions_filters_by_created_after(client, auth):
    make_session(client, auth, userId="early")
    advance(client, 60)
    late = make_session(client, auth, userId="late")
    page = _list(client, auth, createdAfter="2025-05-01T00:00:30Z")
    assert [s["id"] for s in page["data"]] == [late["id"]]


def test_list_sessions_does_not_show_other_tenants(client, auth):
    make_session(client, auth)
    assert _list(client, {"Authorization": "Bearer th_test_someone_else"})["data"] == []


@pytest.mark.parametrize("cursor", ["garbage", "cur_", "cur_ses_short", f"ses_{'0' * 26}", "cur_agt_01JT4J97000000024DT7WQJ49N"])
def test_list_sessions_rejects_a_bad_cursor(client, auth, cursor):
    body = assert_error(client.get("/v1/sessions", params={"cursor": cursor}, headers=auth), 422, "unprocessable_entity")
    assert "cursor" in body["error"]["message"]
    assert body["error"]["details"]["fields"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "-1", "101", str(10**12), "abc", "1.5"])
def test_list_sessions_rejects_a_bad_limit(client, auth, limit):
    body = assert_error(client.get("/v1/sessions", params={"limit": limit}, headers=auth), 422, "unprocessable_entity")
    assert "limit" in body["error"]["message"]
    assert body["error"]["details"]["fields"][0]["field"] == "limit"


def test_list_sessions_accepts_the_limit_bounds(client, auth):
    make_session(client, auth)
    assert len(_list(client, auth, limit=1)["data"]) == 1
    assert len(_list(client, auth, limit=100)["data"]) == 1


def test_list_sessions_rejects_an_unknown_status(client, auth):
    body = assert_error(client.get("/v1/sessions?status=sleeping", headers=auth), 422, "unprocessable_entity")
    assert "status" in body["error"]["message"]


def test_list_sessions_rejects_a_malformed_created_after(client, auth):
    body = assert_error(client.get("/v1/sessions?createdAfter=yesterday", headers=auth), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "createdAfter"


# ---- GET /v1/sessions/:id ----

def test_get_session_returns_what_create_returned(client, auth):
    session = make_session(client, auth, metadata={"k": "v"})
    response = client.get(f"/v1/sessions/{session['id']}", headers=auth)
    assert response.status_code == 200
    assert response.json() == session


def test_get_unknown_session_is_404(client, auth):
    body = assert_error(client.get(f"/v1/sessions/{SES_ID}", headers=auth), 404, "not_found")
    assert SES_ID in body["error"]["message"]


# ---- pause / resume / terminate ----

def test_pause_session_sets_status_and_paused_at(client, auth):
    session = make_session(client, auth)
    advance(client, 5)
    response = client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    assert response.json()["pausedAt"] == "2025-05-01T00:00:05.000Z"


def test_resume_session_makes_it_active_again(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/resume", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["pausedAt"] is None


def test_resume_active_session_is_409(client, auth):
    session = make_session(client, auth)
    body = assert_error(client.post(f"/v1/sessions/{session['id']}/resume", headers=auth), 409, "conflict")
    assert "not paused" in body["error"]["message"]


def test_pause_paused_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    body = assert_error(client.post(f"/v1/sessions/{session['id']}/pause", headers=auth), 409, "conflict")
    assert "paused" in body["error"]["message"]


def test_terminate_session_sets_status_and_terminated_at(client, auth):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    assert response.json()["terminatedAt"] == "2025-05-01T00:00:00.000Z"


def test_terminate_paused_session_is_allowed(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    assert client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth).json()["status"] == "terminated"


def test_second_terminate_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    body = assert_error(client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth), 409, "conflict")
    assert "already terminated" in body["error"]["message"]


def test_pause_terminated_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    body = assert_error(client.post(f"/v1/sessions/{session['id']}/pause", headers=auth), 409, "conflict")
    assert "terminated" in body["error"]["message"]


def test_resume_terminated_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    body = assert_error(client.post(f"/v1/sessions/{session['id']}/resume", headers=auth), 409, "conflict")
    assert "terminated" in body["error"]["message"]


def test_terminate_session_terminates_its_agents(client, auth):
    session = make_session(client, auth)
    idle = make_agent(client, auth, session["id"])
    busy = make_agent(client, auth, session["id"])
    _run(client, auth, busy["id"])
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    for agent in (idle, busy):
        assert client.get(f"/v1/agents/{agent['id']}", headers=auth).json()["status"] == "terminated"


def test_paused_session_refuses_new_agents(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=auth)
    body = assert_error(response, 409, "conflict")
    assert "paused" in body["error"]["message"]


def test_pause_unknown_session_is_404(client, auth):
    assert_error(client.post(f"/v1/sessions/{SES_ID}/pause", headers=auth), 404, "not_found")


# ---- GET /usage ----

def test_usage_of_a_new_session_is_zero(client, auth):
    session = make_session(client, auth)
    body = client.get(f"/v1/sessions/{session['id']}/usage", headers=auth).json()
    assert body["sessionId"] == session["id"]
    assert body["cost"] == {"amount": 0, "currency": "usd"}
    assert body["computeMinutes"] == 0
    assert body["activeAgents"] == 0 and body["totalAgentsCreated"] == 0


def test_usage_counts_agents_and_run_costs(client, auth):
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"])
    make_agent(client, auth, session["id"])
    run = _run(client, auth, agent["id"])
    client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth)
    body = client.get(f"/v1/sessions/{session['id']}/usage", headers=auth).json()
    assert body["cost"] == run["cost"]
    assert body["compute"]["cost"]["amount"] + body["models"]["cost"]["amount"] + body["storage"]["cost"]["amount"] \
        == body["cost"]["amount"]
    assert body["computeMinutes"] == body["compute"]["minutes"] == 1
    assert body["models"]["inputTokens"] == run["usage"]["inputTokens"]
    assert body["activeAgents"] == 1 and body["totalAgentsCreated"] == 2


def test_usage_of_unknown_session_is_404(client, auth):
    assert_error(client.get(f"/v1/sessions/{SES_ID}/usage", headers=auth), 404, "not_found")


# ---- GET / PATCH /limits ----

def test_get_limits_is_empty_without_limits(client, auth):
    session = make_session(client, auth)
    response = client.get(f"/v1/sessions/{session['id']}/limits", headers=auth)
    assert response.status_code == 200
    assert response.json() == {}


def test_get_limits_shows_limit_used_remaining_and_percentage(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 4, "maxCost": {"amount": 200, "period": "day"},
                                                 "maxComputeMinutes": 10})
    make_agent(client, auth, session["id"])
    body = client.get(f"/v1/sessions/{session['id']}/limits", headers=auth).json()
    assert body["maxAgents"] == {"limit": 4, "used": 1, "remaining": 3, "percentage": 25.0}
    assert body["maxCost"] == {"limit": 200, "used": 0, "remaining": 200, "percentage": 0.0, "currency": "usd",
                               "period": "day"}
    assert body["maxComputeMinutes"]["used"] == 0
    assert body["maxComputeMinutes"]["remaining"] == 10


def test_patch_limits_adds_and_changes_limits(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1})
    response = client.patch(f"/v1/sessions/{session['id']}/limits", json={"maxAgents": 5, "maxComputeMinutes": 30},
                            headers=auth)
    assert response.status_code == 200
    assert response.json()["maxAgents"]["limit"] == 5
    assert response.json()["maxComputeMinutes"]["limit"] == 30
    assert client.get(f"/v1/sessions/{session['id']}", headers=auth).json()["limits"] == \
        {"maxAgents": 5, "maxComputeMinutes": 30}


def test_patch_limits_leaves_unmentioned_limits_alone(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1, "maxCost": {"amount": 50}})
    client.patch(f"/v1/sessions/{session['id']}/limits", json={"maxAgents": 2}, headers=auth)
    limits = client.get(f"/v1/sessions/{session['id']}", headers=auth).json()["limits"]
    assert limits["maxCost"] == {"amount": 50, "currency": "usd", "period": "session"}


def test_patch_limits_null_removes_a_limit(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1, "maxComputeMinutes": 5})
    response = client.patch(f"/v1/sessions/{session['id']}/limits", json={"maxAgents": None}, headers=auth)
    assert "maxAgents" not in response.json()
    assert "maxComputeMinutes" in response.json()
    make_agent(client, auth, session["id"])
    make_agent(client, auth, session["id"])


def test_patch_limits_rejects_invalid_values_and_keeps_the_old_ones(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1})
    response = client.patch(f"/v1/sessions/{session['id']}/limits", json={"maxAgents": -3}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "maxAgents"
    assert client.get(f"/v1/sessions/{session['id']}", headers=auth).json()["limits"] == {"maxAgents": 1}


# ---- limits enforcement ----

def test_max_agents_refuses_the_next_agent_with_402(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 2})
    make_agent(client, auth, session["id"])
    make_agent(client, auth, session["id"])
    response = client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=auth)
    body = assert_error(response, 402, "session_limit_exceeded")
    assert "maxAgents" in body["error"]["message"]
    details = body["error"]["details"]
    assert (details["limit"], details["used"], details["remaining"]) == ("maxAgents", 2, 0)


def test_max_agents_counts_only_agents_that_are_not_terminated(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1})
    agent = make_agent(client, auth, session["id"])
    client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth)
    make_agent(client, auth, session["id"])


def test_max_cost_refuses_a_run_once_spent_reaches_the_limit(client, auth):
    session = make_session(client, auth, limits={"maxCost": {"amount": 1, "currency": "usd"}})
    agent = make_agent(client, auth, session["id"])
    first = _run(client, auth, agent["id"])
    advance(client, first["durationMs"] / 1000)
    response = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "again"}, headers=auth)
    body = assert_error(response, 402, "session_limit_exceeded")
    assert "maxCost" in body["error"]["message"]
    details = body["error"]["details"]
    assert (details["limit"], details["used"], details["remaining"]) == ("maxCost", first["cost"]["amount"], 0)


def test_max_cost_exactly_reached_refuses_and_one_cent_more_allows(client, auth):
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"])
    spent = _run(client, auth, agent["id"])["cost"]["amount"]
    advance(client, 3600)
    limits_url = f"/v1/sessions/{session['id']}/limits"
    client.patch(limits_url, json={"maxCost": {"amount": spent}}, headers=auth)
    assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth),
                 402, "session_limit_exceeded")
    client.patch(limits_url, json={"maxCost": {"amount": spent + 1}}, headers=auth)
    _run(client, auth, agent["id"], "x")


def test_max_cost_per_day_resets_the_next_day(client, auth):
    session = make_session(client, auth, limits={"maxCost": {"amount": 1, "period": "day"}})
    agent = make_agent(client, auth, session["id"])
    _run(client, auth, agent["id"])
    advance(client, 86_400)
    _run(client, auth, agent["id"], "tomorrow's task")


def test_max_compute_minutes_refuses_a_run_once_reached(client, auth):
    session = make_session(client, auth, limits={"maxComputeMinutes": 1})
    first, second = make_agent(client, auth, session["id"]), make_agent(client, auth, session["id"])
    _run(client, auth, first["id"])  # books one started minute
    response = client.post(f"/v1/agents/{second['id']}/run", json={"task": "x"}, headers=auth)
    body = assert_error(response, 402, "session_limit_exceeded")
    assert "maxComputeMinutes" in body["error"]["message"]
    assert body["error"]["details"]["limit"] == "maxComputeMinutes"
    assert body["error"]["details"]["remaining"] == 0


def test_session_reads_paused_once_the_compute_limit_is_reached(client, auth):
    session = make_session(client, auth, limits={"maxComputeMinutes": 1})
    agent = make_agent(client, auth, session["id"])
    run = _run(client, auth, agent["id"])
    assert client.get(f"/v1/sessions/{session['id']}", headers=auth).json()["status"] == "active"
    advance(client, run["durationMs"] / 1000 + 1)
    body = client.get(f"/v1/sessions/{session['id']}", headers=auth).json()
    assert body["status"] == "paused"
    assert body["pausedAt"] == iso(parse_iso(START) + run["durationMs"])  # the instant the run ended
    assert [s["id"] for s in _list(client, auth, status="paused")["data"]] == [session["id"]]


def test_resume_over_the_compute_limit_is_402(client, auth):
    session = make_session(client, auth, limits={"maxComputeMinutes": 1})
    run = _run(client, auth, make_agent(client, auth, session["id"])["id"])
    advance(client, run["durationMs"] / 1000 + 1)
    response = client.post(f"/v1/sessions/{session['id']}/resume", headers=auth)
    body = assert_error(response, 402, "session_limit_exceeded")
    assert "maxComputeMinutes" in body["error"]["message"]
    assert client.get(f"/v1/sessions/{session['id']}", headers=auth).json()["status"] == "paused"


def test_resume_is_allowed_after_raising_the_compute_limit(client, auth):
    session = make_session(client, auth, limits={"maxComputeMinutes": 1})
    agent = make_agent(client, auth, session["id"])
    run = _run(client, auth, agent["id"])
    advance(client, run["durationMs"] / 1000 + 1)
    client.patch(f"/v1/sessions/{session['id']}/limits", json={"maxComputeMinutes": 10}, headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/resume", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    _run(client, auth, agent["id"], "more work")
