"""Usage and billing views over HTTP, all aggregates of one ledger: /v1/billing/usage(/daily,
/users, /models), the SDK's /v1/usage/users/:id, /daily, /by-provider, /export, and the
consistency of every view (with /v1/usage/summary and session usage) after a mixed workload
spread over users, sessions, models, providers and days. Bad windows and limits are 422.
"""

from __future__ import annotations

import csv
import io
import math

import pytest
from conftest import START, advance, assert_error, make_agent, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.core.auth import tenant_of
from theazo_emu.core.clock import parse_iso
from theazo_emu.settings import Settings
from theazo_emu.theazo.domain import ledger

SDK = {"X-SDK-Version": "0.1.0"}
DAY = 86_400


def _get(client, auth, path: str, headers=None, **query):
    response = client.get(path, params=query, headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _run(client, auth, agent_id: str, task: str) -> dict:
    response = client.post(f"/v1/agents/{agent_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _storage(emu, key: str, session: dict, gb: float, cents: int) -> None:
    """A storage charge as a files/knowledge family would book it: user and session, no model."""
    ledger.book(emu.tenant(tenant_of(key)).store, ledger.charge(
        tenant_of(key), emu.clock.now_ms(), "storage", cents, quantity=gb, user_id=session["userId"],
        session_id=session["id"]))


def _workload(client, auth, emu, key) -> dict:
    """Three users, four sessions, four models, three providers, runs on May 1, 2 and 4
    (none on May 3), and one storage charge. Returns what was booked, by hand."""
    a1, a2 = make_session(client, auth, userId="alice"), make_session(client, auth, userId="alice")
    bob, carol = make_session(client, auth, userId="bob"), make_session(client, auth, userId="carol")
    agents = [
        make_agent(client, auth, a1["id"]),
        make_agent(client, auth, a2["id"], model="openai/gpt-4o", provider="fly"),
        make_agent(client, auth, bob["id"], model={"id": "gpt-4o-mini"}, compute={"provider": "e2b"}),
        make_agent(client, auth, carol["id"], model="claude-opus-4-20250514", provider="fly"),
    ]
    costs = []
    for day in range(3):
        for n, agent in enumerate(agents):
            if (day + n) % 3 != 2:  # not every agent every day
                costs.append(_run(client, auth, agent["id"], f"day {day} job {n}")["cost"]["amount"])
        advance(client, DAY if day != 1 else 2 * DAY)
    _storage(emu, key, bob, 0.4, 4)
    return {"sessions": [a1, a2, bob, carol], "runs": costs, "total": sum(costs) + 4}


def _amount(cost: dict) -> int:
    assert cost["currency"] == "usd"
    assert isinstance(cost["amount"], int)
    return cost["amount"]


# ---- the consistency of every view ----

def test_every_view_of_a_mixed_workload_adds_up_to_the_same_total(client, auth, emu, key):
    booked = _workload(client, auth, emu, key)
    window = {"from": "2025-05-01"}
    total = booked["total"]

    summary = _get(client, auth, "/v1/usage/summary", **window)
    billing = _get(client, auth, "/v1/billing/usage", **window)
    daily = _get(client, auth, "/v1/billing/usage/daily", **window)["data"]
    users = _get(client, auth, "/v1/billing/usage/users", **window)["data"]
    models = _get(client, auth, "/v1/billing/usage/models", **window)["data"]
    sdk_daily = _get(client, auth, "/v1/usage/daily", SDK, **window)
    providers = _get(client, auth, "/v1/usage/by-provider", **window)
    export = _get(client, auth, "/v1/usage/export", **window)
    per_user = {u["userId"]: _get(client, auth, f"/v1/usage/users/{u['userId']}", SDK, **window) for u in users}
    sessions = [_get(client, auth, f"/v1/sessions/{s['id']}/usage") for s in booked["sessions"]]

    assert _amount(summary["total"]) == _amount(summary["totalCost"]) == total
    assert _amount(billing["totalCost"]) == total
    assert sum(_amount(d["cost"]) for d in daily) == total
    assert sum(_amount(d["cost"]) for d in sdk_daily) == total
    assert sum(_amount(u["cost"]) for u in users) == total
    assert sum(_amount(m["cost"]) for m in models) == total
    assert sum(_amount(c) for c in providers.values()) == total
    assert _amount(export["total"]) == sum(_amount(line["cost"]) for line in export["data"]) == total
    assert sum(_amount(u["total"]) for u in per_user.values()) == total
    assert sum(_amount(s["cost"]) for s in sessions) == total
    for body in per_user.values():
        assert sum(_amount(day["total"]) for day in body["breakdown"]) == _amount(body["total"])

    minutes = summary["compute"]["minutes"]
    assert billing["computeMinutes"] == minutes == sum(d["computeMinutes"] for d in sdk_daily)
    assert sum(u["computeMinutes"] for u in users) == sum(m["computeMinutes"] for m in models) == minutes
    assert sum(s["computeMinutes"] for s in sessions) == minutes
    calls = summary["models"]["calls"]
    assert calls == billing["modelCalls"] == len(booked["runs"])
    assert sum(m["calls"] for m in models) == sum(d["modelCalls"] for d in sdk_daily) == calls
    assert sum(m["inputTokens"] for m in models) == summary["models"]["inputTokens"]
    assert sum(b["models"]["tokens"]["output"] for b in per_user.values()) == summary["models"]["outputTokens"]
    assert (billing["sessions"], billing["agents"]) == (4, 4)
    assert sum(u["sessions"] for u in users) == 4 and sum(u["agents"] for u in users) == 4


def test_the_daily_series_has_every_day_including_quiet_ones(client, auth, emu, key):
    _workload(client, auth, emu, key)
    daily = _get(client, auth, "/v1/billing/usage/daily", **{"from": "2025-05-01"})["data"]
    assert [d["date"] for d in daily] == ["2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05"]
    amounts = [d["cost"]["amount"] for d in daily]
    assert amounts[2] == 0 and all(a > 0 for a in amounts[:2])


def test_models_and_providers_name_what_the_agents_used(client, auth, emu, key):
    _workload(client, auth, emu, key)
    models = _get(client, auth, "/v1/billing/usage/models")["data"]
    assert {m["model"] for m in models} == {"claude-sonnet-4-20250514", "gpt-4o", "gpt-4o-mini",
                                            "claude-opus-4-20250514", None}
    assert [m["cost"]["amount"] for m in models] == sorted((m["cost"]["amount"] for m in models), reverse=True)
    storage = next(m for m in models if m["model"] is None)
    assert (storage["calls"], storage["costByKind"]["storage"]["amount"]) == (0, 4)
    assert set(_get(client, auth, "/v1/usage/by-provider")) == {"mock", "fly", "e2b", "none"}


def test_the_same_workload_gives_the_same_bytes_in_every_view():
    def scenario() -> list[bytes]:
        app, key = create_app(Settings(clock=START, seed=3)), "th_test_same_bytes"
        auth = {"Authorization": f"Bearer {key}"}
        with TestClient(app) as client:
            definition = client.post("/v1/agent-definitions", json={"name": "d", "model": "gpt-4o"}, headers=auth)
            session = make_session(client, auth)
            make_agent(client, auth, session["id"], definition=definition.json()["id"])
            _workload(client, auth, app.state.emu, key)
            paths = [*ROUTES, "/v1/agent-definitions", "/v1/usage/export?format=stripe"]
            return [definition.content, *(client.get(p, headers={**auth, **SDK}).content for p in paths)]

    assert scenario() == scenario()


# ---- /v1/billing/usage ----

def test_billing_usage_defaults_to_the_current_month_until_now(client, auth):
    advance(client, 10 * DAY + 3600)
    body = _get(client, auth, "/v1/billing/usage")
    assert body["period"] == {"from": "2025-05-01T00:00:00.000Z", "until": "2025-05-11T01:00:00.000Z"}
    assert body["totalCost"] == {"amount": 0, "currency": "usd"}
    assert (body["computeMinutes"], body["modelCalls"], body["sessions"], body["agents"]) == (0, 0, 0, 0)


def test_billing_usage_leaves_out_last_months_charges(client, auth):
    run = _run(client, auth, make_agent(client, auth)["id"], "in May")
    advance(client, 31 * DAY)
    assert _get(client, auth, "/v1/billing/usage")["totalCost"]["amount"] == 0
    may = _get(client, auth, "/v1/billing/usage", **{"from": "2025-05-01", "until": "2025-05-31"})
    assert may["totalCost"] == run["cost"]
    assert may["period"]["until"] == "2025-05-31T23:59:59.999Z"


def test_billing_usage_counts_sessions_and_agents_that_were_charged(client, auth):
    session = make_session(client, auth)
    _run(client, auth, make_agent(client, auth, session["id"])["id"], "work")
    make_agent(client, auth, session["id"])  # never ran: costs nothing
    body = _get(client, auth, "/v1/billing/usage")
    assert (body["sessions"], body["agents"], body["modelCalls"]) == (1, 1, 1)


# ---- /v1/billing/usage/daily ----

def test_daily_defaults_to_thirty_days_ago(client, auth):
    advance(client, 40 * DAY)
    body = _get(client, auth, "/v1/billing/usage/daily")
    assert body["period"] == {"from": "2025-05-11T00:00:00.000Z", "until": "2025-06-10T00:00:00.000Z"}
    assert len(body["data"]) == 31
    assert (body["data"][0]["date"], body["data"][-1]["date"]) == ("2025-05-11", "2025-06-10")


def test_daily_range_of_the_reference_example_has_seven_days(client, auth):
    body = _get(client, auth, "/v1/billing/usage/daily", **{"from": "2025-05-01", "until": "2025-05-07"})
    assert [d["date"] for d in body["data"]] == [f"2025-05-0{n}" for n in range(1, 8)]
    assert all(d["cost"] == {"amount": 0, "currency": "usd"} for d in body["data"])


def test_daily_puts_a_charge_on_its_virtual_day(client, auth):
    advance(client, DAY + 60)
    run = _run(client, auth, make_agent(client, auth)["id"], "on May 2")
    body = _get(client, auth, "/v1/billing/usage/daily", **{"from": "2025-05-01"})
    assert [(d["date"], d["cost"]["amount"]) for d in body["data"]] == [
        ("2025-05-01", 0), ("2025-05-02", run["cost"]["amount"])]


def test_daily_refuses_a_range_over_a_thousand_days(client, auth):
    response = client.get("/v1/billing/usage/daily", params={"from": "2020-01-01", "until": "2025-01-01"}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert "1000 days" in body["error"]["message"]


# ---- /v1/billing/usage/users and /models ----

def test_users_are_costliest_first_with_sessions_and_agents(client, auth):
    big = make_session(client, auth, userId="big")
    for n in range(2):
        _run(client, auth, make_agent(client, auth, big["id"])["id"], f"long task {n}")
    small = make_session(client, auth, userId="small")
    _run(client, auth, make_agent(client, auth, small["id"])["id"], "one task")
    data = _get(client, auth, "/v1/billing/usage/users")["data"]
    assert [(u["userId"], u["sessions"], u["agents"]) for u in data] == [("big", 1, 2), ("small", 1, 1)]


def test_users_limit_cuts_the_list(client, auth):
    for user in ("u1", "u2", "u3"):
        _run(client, auth, make_agent(client, auth, make_session(client, auth, userId=user)["id"])["id"], "x")
    body = _get(client, auth, "/v1/billing/usage/users", limit=2)
    assert len(body["data"]) == 2 and body["hasMore"] is True
    assert _get(client, auth, "/v1/billing/usage/users")["hasMore"] is False


def test_models_report_calls_and_tokens_of_the_runs(client, auth):
    run = _run(client, auth, make_agent(client, auth, model="gpt-4o")["id"], "count tokens")
    data = _get(client, auth, "/v1/billing/usage/models")["data"]
    assert data == [{
        "model": "gpt-4o", "calls": 1, "inputTokens": run["usage"]["inputTokens"],
        "outputTokens": run["usage"]["outputTokens"], "cost": run["cost"], "computeMinutes": data[0]["computeMinutes"],
        "costByKind": data[0]["costByKind"]}]
    kinds = data[0]["costByKind"]
    assert kinds["compute"]["amount"] + kinds["model"]["amount"] == run["cost"]["amount"]


def test_billing_views_see_only_their_own_tenant(client, auth):
    _run(client, auth, make_agent(client, auth)["id"], "mine")
    other = {"Authorization": "Bearer th_test_another_tenant"}
    assert _get(client, other, "/v1/billing/usage/users")["data"] == []
    assert _get(client, other, "/v1/billing/usage")["totalCost"]["amount"] == 0


# ---- the SDK's /v1/usage routes ----

def test_user_usage_has_the_sdk_shape(client, auth):
    session = make_session(client, auth, userId="user_42")
    run = _run(client, auth, make_agent(client, auth, session["id"])["id"], "sdk user")
    body = _get(client, auth, "/v1/usage/users/user_42", SDK, period="today")
    assert body["total"] == run["cost"]
    assert body["models"]["calls"] == 1
    assert body["models"]["tokens"] == {"input": run["usage"]["inputTokens"], "output": run["usage"]["outputTokens"]}
    assert body["compute"]["minutes"] == math.ceil(run["durationMs"] / 60_000)
    assert body["storage"] == {"gbHours": 0, "gb": 0, "cost": {"amount": 0, "currency": "usd"}}
    assert body["breakdown"] == [{"date": "2025-05-01", "total": run["cost"]}]


def test_user_usage_periods_follow_the_virtual_clock(client, auth):
    session = make_session(client, auth, userId="u")
    _run(client, auth, make_agent(client, auth, session["id"])["id"], "early")
    advance(client, 3 * DAY)
    assert _get(client, auth, "/v1/usage/users/u", period="today")["total"]["amount"] == 0
    week = _get(client, auth, "/v1/usage/users/u", period="week")
    assert week["total"]["amount"] > 0
    assert len(week["breakdown"]) == 8  # now - 7 days .. today, both partial days included


def test_user_usage_of_an_unknown_user_is_zero(client, auth):
    body = _get(client, auth, "/v1/usage/users/nobody")
    assert body["total"]["amount"] == 0 and body["breakdown"] == [{"date": "2025-05-01",
                                                                  "total": {"amount": 0, "currency": "usd"}}]


def test_user_usage_rejects_an_invalid_user_id(client, auth):
    body = assert_error(client.get("/v1/usage/users/bad%09id", headers=auth), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "userId"


@pytest.mark.parametrize(("period", "days"), [("last_7_days", 7), ("last_30_days", 30)])
def test_sdk_daily_is_a_bare_array_of_whole_days(client, auth, period, days):
    advance(client, 45 * DAY)
    body = _get(client, auth, "/v1/usage/daily", SDK, period=period)
    assert len(body) == days and body[-1]["date"] == "2025-06-15"
    assert set(body[0]) == {"date", "cost", "computeMinutes", "modelCalls"}


def test_sdk_daily_is_an_envelope_for_other_clients(client, auth):
    body = _get(client, auth, "/v1/usage/daily", period="last_7_days")
    assert len(body["data"]) == 7


def test_by_provider_is_a_map_of_costs(client, auth):
    run = _run(client, auth, make_agent(client, auth, provider="fly")["id"], "on fly")
    assert _get(client, auth, "/v1/usage/by-provider", SDK, period="month") == {"fly": run["cost"]}


def test_export_json_lists_every_ledger_line(client, auth):
    run = _run(client, auth, make_agent(client, auth)["id"], "export me")
    body = _get(client, auth, "/v1/usage/export", SDK, period="month", format="json")
    assert (body["format"], body["count"], body["total"]) == ("json", 2, run["cost"])
    assert {line["kind"] for line in body["data"]} == {"compute", "model"}
    assert all(line["taskId"] == run["taskId"] for line in body["data"])


def test_export_csv_is_wrapped_in_json_for_the_sdk(client, auth):
    run = _run(client, auth, make_agent(client, auth)["id"], "csv")
    body = _get(client, auth, "/v1/usage/export", SDK, format="csv")
    rows = list(csv.DictReader(io.StringIO(body["data"])))
    assert body["contentType"] == "text/csv"
    assert sum(int(r["amount"]) for r in rows) == run["cost"]["amount"]


def test_export_csv_is_plain_csv_when_the_client_accepts_it(client, auth):
    _run(client, auth, make_agent(client, auth)["id"], "csv")
    response = client.get("/v1/usage/export?format=csv", headers={**auth, "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("at,kind,userId")


def test_export_stripe_gives_one_meter_event_per_user_and_day(client, auth):
    run = _run(client, auth, make_agent(client, auth)["id"], "stripe")
    body = _get(client, auth, "/v1/usage/export", format="stripe")
    assert body["data"] == [{"object": "billing.meter_event", "event_name": "theazo_usage_cents",
                             "identifier": "user_1:2025-05-01", "timestamp": parse_iso("2025-05-01") // 1000,
                             "payload": {"stripe_customer_id": "user_1", "value": str(run["cost"]["amount"])}}]


# ---- bad inputs: each a 422 envelope ----

ROUTES = ["/v1/usage/summary", "/v1/billing/usage", "/v1/billing/usage/daily", "/v1/billing/usage/users",
          "/v1/billing/usage/models", "/v1/usage/users/u1", "/v1/usage/daily", "/v1/usage/by-provider",
          "/v1/usage/export"]


@pytest.mark.parametrize("path", ROUTES)
def test_from_after_until_is_422(client, auth, path):
    response = client.get(path, params={"from": "2025-05-02T00:00:00Z", "until": "2025-05-01T12:00:00Z"}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert "after" in body["error"]["message"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("query", [{"from": "May 1st"}, {"until": "2025-13-01"}, {"from": "2025-05-01T25:00:00Z"},
                                   {"until": "9999-12-31T23:59:59-01:00"}, {"from": "1969-12-31"},
                                   {"period": "year"}])
def test_malformed_windows_are_422(client, auth, path, query):
    body = assert_error(client.get(path, params=query, headers=auth), 422, "unprocessable_entity")
    assert [d["field"] for d in body["error"]["details"]["fields"]] == list(query)


@pytest.mark.parametrize("limit", ["-1", "0", str(10**12), "lots"])
def test_users_rejects_a_bad_limit(client, auth, limit):
    body = assert_error(client.get("/v1/billing/usage/users", params={"limit": limit}, headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "limit"


def test_export_rejects_an_unknown_format(client, auth):
    body = assert_error(client.get("/v1/usage/export?format=xml", headers=auth), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "format"
