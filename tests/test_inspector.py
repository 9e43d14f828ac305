"""/_emu/ui: the inspector page, its state endpoint and its live feed of run events.

The feed is endless, so the real-process tests read frames until they have what they
wait for. The inspector only watches: nothing it does shows in the journal, and an
agent's own stream still replays a run that only the inspector has seen.
"""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import pytest
from conftest import START, advance, make_agent, make_session, serve_process
from receiver import receiver
from sse_client import events, frames
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

KEY = {"Authorization": "Bearer th_test_inspector"}
OTHER = {"Authorization": "Bearer th_test_inspector_other"}


def test_the_page_is_self_contained_and_writes_data_as_text(client) -> None:
    page = client.get("/_emu/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for section in ("Tenants", "Sessions", "Agents", "Live events", "Schedules", "Request journal"):
        assert f"<h2>{section}" in html
    for endpoint in ("/_emu/ui/state", "/_emu/ui/stream", "/_emu/requests", "/_emu/clock/advance", "/_emu/clock/freeze"):
        assert endpoint in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external assets: works offline
    assert "innerHTML" not in html and "textContent" in html  # user data is never parsed as markup


def test_state_shows_every_tenant_with_derived_statuses(client, auth) -> None:
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"], tools=["web_search"])
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "look around"}, headers=auth).json()
    client.post("/v1/sessions", json={"userId": "<b>other</b>"}, headers=OTHER)
    created = client.post("/v1/schedules", headers=auth, json={
        "name": "hourly", "cron": "0 * * * *", "action": {"type": "agent-run", "config": {"task": "t"}}})
    assert created.status_code == 201

    state = client.get("/_emu/ui/state").json()
    assert state["clock"] == client.get("/_emu/clock").json()
    tenants = {t["tenant"]: t for t in state["tenants"]}  # by the key's alias, never the key or its digest
    mine, theirs = tenants["key1"], tenants["key2"]
    assert mine["counts"] == {"theazo.sessions": 1, "theazo.agents": 1, "theazo.runs": 1, "theazo.schedules": 1}
    assert theirs["counts"] == {"theazo.sessions": 1}
    assert auth["Authorization"].split()[1] not in json.dumps(state)
    theazo = state["surfaces"]["theazo"]
    assert {s["userId"] for s in theazo["sessions"]} == {session["userId"], "<b>other</b>"}
    assert {s["tenant"] for s in theazo["sessions"]} == {"key1", "key2"}
    assert [(a["id"], a["status"]) for a in theazo["agents"]] == [(agent["id"], "running")]
    assert [(r["taskId"], r["status"]) for r in theazo["runs"]] == [(run["taskId"], "running")]
    assert theazo["schedules"][0]["nextRunAt"] == "2025-05-01T01:00:00.000Z"
    assert state["record"] == {"mode": "off"} and state["faults"] == [] and state["fixtures"]["directory"] is None
    timeline = client.get(f"/_emu/ui/runs/{run['taskId']}").json()
    assert timeline["events"][0]["released"] is True and timeline["events"][-1]["released"] is False
    assert timeline["events"][-1]["event"] == "output" and timeline["tenant"] == "key1"
    assert state["nextDue"] == next(e["at"] for e in timeline["events"] if not e["released"])
    advance(client, run["durationMs"] / 1000)
    state = client.get("/_emu/ui/state").json()
    assert state["surfaces"]["theazo"]["agents"][0]["status"] == "idle"  # derived from the clock, as the API shows it
    assert all(e["released"] for e in client.get(f"/_emu/ui/runs/{run['taskId']}").json()["events"])
    assert client.get("/_emu/ui/runs/task_nope").status_code == 404


def test_theo_tenants_completions_jobs_and_deliveries_beside_theazos(auth) -> None:
    theo, other = {"Authorization": "Bearer theo_sk_test_inspector"}, {"Authorization": "Bearer theo_sk_test_other"}
    app = create_app(Settings(clock=START, seed=0, allow_private_webhooks=True))
    with TestClient(app) as client, receiver([400]) as hook:
        make_session(client, auth)
        client.post("/api/v1/webhooks", headers=theo, json={"url": hook.url, "event_types": ["completion.created"]})
        done = client.post("/api/v1/completions", headers=theo, json={"prompt": "Write a python parser"}).json()
        job = client.post("/api/v1/video", headers=theo, json={"prompt": "waves"}).json()
        client.post("/api/v1/images", headers=other, json={"prompt": "a cat"})  # media: not a completion
        hook.wait_for(1)
        for _ in range(200):  # the refused attempt settles in the background
            state = client.get("/_emu/ui/state").json()
            if state["surfaces"]["theo"]["deliveries"][0]["status"] == "failed":
                break
            time.sleep(0.01)
        tenants = {t["tenant"]: t for t in state["tenants"]}
        assert tenants["key1"]["counts"] == {"theazo.sessions": 1}
        assert tenants["theo1"]["counts"] == {"theo.completions": 1, "theo.jobs": 1, "theo.deliveries": 1}
        assert "theo2" not in tenants  # its image is no completion, job or delivery
        theo_state = state["surfaces"]["theo"]
        (completion,) = theo_state["completions"]
        assert (completion["id"], completion["tenant"], completion["mode"], completion["resolvedMode"]) == (
            done["id"], "theo1", "auto", "code")
        assert completion["costCents"] == done["usage"]["cost_cents"]
        assert [(j["id"], j["status"], j["tenant"]) for j in theo_state["jobs"]] == [(job["job_id"], "queued", "theo1")]
        (delivery,) = theo_state["deliveries"]
        assert (delivery["status"], delivery["http_status"], delivery["url"]) == ("failed", 400, hook.url)
        assert delivery["event_type"] == "completion.created" and delivery["tenant"] == "theo1"
        assert "theo_sk_test_inspector" not in json.dumps(state)
        advance(client, 3600)
        assert client.get("/_emu/ui/state").json()["surfaces"]["theo"]["jobs"][0]["status"] == "completed"


def test_a_journal_row_opens_the_whole_exchange_with_secrets_redacted(client, auth) -> None:
    secret = "sk-inspector-canary-1234"
    created = client.post("/v1/secrets", json={"name": "TOKEN", "value": secret}, headers=auth)
    missing = client.get("/v1/agents/agt_nope", headers=auth)
    entries = client.get("/_emu/requests?kind=request").json()["data"]
    opened = client.get(f"/_emu/ui/requests/{entries[0]['seq']}").json()
    assert opened["request"]["body"] == {"name": "TOKEN", "value": "[REDACTED]"}
    assert opened["request"]["headers"]["authorization"] == "Bearer <key1>" and opened["tenant"] == "key1"
    assert opened["response"]["status"] == created.status_code and secret not in json.dumps(opened)
    error = client.get(f"/_emu/ui/requests/{entries[1]['seq']}").json()
    assert error["errorCode"] == "not_found" and error["response"]["body"]["error"]["code"] == "not_found"
    assert error["response"]["headers"]["x-request-id"] == missing.headers["x-request-id"]
    assert client.get("/_emu/ui/requests/999999").status_code == 404


def test_favicon_requests_stay_out_of_the_journal(client) -> None:
    client.delete("/_emu/requests")
    assert client.get("/favicon.ico").status_code == 404
    assert client.get("/_emu/requests").json()["counts"]["total"] == 0
    assert '<link rel="icon" href="data:,">' in client.get("/_emu/ui").text  # browsers need not ask at all


def test_the_inspector_leaves_no_trace_in_the_journal(client, auth) -> None:
    client.delete("/_emu/requests")
    for path in ("/_emu/ui", "/_emu/ui/state"):
        assert client.get(path).status_code == 200
    assert client.get("/_emu/requests").json()["counts"]["total"] == 0


def test_a_bad_replay_count_is_422(client) -> None:
    response = client.get("/_emu/ui/stream?replay=lots")
    assert response.status_code == 422 and response.json()["error"]["code"] == "unprocessable_entity"


def _run_events(stream: httpx.Response, until: str, limit: int = 200) -> list[dict]:
    """run_event frames until one of them is `until` (the feed itself never ends)."""
    got: list[dict] = []
    for frame in frames(stream.iter_lines()):
        if frame.get("event") == "run_event":
            got.append(frame)
            if frame["data"]["event"] == until or len(got) >= limit:
                break
    return got


@pytest.mark.server
def test_the_feed_follows_runs_of_every_tenant_as_the_clock_releases_them() -> None:
    with serve_process("--clock", START, env={"THEAZO_EMU_HEARTBEAT": "0.2"}) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        session = http.post("/v1/sessions", json={"userId": "u"}, headers=KEY).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={"tools": ["web_search"]}, headers=KEY).json()
        other = http.post("/v1/sessions", json={"userId": "v"}, headers=OTHER).json()
        other_agent = http.post(f"/v1/sessions/{other['id']}/agents", json={}, headers=OTHER).json()
        with http.stream("GET", "/_emu/ui/stream") as feed, \
                http.stream("GET", f"/_emu/ui/stream?agentId={other_agent['id']}") as narrow:
            assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/event-stream")
            run = http.post(f"/v1/agents/{agent['id']}/run", json={"task": "first"}, headers=KEY).json()
            threading.Timer(0.3, lambda: http.post("/_emu/clock/advance", json={"seconds": 600})).start()
            mine = _run_events(feed, "output")
            http.post(f"/v1/agents/{other_agent['id']}/run", json={"task": "second"}, headers=OTHER)
            http.post("/_emu/clock/advance", json={"seconds": 600})
            theirs = _run_events(narrow, "output")
        assert [f["id"] for f in mine] == [f"{run['taskId']}:{i}" for i in range(1, len(mine) + 1)]
        assert {f["data"]["agentId"] for f in mine} == {agent["id"]}
        assert mine[-1]["data"]["data"]["output"] == run["output"]
        assert [f["data"]["at"] for f in mine] == sorted(f["data"]["at"] for f in mine)
        assert {f["data"]["agentId"] for f in theirs} == {other_agent["id"]}  # narrowed to one agent

        # It only watched: the agent's own stream still replays the run, and no frame was journaled.
        with http.stream("GET", f"/v1/agents/{agent['id']}/stream", headers=KEY) as own:
            replayed = events(own.iter_lines())
        assert [e["id"] for e in replayed] == [f["id"] for f in mine]
        sse = http.get("/_emu/requests?kind=sse").json()["data"]
        assert [e["id"] for e in sse] == [e["id"] for e in replayed]  # the agent stream's frames, none of the feeds'
        assert not any(e["path"].startswith("/_emu/ui") for e in http.get("/_emu/requests").json()["data"]
                       if e["kind"] == "request")


@pytest.mark.server
def test_a_new_feed_starts_with_the_latest_released_events() -> None:
    with serve_process("--clock", START, "--pace", "instant") as url, httpx.Client(base_url=url, timeout=10) as http:
        session = http.post("/v1/sessions", json={"userId": "u"}, headers=KEY).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=KEY).json()
        runs = [http.post(f"/v1/agents/{agent['id']}/run", json={"task": f"t{i}"}, headers=KEY).json()
                for i in range(3)]
        with http.stream("GET", "/_emu/ui/stream?replay=4") as feed:
            got = _run_events(feed, "never", limit=4)
    last = runs[-1]["taskId"]
    assert len(got) == 4 and got[-1]["data"]["event"] == "output" and got[-1]["data"]["taskId"] == last
    assert [f["id"] for f in got] == sorted(f["id"] for f in got)  # oldest first


@pytest.mark.parametrize(("key", "hint", "name"), [
    ("th_test_alice", "th_test_…ice", "alice"),  # a name a person typed: shown
    ("th_test_user_123", "th_test_…_123", "user_123"),
    ("theo_sk_test_demo", "theo_sk_test_…emo", "demo"),
    ("th_test_browser_alpha_9f3c", "th_test_…9f3c", None),  # long: masked
    ("theo_sk_test_Xk9PqL2mZrA8bC7dE6fG", "theo_sk_test_…E6fG", None),  # generated: masked
    ("th_test_a1b2c3d4e5", "th_test_…d4e5", None),  # mostly digits: reads as random
    ("th_live_alice", "th_live_…", None),  # a live key is never named
])
def test_a_tenant_is_named_by_what_a_person_typed_never_by_a_whole_random_or_live_key(
        key: str, hint: str, name: str | None) -> None:
    from theazo_emu.core.auth import key_kind, key_name_parts

    assert key_name_parts(key, key_kind(key)) == (hint, name)


def test_state_names_short_key_tenants_and_masks_long_ones(client) -> None:
    client.post("/v1/sessions", json={"userId": "a"}, headers={"Authorization": "Bearer th_test_alice"})
    client.post("/v1/sessions", json={"userId": "b"}, headers=KEY)
    tenants = {t["tenant"]: (t["name"], t["hint"]) for t in client.get("/_emu/ui/state").json()["tenants"]}
    assert tenants == {"key1": ("alice", "th_test_…ice"), "key2": ("inspector", "th_test_…ctor")}


def test_a_streamed_exchange_opens_with_its_frames(client) -> None:
    theo = {"Authorization": "Bearer theo_sk_test_frames"}
    streamed = client.post("/api/v1/completions", json={"prompt": "A haiku", "stream": True}, headers=theo)
    sent = [line.removeprefix("event: ") for line in streamed.text.splitlines() if line.startswith("event: ")]
    (entry,) = client.get("/_emu/requests?kind=request&path=/api/v1/completions").json()["data"]
    opened = client.get(f"/_emu/ui/requests/{entry['seq']}").json()["response"]
    assert "body" not in opened and "framesCut" not in opened
    assert [f["event"] for f in opened["frames"]] == sent and sent[-1] == "done" and "token" in sent
    tokens = "".join(f["data"]["token"] for f in opened["frames"] if f["event"] == "token")
    assert tokens and opened["frames"][-1]["data"]["content"] == tokens  # data parsed, as the client got it
