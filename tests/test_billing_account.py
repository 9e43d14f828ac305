"""The billing account over HTTP: budgets (status from the ledger, user budgets enforced with
402 like session limits, pause_all alerts), credits, subscription through the checkout and
portal pages this emulator serves, and budget alerts delivered to webhooks."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import advance, assert_error, make_agent, make_session
from receiver import receiver

SDK = {"X-SDK-Version": "0.1.0"}
OTHER = {"Authorization": "Bearer th_test_another_tenant"}


def spend(client, auth, user="user_1") -> dict:
    """One run for `user`; its settled result (its cost is booked at once)."""
    agent = make_agent(client, auth, make_session(client, auth, userId=user)["id"])
    response = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Summarize"}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_budget_before_any_is_set(client, auth):
    body = client.get("/v1/billing/budget", headers=auth).json()
    assert body == {"budget": {"amount": 0, "currency": "usd"}, "spent": {"amount": 0, "currency": "usd"},
                    "remaining": {"amount": 0, "currency": "usd"}, "percentage": 0, "alerts": [], "configured": False}


def test_the_budget_status_reads_the_ledger(client, auth):
    cost = spend(client, auth)["cost"]["amount"]
    response = client.post("/v1/billing/budget", headers=auth, json={
        "monthly": {"amount": 1000, "currency": "usd"},
        "alerts": [{"threshold": 0.5, "channel": "webhook", "action": "pause_user"}, {"threshold": 0.0001}]})
    assert response.status_code == 200, response.text
    body = client.get("/v1/billing/budget", headers=auth).json()
    assert body["budget"]["amount"] == 1000 and body["spent"]["amount"] == cost
    assert body["remaining"]["amount"] == 1000 - cost and body["percentage"] == round(100 * cost / 1000, 2)
    assert body["alerts"] == [{"threshold": 0.5, "channel": "webhook", "action": "pause_user", "fired": False},
                              {"threshold": 0.0001, "fired": True}]
    usage = client.get("/v1/usage/summary", params={"period": "month"}, headers=auth).json()
    assert body["spent"] == usage["total"]


def test_a_user_past_the_user_budget_is_refused_with_402(client, auth):
    cost = spend(client, auth, "heavy")["cost"]["amount"]
    client.post("/v1/billing/user-budget", json={"monthly": {"amount": cost, "currency": "usd"}}, headers=auth)
    agent = make_agent(client, auth, make_session(client, auth, userId="heavy")["id"])
    response = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "more"}, headers=auth)
    body = assert_error(response, 402, "session_limit_exceeded")
    assert body["error"]["details"] | {"sessionId": None} == {"limit": "userBudget", "max": cost, "used": cost,
                                                              "remaining": 0, "userId": "heavy", "sessionId": None}
    assert client.get("/v1/usage/summary", headers=auth).json()["total"]["amount"] == cost  # nothing booked
    assert spend(client, auth, "light")["cost"]["amount"] > 0  # other users run on
    status = client.get("/v1/billing/budget", params={"userId": "heavy"}, headers=auth).json()
    assert status["budget"]["amount"] == cost and status["spent"]["amount"] == cost and status["userId"] == "heavy"


def test_the_user_budget_is_monthly(client, auth):
    cost = spend(client, auth)["cost"]["amount"]
    client.post("/v1/billing/user-budget", json={"monthly": {"amount": cost}}, headers=auth)
    agent = make_agent(client, auth, make_session(client, auth)["id"])
    assert client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth).status_code == 402
    client.post("/_emu/clock/advance", json={"to": "2025-06-01T00:00:00Z"})
    assert client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth).status_code == 202


def test_a_reached_pause_all_alert_stops_every_run(client, auth):
    cost = spend(client, auth)["cost"]["amount"]
    client.post("/v1/billing/budget", headers=auth, json={
        "monthly": {"amount": cost * 2}, "alerts": [{"threshold": 0.5, "action": "pause_all"}]})
    agent = make_agent(client, auth, make_session(client, auth, userId="anyone")["id"])
    body = assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 402,
                        "session_limit_exceeded")
    assert body["error"]["details"]["limit"] == "monthlyBudget"
    client.post("/v1/billing/budget", json={"monthly": {"amount": cost * 2}}, headers=auth)  # alerts removed
    assert client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth).status_code == 202


def test_a_run_crossing_an_alert_threshold_is_announced_to_webhooks(client, auth):
    with receiver() as hook:
        client.post("/v1/webhooks", json={"url": hook.url, "events": ["budget.alert"]}, headers=auth)
        client.post("/v1/billing/budget", headers=auth, json={
            "monthly": {"amount": 1}, "alerts": [{"threshold": 0.5, "channel": "webhook"}, {"threshold": 1.0}]})
        result = spend(client, auth)
        requests = hook.wait_for(2)
        spend(client, auth)  # already past both thresholds: nothing more
        advance(client, 1)
    assert [r.json()["data"]["threshold"] for r in requests] == [0.5, 1.0]
    assert requests[0].json()["data"]["taskId"] == result["taskId"]
    assert len(hook.requests) == 2


def test_credits_are_the_plans_included_cents_minus_the_spend(client, auth):
    assert client.get("/v1/billing/credits", headers=auth).json() == {
        "credits": 500, "currency": "usd", "plan": "free", "included": 500, "used": 0}
    cost = spend(client, auth)["cost"]["amount"]
    assert client.get("/v1/billing/credits", headers=auth).json()["credits"] == 500 - cost


def test_no_subscription_reads_null(client, auth):
    response = client.get("/v1/billing/subscription", headers={**auth, **SDK})
    assert response.status_code == 200 and response.content == b"null"


def test_checkout_then_pay_starts_a_subscription(client, auth):
    response = client.post("/v1/billing/checkout", headers=auth, json={
        "plan": "pro", "successUrl": "https://app.example.com/ok?x=1", "cancelUrl": "https://app.example.com/no"})
    assert response.status_code == 201, response.text
    checkout = response.json()
    assert checkout["url"] == f"http://testserver/v1/billing/checkout/{checkout['id']}"
    assert checkout["amount"] == {"amount": 9900, "currency": "usd"}
    page = client.get(local(checkout["url"]))  # no key: the checkout id is the credential
    assert page.status_code == 200 and "pro plan" in page.text and 'value="pay"' in page.text
    paid = client.post(local(checkout["url"]), data={"action": "pay"}, follow_redirects=False)
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://app.example.com/ok?x=1&checkout_id={checkout['id']}"
    sub = client.get("/v1/billing/subscription", headers=auth).json()
    assert sub["id"].startswith("sub_") and sub | {"id": None} == {
        "id": None, "plan": "pro", "status": "active", "currentPeriodStart": "2025-05-01T00:00:00.000Z",
        "currentPeriodEnd": "2025-06-01T00:00:00.000Z", "cancelAtPeriodEnd": False}
    assert client.get("/v1/billing/credits", headers=auth).json()["plan"] == "pro"
    assert_error(client.post(local(checkout["url"]), follow_redirects=False), 409, "conflict")  # used once
    advance(client, 40 * 86_400)
    renewed = client.get("/v1/billing/subscription", headers=auth).json()
    assert renewed["currentPeriodStart"] == "2025-06-01T00:00:00.000Z" and renewed["status"] == "active"


def test_a_cancelled_or_expired_checkout_starts_nothing(client, auth):
    body = {"plan": "enterprise", "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no"}
    first = client.post("/v1/billing/checkout", json=body, headers=auth).json()
    cancelled = client.post(local(first["url"]), json={"action": "cancel"}, follow_redirects=False)
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "https://a.example/no"
    second = client.post("/v1/billing/checkout", json=body, headers=auth).json()
    advance(client, 86_400)
    assert_error(client.get(local(second["url"])), 409, "conflict")
    assert_error(client.post(local(second["url"]), follow_redirects=False), 409, "conflict")
    assert_error(client.get("/v1/billing/checkout/cs_unknown"), 404, "not_found")
    assert client.get("/v1/billing/subscription", headers=auth).json() is None


def test_the_portal_cancels_at_period_end_and_resumes(client, auth):
    checkout = client.post("/v1/billing/checkout", headers=auth, json={
        "plan": "pro", "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no"}).json()
    client.post(local(checkout["url"]), follow_redirects=False)
    portal = client.get("/v1/billing/portal", headers=auth).json()
    assert portal["url"].startswith("http://testserver/v1/billing/portal/tn_")
    page = client.get(local(portal["url"]))
    assert page.status_code == 200 and "Plan: pro (active)" in page.text
    done = client.post(local(portal["url"]), data={"action": "cancel"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == local(portal["url"])
    assert client.get("/v1/billing/subscription", headers=auth).json()["cancelAtPeriodEnd"] is True
    client.post(local(portal["url"]), data={"action": "resume"}, follow_redirects=False)
    assert client.get("/v1/billing/subscription", headers=auth).json()["cancelAtPeriodEnd"] is False
    client.post(local(portal["url"]), data={"action": "cancel"}, follow_redirects=False)
    advance(client, 31 * 86_400)
    ended = client.get("/v1/billing/subscription", headers=auth).json()
    assert ended["status"] == "cancelled" and ended["currentPeriodEnd"] == "2025-06-01T00:00:00.000Z"
    assert client.get("/v1/billing/credits", headers=auth).json()["plan"] == "free"


def test_a_forged_or_stale_portal_url_is_403(client, auth):
    url = local(client.get("/v1/billing/portal", headers=auth).json()["url"])
    path, _, query = url.partition("?")
    other_tenant = "/v1/billing/portal/tn_000000000000000000000000"
    for bad in (path, f"{path}?{query.replace('signature=', 'signature=0')}", f"{other_tenant}?{query}"):
        assert_error(client.get(bad), 403, "forbidden")
    advance(client, 3601)
    assert_error(client.get(url), 403, "forbidden")


def test_tenants_have_their_own_accounts(client, auth):
    client.post("/v1/billing/budget", json={"monthly": {"amount": 5}}, headers=auth)
    assert client.get("/v1/billing/budget", headers=OTHER).json()["configured"] is False
    checkout = client.post("/v1/billing/checkout", headers=auth, json={
        "plan": "pro", "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no"}).json()
    client.post(local(checkout["url"]), follow_redirects=False)
    assert client.get("/v1/billing/subscription", headers=OTHER).json() is None


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/billing/budget", {}, "monthly"), ("/v1/billing/budget", {"monthly": {"amount": -1}}, "monthly.amount"),
    ("/v1/billing/budget", {"monthly": 100}, "monthly"),
    ("/v1/billing/budget", {"monthly": {"amount": 1}, "alerts": [{"threshold": 1.5}]}, "alerts.0.threshold"),
    ("/v1/billing/budget", {"monthly": {"amount": 1}, "alerts": [{"threshold": 0.5, "action": "panic"}]},
     "alerts.0.action"),
    ("/v1/billing/user-budget", {"monthly": {"amount": "lots"}}, "monthly.amount"),
    ("/v1/billing/checkout", {"plan": "gold", "successUrl": "https://a", "cancelUrl": "https://b"}, "plan"),
    ("/v1/billing/checkout", {"plan": "pro", "successUrl": "not a url", "cancelUrl": "https://b"}, "successUrl"),
    ("/v1/billing/checkout", {"plan": "free", "successUrl": "https://a", "cancelUrl": "https://b"}, "plan"),
])
def test_bad_bodies_are_422_and_change_nothing(client, auth, path, body, field):
    error = assert_error(client.post(path, json=body, headers=auth), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get("/v1/billing/budget", headers=auth).json()["configured"] is False
    assert client.get("/v1/billing/subscription", headers=auth).json() is None


def test_bad_page_actions_are_422(client, auth):
    checkout = client.post("/v1/billing/checkout", headers=auth, json={
        "plan": "pro", "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no"}).json()
    assert_error(client.post(local(checkout["url"]), json={"action": "steal"}), 422, "unprocessable_entity")
    assert_error(client.post(local(checkout["url"]), content=b"{bad", headers={"Content-Type": "application/json"}),
                 422, "unprocessable_entity")
    assert client.get("/v1/billing/subscription", headers=auth).json() is None
