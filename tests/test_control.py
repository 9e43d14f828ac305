"""The admin API under /_emu: health, the virtual clock, settle and reset."""

from __future__ import annotations

import time

from conftest import START, advance, assert_error, make_agent, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings


def test_health_reports_version_and_clock(client) -> None:
    body = client.get("/_emu/health").json()
    assert body["status"] == "ok" and body["clock"] == {"now": "2025-05-01T00:00:00.000Z",
                                                        "epochMs": 1746057600000, "frozen": True}


def test_advance_by_seconds_and_to_an_instant(client) -> None:
    assert advance(client, 90)["clock"]["now"] == "2025-05-01T00:01:30.000Z"
    moved = client.post("/_emu/clock/advance", json={"to": "2025-05-02T00:00:00Z"}).json()
    assert moved["clock"]["now"] == "2025-05-02T00:00:00.000Z" and moved["fired"] == []


def test_advance_refuses_the_past_bad_instants_and_ambiguous_bodies(client) -> None:
    assert_error(client.post("/_emu/clock/advance", json={"to": "2020-01-01T00:00:00Z"}), 422, "unprocessable_entity")
    assert_error(client.post("/_emu/clock/advance", json={"to": "tomorrow"}), 422, "unprocessable_entity")
    assert_error(client.post("/_emu/clock/advance", json={"seconds": -5}), 422, "unprocessable_entity")
    assert_error(client.post("/_emu/clock/advance", json={"seconds": 1, "to": START}), 422, "unprocessable_entity")
    assert_error(client.post("/_emu/clock/advance", json={}), 422, "unprocessable_entity")
    assert client.get("/_emu/clock").json()["now"] == "2025-05-01T00:00:00.000Z"


def test_resume_lets_the_clock_flow_and_freeze_stops_it(client) -> None:
    assert client.post("/_emu/clock/resume").json()["frozen"] is False
    first = client.get("/_emu/clock").json()["epochMs"]
    time.sleep(0.02)
    assert client.get("/_emu/clock").json()["epochMs"] > first
    frozen = client.post("/_emu/clock/freeze").json()
    assert frozen["frozen"] is True
    assert client.get("/_emu/clock").json()["epochMs"] == frozen["epochMs"]


def test_settle_runs_one_keys_timelines_to_their_end(client, auth, key) -> None:
    agent = make_agent(client, auth)
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth).json()
    settled = client.post("/_emu/settle", json={"key": key}).json()
    assert settled["clock"]["epochMs"] == 1746057600000 + run["durationMs"]
    assert client.get(f"/v1/agents/{agent['id']}", headers=auth).json()["status"] == "idle"
    assert client.post("/_emu/settle", json={}).json()["clock"] == settled["clock"]  # nothing left in flight


def test_reset_one_tenant_leaves_the_others(client, auth) -> None:
    other = {"Authorization": "Bearer th_test_someone_else"}
    make_session(client, auth)
    make_session(client, other)
    assert client.post("/_emu/reset", json={"tenant": auth["Authorization"].split()[1]}).json()["scope"] == "tenant"
    assert client.get("/v1/sessions", headers=auth).json()["data"] == []
    assert len(client.get("/v1/sessions", headers=other).json()["data"]) == 1
    assert client.post("/_emu/reset", json={}).json() == {"ok": True, "scope": "all"}
    assert client.get("/v1/sessions", headers=other).json()["data"] == []


def test_flowing_clock_starts_at_wall_time() -> None:
    with TestClient(create_app(Settings(clock="now"))) as flowing:
        body = flowing.get("/_emu/clock").json()
    assert body["frozen"] is False and abs(body["epochMs"] - time.time() * 1000) < 5000
