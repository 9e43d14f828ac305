"""Sandbox code run for real under `--exec local`, reporting through the sandbox bridge.

The exec'd child gets THEAZO_AGENT_ID, THEAZO_SESSION_ID and THEAZO_ENDPOINT, and its HTTP
calls come back into the server that is still answering the exec: a real `serve` process
shows that the exec does not hold the event loop (the child waits on each answer, so a
blocked server would run into the exec timeout). The node test sends exactly what the
`theazo-sandbox` package sends (packages/theazo-sandbox/src/index.ts: fire-and-forget
POSTs with no key), with the package's own functions copied in, since the package is not
vendored here; it is skipped where `node` is absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import START, make_agent, serve_process
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

AUTH = {"Authorization": "Bearer th_test_sandbox_exec"}
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

PYTHON_REPORTS = """
import json, os, urllib.request
def post(kind, **body):
    body.update(agentId=os.environ["THEAZO_AGENT_ID"], sessionId=os.environ["THEAZO_SESSION_ID"])
    request = urllib.request.Request(os.environ["THEAZO_ENDPOINT"] + "/v1/sandbox/" + kind,
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.load(answer)
post("log", level="info", message="python started", metadata={"step": 1})
post("model", model="gpt-4o", inputTokens=1000, outputTokens=200, cost={"amount": 5, "currency": "usd"})
post("span", name="research", startTime="t0", endTime="t1", durationMs=1200, status="completed")
post("progress", percentage=50, message="Halfway done")
print(post("complete", output="Report generated", artifacts=["report.pdf"])["event"])
"""

# The package's post() and its five functions, as published; `pending` lets the code wait
# for its fire-and-forget reports before it completes (they may otherwise arrive in any order).
NODE_REPORTS = """
const pending = [];
function getConfig() {
  const agentId = process.env.THEAZO_AGENT_ID, sessionId = process.env.THEAZO_SESSION_ID;
  const endpoint = process.env.THEAZO_ENDPOINT;
  if (!agentId || !sessionId || !endpoint) throw new Error('Missing Theazo sandbox env vars');
  return { agentId, sessionId, endpoint };
}
async function post(path, body) {
  const config = getConfig();
  try {
    await fetch(`${config.endpoint}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: config.agentId, sessionId: config.sessionId, ...body }) });
  } catch {}
}
const report = (path, body) => { pending.push(post(path, body)); };
const log = { info: (message, metadata) => report('/v1/sandbox/log', { level: 'info', message, metadata,
  timestamp: new Date().toISOString() }) };
const model = { track: (e) => report('/v1/sandbox/model', { model: e.model, inputTokens: e.inputTokens,
  outputTokens: e.outputTokens, cost: e.cost, timestamp: new Date().toISOString() }) };
async function span(name, fn, attributes) {
  const startTime = new Date(); const result = await fn(); const endTime = new Date();
  report('/v1/sandbox/span', { name, startTime: startTime.toISOString(), endTime: endTime.toISOString(),
    durationMs: endTime.getTime() - startTime.getTime(), status: 'completed', attributes });
  return result;
}
const progress = (percentage, message) => report('/v1/sandbox/progress', { percentage, message,
  timestamp: new Date().toISOString() });
const complete = (e) => report('/v1/sandbox/complete', { output: e.output, artifacts: e.artifacts ?? [],
  timestamp: new Date().toISOString() });

log.info('node started', { step: 1 });
model.track({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 200, cost: { amount: 5, currency: 'usd' } });
const found = await span('research', async () => 'found 5 results', { query: 'ai' });
progress(50, 'Halfway done');
await Promise.all(pending);
complete({ output: found, artifacts: ['report.pdf'] });
await Promise.all(pending);
console.log('reported');
"""


@pytest.fixture
def local(tmp_path: Path):
    with TestClient(create_app(Settings(clock=START, exec_mode="local", workdir=tmp_path))) as client:
        yield client


def _exec(client, agent_id: str, lang: str, code: str) -> dict:
    response = client.post(f"/v1/agents/{agent_id}/exec", json={"lang": lang, "code": code}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def test_local_exec_hands_the_child_the_sandbox_variables(local):
    agent = make_agent(local, AUTH)
    code = "import os; print(*(os.environ[f'THEAZO_{name}'] for name in ('AGENT_ID', 'SESSION_ID', 'ENDPOINT')))"
    stdout = _exec(local, agent["id"], "python", code)["stdout"]
    assert stdout == f"{agent['id']} {agent['sessionId']} http://testserver:80\n"


@needs_node
@pytest.mark.parametrize("lang", ["node", "javascript"])
def test_local_exec_runs_javascript_with_node(local, lang):
    agent = make_agent(local, AUTH)
    result = _exec(local, agent["id"], lang, "console.log(process.env.THEAZO_AGENT_ID.slice(0, 4), 6 * 7)")
    assert (result["stdout"], result["exitCode"]) == ("agt_ 42\n", 0)
    module = _exec(local, agent["id"], lang, "import os from 'node:os'; console.log(typeof os.cpus, await 1)")
    assert module["stdout"] == "function 1\n"
    failed = _exec(local, agent["id"], lang, "throw new Error('boom')")
    assert failed["exitCode"] == 1 and "boom" in failed["stderr"]


def _seen(url: str, agent: dict, task: str) -> dict:
    """What a user sees of the sandbox run: logs, usage, the trace, progress, the stream."""
    with httpx.Client(base_url=url, headers=AUTH, timeout=20) as client:
        logs = client.get(f"/v1/logs?agentId={agent['id']}").json()["data"]
        usage = client.get("/v1/usage/summary").json()
        trace = client.get(f"/v1/traces/trace_{task.removeprefix('task_')}").json()
        progress = client.get(f"/v1/agents/{agent['id']}/progress").json()
        with client.stream("GET", f"/v1/agents/{agent['id']}/stream?taskId={task}") as stream:
            events = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
    return {"logs": sorted(line["message"] for line in logs), "tokens": usage["models"]["inputTokens"],
            "cost": usage["total"]["amount"], "spans": [span["name"] for span in trace["spans"]],
            "status": trace["status"], "progress": (progress["phase"], progress["progress"]),
            "events": [event["type"] for event in events], "done": events[-1]}


def _run_reports(url: str, lang: str, code: str) -> tuple[dict, dict]:
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        session = client.post("/v1/sessions", json={"userId": "u"}).json()
        agent = client.post(f"/v1/sessions/{session['id']}/agents", json={}).json()
        result = client.post(f"/v1/agents/{agent['id']}/exec", json={"lang": lang, "code": code}).json()
    assert result["exitCode"] == 0, result
    task = httpx.get(f"{url}/v1/agents/{agent['id']}/status", headers=AUTH).json()["taskId"]
    return result, _seen(url, agent, task)


@pytest.mark.server
def test_python_sandbox_code_reports_back_into_the_server_running_it(tmp_path):
    with serve_process("--clock", START, "--exec", "local") as url:
        result, seen = _run_reports(url, "python", PYTHON_REPORTS)
    assert result["stdout"] == "output\n"
    assert seen["logs"] == ["Model call to gpt-4o: 1000 input and 200 output tokens, 5 cents",
                            "Progress 50%: Halfway done",
                            "Run completed in 0ms: 1000 input and 200 output tokens, 5 cents",
                            "Span research completed in 1200 ms", "python started"]
    assert (seen["tokens"], seen["cost"], seen["status"]) == (1000, 5, "completed")
    assert seen["progress"] == ("Halfway done", 50)
    assert seen["spans"] == ["run", "model", "research"]
    assert seen["events"] == ["log", "model", "span", "progress", "done"]
    assert seen["done"]["output"] == "Report generated" and seen["done"]["artifacts"] == ["report.pdf"]


@pytest.mark.server
@needs_node
def test_node_sandbox_code_reports_as_the_theazo_sandbox_package_does(tmp_path):
    with serve_process("--clock", START, "--exec", "local") as url:
        result, seen = _run_reports(url, "node", NODE_REPORTS)
    assert result["stdout"] == "reported\n"
    assert "node started" in seen["logs"] and (seen["tokens"], seen["cost"]) == (1000, 5)
    assert seen["spans"] == ["run", "model", "research"] and seen["progress"] == ("Halfway done", 50)
    assert sorted(seen["events"][:-1]) == ["log", "model", "progress", "span"] and seen["events"][-1] == "done"
    assert seen["done"]["output"] == "found 5 results" and seen["status"] == "completed"
