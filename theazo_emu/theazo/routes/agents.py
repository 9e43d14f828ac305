"""Agents: create, read, list, run, exec, stream, pause, resume, terminate.

Reference section "Agents" plus the SDK's GET /v1/agents(/:id), /v1/sessions/:id/agents
and /v1/agents/:id/status. Both create-body shapes are accepted (models.CreateAgent).
Making agents and running tasks are domain/agents.py's, timelines domain/runs.py's; this
module checks requests and shapes answers. Illegal transitions are 409 `conflict`.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Conflict, Timeout
from theazo_emu.core.http import LAST_EVENT, PAGE, Ctx, Where, api_route, query_choice
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.bodies import CreateAgent, ExecCode, ResumeAgent, RunAgent
from theazo_emu.theazo.domain import checkpoints, pricing, runs, sandbox, secrets
from theazo_emu.theazo.domain.agents import (
    STATUSES,
    TABLE,
    agent_to_api,
    new_agent,
    require_usable,
    start_run,
    status_to_api,
)
from theazo_emu.theazo.mock.execution import local_exec
from theazo_emu.theazo.routes.sessions import load as load_session
from theazo_emu.theazo.surface import is_sdk, list_page

# An agent's status is derived from the clock; lists filter on the same rule in SQL.
_STATUS_SQL = "(CASE WHEN status = 'running' AND busy_until_ms <= ? THEN 'idle' ELSE status END)"


def load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["agent_id"], "agent")


def _answer(ctx: Ctx, row: dict) -> dict[str, Any]:
    """The agent in the caller's dialect (its status `ready` for the SDK, `idle` otherwise)."""
    return agent_to_api(row, ctx.now_ms(), is_sdk(ctx))


async def create_agent(ctx: Ctx) -> dict:
    """Create an agent in a session (reference and SDK body shapes)."""
    return _answer(ctx, new_agent(ctx.t, load_session(ctx, ctx.params["session_id"]), ctx.body))


async def get_agent(ctx: Ctx) -> dict:
    """Get one agent."""
    return _answer(ctx, load(ctx))


def _list(ctx: Ctx, session_id: str | None) -> dict:
    now, sdk = ctx.now_ms(), is_sdk(ctx)
    where = Where(ctx).eq("session_id", "sessionId", session_id).eq("provider", "provider").eq("compute", "compute")
    status = query_choice(ctx, "status", (*STATUSES, "ready"))  # the SDK's `ready` is `idle`
    if status is not None:
        where.add(f"{_STATUS_SQL} = ?", now, "idle" if status == "ready" else status)
    return list_page(ctx, TABLE, where, "agt", lambda r: agent_to_api(r, now, sdk))


async def list_agents(ctx: Ctx) -> dict:
    """List agents, newest first (filters: status, provider, compute, sessionId)."""
    return _list(ctx, None)


async def list_session_agents(ctx: Ctx) -> dict:
    """List the agents of one session."""
    return _list(ctx, load_session(ctx, ctx.params["session_id"])["id"])


async def agent_status(ctx: Ctx) -> dict:
    """The agent's status with its current task, elapsed duration and cost."""
    agent, now = load(ctx), ctx.now_ms()
    run = runs.current_run(ctx.t, agent)
    elapsed = runs.elapsed_ms(run, now) if run is not None else 0
    return {
        "id": agent["id"], "status": status_to_api(runs.agent_status(agent, now), is_sdk(ctx)),
        "task": run["task"] if run else None,
        "taskId": run["id"] if run else None, "duration": pricing.duration_text(elapsed), "durationMs": elapsed,
        "cost": run["result"]["cost"] if run else pricing.cost(0), "provider": agent["provider"],
        "region": agent["region"],
    }


async def run_agent(ctx: Ctx) -> dict:
    """Run a task: 202 at once with taskId and the settled result; events follow on the clock."""
    agent = load(ctx)
    run = start_run(ctx.t, agent, ctx.body.task)
    return runs.run_to_api(run, agent, ctx.now_ms())


async def retry_agent(ctx: Ctx) -> dict:
    """Run the agent's last task again after it failed: 202 with the new run, as run does."""
    agent, now = load(ctx), ctx.now_ms()
    last = runs.current_run(ctx.t, agent)
    status = runs.run_status(last, now) if last is not None else None
    if status != "failed":
        raise Conflict(f"Agent {agent['id']} has no failed task to retry"
                       + (f" (its last task is {status})." if status else "."), {"taskStatus": status})
    run = start_run(ctx.t, agent, last["task"])
    return runs.run_to_api(run, agent, now)


async def exec_code(ctx: Ctx) -> dict:
    """Execute code synchronously: mocked, or for real under --exec local."""
    body: ExecCode = ctx.body
    agent = load(ctx)
    status = require_usable(ctx.t, agent)
    if status == "paused":
        raise Conflict(f"Agent {agent['id']} is paused; resume it before exec.", {"status": status})
    language, emu = body.resolved_language, ctx.emu
    if emu.settings.exec_mode == "local":
        try:
            env = secrets.environment(ctx.t, agent)  # the agent's secrets, as environment variables
            bridge = sandbox.environment(agent, _own_url(ctx))  # and the sandbox package's, which win
            result = await local_exec(language, body.code, emu.workdir / ctx.tenant / agent["id"],
                                      env | bridge, emu.settings.exec_timeout_s)
        except TimeoutError:
            raise Timeout(f"exec exceeded the {emu.settings.exec_timeout_s:g}-second timeout.",
                          {"timeoutSeconds": emu.settings.exec_timeout_s}) from None
        if result is not None:
            return secrets.mask(result.to_api(), env.values())
    return emu.engine.exec(language, body.code, ctx.tenant).to_api()


def _own_url(ctx: Ctx) -> str:
    """This server's root URL as the socket the request came in on names it (not the Host
    header, which the caller chooses): where code run here reaches the server back."""
    server = ctx.request.scope.get("server")
    if not server:
        return str(ctx.request.base_url).rstrip("/")
    host, port = server[0], server[1]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


async def stream_agent(ctx: Ctx) -> Any:
    """SSE of the agent's run events: past events replayed, closed after the final one."""
    follower = runs.RunFollower(ctx.t, load(ctx), task_id=ctx.query.get("taskId"), sdk=is_sdk(ctx),
                                last_event_id=ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId"))
    return stream_response(ctx.emu, follower.poll, idle=follower.idle)


async def pause_agent(ctx: Ctx) -> dict:
    """Pause after the current tool call; answers the agent and its snapshot (the SDK: the
    Snapshot itself, `{id: 'snap_...', size: '1.0 MB', provider}`)."""
    agent = load(ctx)
    snapshot = runs.pause(ctx.t, agent)
    if is_sdk(ctx):  # one body cannot be both: the SDK's `id` is the snapshot's, the reference's the agent's
        return snapshot | {"size": pricing.size_text(snapshot["size"]), "sizeBytes": snapshot["size"],
                           "agentId": agent["id"], "status": "paused"}
    return _answer(ctx, load(ctx)) | {"snapshot": snapshot, "snapshotId": snapshot["id"], "size": snapshot["size"]}


async def resume_agent(ctx: Ctx) -> dict:
    """Resume a paused agent from its snapshot; with `checkpoint`, its files go back to that checkpoint."""
    body: ResumeAgent = ctx.body
    agent = load(ctx)
    require_usable(ctx.t, agent)
    with ctx.store.atomic():  # a refused resume restores nothing
        if body.checkpoint:
            checkpoints.restore(ctx.t, agent, body.checkpoint)
        runs.resume(ctx.t, agent)
    return _answer(ctx, load(ctx))


async def terminate_agent(ctx: Ctx) -> dict:
    """Terminate an agent for good."""
    runs.terminate(ctx.t, load(ctx))
    return {"ok": True, "id": ctx.params["agent_id"], "status": "terminated"}


routes = [
    api_route("/v1/sessions/{session_id}/agents", create_agent, "POST", body=CreateAgent, status=201),
    api_route("/v1/sessions/{session_id}/agents", list_session_agents, query=("status", "provider", "compute", *PAGE)),
    api_route("/v1/agents", list_agents, query=("sessionId", "status", "provider", "compute", *PAGE)),
    api_route("/v1/agents/{agent_id}", get_agent),
    api_route("/v1/agents/{agent_id}/status", agent_status),
    api_route("/v1/agents/{agent_id}/run", run_agent, "POST", body=RunAgent, status=202),
    api_route("/v1/agents/{agent_id}/retry", retry_agent, "POST", status=202),
    api_route("/v1/agents/{agent_id}/exec", exec_code, "POST", body=ExecCode),
    api_route("/v1/agents/{agent_id}/stream", stream_agent, query=("taskId", *LAST_EVENT)),
    api_route("/v1/agents/{agent_id}/pause", pause_agent, "POST"),
    api_route("/v1/agents/{agent_id}/resume", resume_agent, "POST", body=ResumeAgent),
    api_route("/v1/agents/{agent_id}/terminate", terminate_agent, "POST"),
]
