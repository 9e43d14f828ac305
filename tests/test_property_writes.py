"""Property: whatever JSON body reaches whatever write route, the emulator answers below 500,
a refused request (4xx) stores nothing, every read still answers 200, and no secret sent
ever comes back out (answers, journal, state export).

hypothesis builds raw JSON text (so it can hold what Python's encoder never writes: NaN,
Infinity, 1e999, 400-digit integers, lone surrogate escapes), either free-form or as a
route's own plausible body with one value swapped for a hostile one, and sends it to one
of the write routes of /v1 and /_emu (path ids from a world made first; trigger fires
signed). The counts (requests tried, 5xx, poisoned reads, secret hits) are printed at the
end (`pytest -s`).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from conftest import START, make_agent, make_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.app import api_routes
from theazo_emu.core.signing import sign
from theazo_emu.settings import Settings

KEY = "th_test_property"
AUTH = {"Authorization": f"Bearer {KEY}"}
CANARY = "prop-secret-canary-4f1d9a"
HOSTILE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9" * 400, "-9223372036854775809",
           '"\\ud800"', '"tail\\udfff"', '{"\\ud83d": 1}']
# Routes left out: they replace or wipe the whole state, or let the clock flow (wall time).
SKIPPED = {"/_emu/reset", "/_emu/state/import", "/_emu/clock/resume"}
READS = ["/v1/sessions", "/v1/agents", "/v1/schedules", "/v1/triggers", "/v1/channels", "/v1/workflows",
         "/v1/workflow-runs", "/v1/agent-definitions", "/v1/approvals", "/v1/secrets", "/v1/providers",
         "/v1/usage/summary"]
ADMIN_READS = ["/_emu/state/export", "/_emu/requests", "/_emu/ui/state", "/_emu/fixtures", "/_emu/faults"]
# A plausible body per route (by its path's last static segment), so hostile values reach past
# the first field check; `@` marks each place a hostile value may go.
PLAUSIBLE = {
    "sessions": '{"userId": "u1", "metadata": {"k": @}}',
    "by-user": '{"metadata": {"k": @}, "limits": {"maxAgents": @}}',
    "limits": '{"maxAgents": @, "maxCost": {"amount": @}}',
    "agents": '{"instructions": "x", "metadata": {"k": @}, "timeout": @}',
    "run": '{"task": "t", "input": {"k": @}}',
    "exec": '{"lang": "python", "code": "print(1)", "timeout": @}',
    "files": '{"path": "/data/a.txt", "data": "x", "metadata": @}',
    "checkpoints": '{"phase": "p", "progress": @, "metadata": {"k": @}}',
    "secrets": '{"name": "PROP", "value": "' + CANARY + '", "extra": @}',
    "providers": '{"provider": "e2b", "credentials": {"apiKey": "' + CANARY + '", "n": @}}',
    "agent-definitions": '{"name": "d", "metadata": {"k": @}, "config": {"temperature": @}}',
    "schedules": '{"name": "s", "cron": "0 * * * *", "agent": "r", "userId": "u", "input": {"k": @}}',
    "triggers": '{"name": "t", "agent": "r", "userId": "u", "metadata": {"k": @}}',
    "fire": '{"event": {"total": @}}',
    "channels": '{"type": "chat_embed", "agent": "r", "metadata": {"k": @}}',
    "messages": '{"content": "hi", "visitorId": @}',
    "workflows": '{"name": "w", "steps": [{"id": "a", "type": "transform", "expression": {"x": @}}]}',
    "runs": '{"userId": "u", "input": {"k": @}}',
    "estimate": '{"input": {"k": @}}',
    "schedule": '{"cron": "0 * * * *", "userId": "u", "input": {"k": @}}',
    "fleets": '{"agent": "r", "inputs": [{"k": @}], "maxCost": {"amount": @}}',
    "advance": '{"seconds": @}',
    "settle": '{"key": @}',
    "fixtures": '{"runs": [{"match": {}, "output": @}]}',
    "faults": '{"match": {"path": "/v1/nothing"}, "fault": "timeout", "latencyMs": @}',
}

APP = create_app(Settings(clock=START, seed=0))
CLIENT = TestClient(APP, raise_server_exceptions=False)
COUNTS: Counter[str] = Counter()


def _world() -> dict[str, str]:
    """Ids for every path parameter of the write routes."""
    session = make_session(CLIENT, AUTH)
    agent = make_agent(CLIENT, AUTH, session["id"])
    definition = CLIENT.post("/v1/agent-definitions", json={"name": "prop"}, headers=AUTH).json()
    workflow = CLIENT.post("/v1/workflows", headers=AUTH, json={"name": "w", "steps": [
        {"id": "gate", "type": "approval", "action": "go"}]}).json()
    run = CLIENT.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u"}, headers=AUTH).json()
    approval = CLIENT.get("/v1/approvals", headers=AUTH).json()["data"][0]
    schedule = CLIENT.post("/v1/schedules", json={"name": "s", "cron": "0 * * * *", "agent": "r", "userId": "u"},
                           headers=AUTH).json()
    trigger = CLIENT.post("/v1/triggers", json={"name": "t", "agent": "r", "userId": "u"}, headers=AUTH).json()
    channel = CLIENT.post("/v1/channels", json={"type": "chat_embed", "agent": "r"}, headers=AUTH).json()
    fleet = CLIENT.post(f"/v1/sessions/{session['id']}/fleets", json={"agent": "r", "inputs": [{}]},
                        headers=AUTH).json()
    return {"session_id": session["id"], "agent_id": agent["id"], "definition_id": definition["id"],
            "workflow_id": workflow["id"], "run_id": run["id"], "approval_id": approval["id"],
            "schedule_id": schedule["id"], "trigger_id": trigger["id"], "channel_id": channel["id"],
            "fleet_id": fleet["id"], "provider": "e2b", "name": "PROP", "fault_id": "flt_missing",
            "trigger_secret": trigger["secret"]}


WORLD = _world()
WRITES = sorted({(method, route.path) for route in api_routes(APP) if route.surface.name != "theo"
                 for method in route.methods - {"GET", "HEAD"} if route.path not in SKIPPED})


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: WORLD.get(m[1], "x"), template)


def _segment(template: str) -> str:
    static = [part for part in template.split("/") if part and not part.startswith("{")]
    return static[-1] if static else ""


# ---- raw JSON text, hostile values included ----

_scalars = st.one_of(st.sampled_from(HOSTILE), st.integers(-10**6, 10**6).map(str),
                     st.floats(allow_nan=False, allow_infinity=False).map(repr).filter(lambda t: "e" not in t),
                     st.text(max_size=12).map(json.dumps), st.sampled_from(["true", "false", "null"]))
_keys = st.one_of(st.sampled_from(["metadata", "input", "value", "name", "userId", "timeout", "steps", "agent",
                                   "task", "credentials", "cron", "seconds"]), st.text(max_size=8)).map(json.dumps)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(_keys, inner), max_size=4).map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs)
                                                      + "}")), max_leaves=12)


@st.composite
def bodies(draw, template: str) -> str:
    """A route's plausible body with each `@` a drawn value, or a free-form object."""
    plausible = PLAUSIBLE.get(_segment(template))
    if plausible and draw(st.booleans()):
        return re.sub("@", lambda _: draw(_values), plausible)
    pairs = draw(st.lists(st.tuples(_keys, _values), max_size=5))
    return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"


@st.composite
def requests(draw) -> tuple[str, str, str]:
    method, template = draw(st.sampled_from(WRITES))
    return method, template, draw(bodies(template))


def _snapshot() -> str:
    """Everything a refused request must leave as it was: the tenant's rows, fixtures, faults."""
    tables = CLIENT.get(f"/_emu/state/export?key={KEY}").json()["tables"]
    tables.pop("counters", None)  # an id handed out and rolled back is handed out again
    return json.dumps([tables, CLIENT.get("/_emu/fixtures").json()["documents"], CLIENT.get("/_emu/faults").json()],
                      sort_keys=True)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nproperty: {COUNTS['tried']} requests tried, {COUNTS['5xx']} answered 5xx, "
          f"{COUNTS['4xx']} refused, {COUNTS['poisoned reads']} poisoned reads, "
          f"{COUNTS['secret hits']} secret hits")


@settings(max_examples=250, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(requests())
def test_no_body_on_any_write_route_breaks_anything(request):
    method, template, text = request
    path = _path(template)
    headers = {**AUTH, "Content-Type": "application/json"}
    if template.endswith("/fire"):
        headers["X-Theazo-Signature"] = sign(WORLD["trigger_secret"], text.encode())
    before = _snapshot()
    response = CLIENT.request(method, path, content=text.encode("utf-8", "surrogatepass"), headers=headers)
    COUNTS["tried"] += 1
    COUNTS["5xx"] += response.status_code >= 500
    COUNTS["secret hits"] += CANARY in response.text
    assert response.status_code < 500, (method, path, text, response.text)
    if 400 <= response.status_code < 500:
        COUNTS["4xx"] += 1
        assert _snapshot() == before, (method, path, text, response.text)
    for read in READS:
        answer = CLIENT.get(read, headers=AUTH)
        COUNTS["poisoned reads"] += answer.status_code != 200
        assert answer.status_code == 200, (read, answer.text)
    for read in ADMIN_READS:
        answer = CLIENT.get(read)
        COUNTS["poisoned reads"] += answer.status_code != 200
        COUNTS["secret hits"] += CANARY in answer.text
        assert answer.status_code == 200, (read, answer.text)
        assert CANARY not in answer.text, (read, method, path, text)
    assert CANARY not in response.text, (method, path, text)
