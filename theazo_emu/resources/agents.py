"""Agents: create, read, list, run, exec, stream, pause, resume, terminate.

Reference section "Agents" plus the SDK's GET /v1/agents(/:id), /v1/sessions/:id/agents
and /v1/agents/:id/status. Both create-body shapes are accepted (models.CreateAgent).
Timelines live in runs.py; this module only checks state and shapes answers. Illegal
transitions are 409 `conflict`; limits are checked in limits.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..domain import limits, pricing, runs
from ..errors import Conflict, NotFound, Timeout
from ..http import Ctx, PageParams, api_route, page_body, query_choice
from ..mock.execution import local_exec
from ..models import CreateAgent, ExecCode, ResumeAgent, RunAgent
from ..sse import Frame, stream_response
from . import providers, secrets
from .agent_definitions import agent_settings
from .sessions import load as load_session
from .sessions import require_active

if TYPE_CHECKING:
    from ..emulator import Emulator

STATUSES = ("idle", "running", "paused", "terminated")
DEFAULT_TIMEOUT_S = 300
_EFFECTIVE_STATUS = "(CASE WHEN status = 'running' AND busy_until_ms <= ? THEN 'idle' ELSE status END)"


def agent_to_api(row: dict, now_ms: int) -> dict[str, Any]:
    return {
        "id": row["id"], "sessionId": row["session_id"], "userId": row["user_id"],
        "status": runs.agent_status(row, now_ms), "provider": row["provider"], "compute": row["compute"],
        "model": row["model"], "browser": bool(row["browser"]), "region": row["region"],
        "instructions": row["instructions"], "tools": row["tools"] or [], "timeout": row["timeout_s"],
        "definitionId": row["definition_id"], "definitionVersion": row["definition_version"],
        "secrets": row["secrets"] or [], "metadata": row["metadata"] or {},
        "currentTaskId": row["current_task_id"], "createdAt": row["created_at"], "updatedAt": row["updated_at"],
        "terminatedAt": row["terminated_at"],
    }


def load(ctx: Ctx) -> dict:
    return ctx.emu.store.get("agents", ctx.tenant, ctx.params["agent_id"], "agent")


def require_usable(ctx: Ctx, agent: dict) -> str:
    """The agent's status, after refusing work on a terminated agent or a stopped session."""
    status = runs.agent_status(agent, ctx.now_ms())
    if status == "terminated":
        raise Conflict(f"Agent {agent['id']} is terminated.", {"status": status})
    require_active(load_session(ctx, agent["session_id"]), ctx.now_ms())
    return status


def new_agent(emu: "Emulator", session: dict, body: CreateAgent) -> dict:
    """Create an agent row in an active session, within its limits (used by every path
    that makes agents: the API, schedules, triggers, workflows, fleets)."""
    now_ms = emu.clock.now_ms()
    require_active(session, now_ms)
    from_definition = agent_settings(emu, session["tenant"], body)  # 404 unknown, 409 archived
    limits.check(emu, session, ("maxAgents",))
    shape, now, tenant = body.normalized(), iso(now_ms), session["tenant"]
    secrets.require_known(emu, tenant, session["id"], body.secrets)  # 422 naming unknown ones
    with emu.store.atomic(savepoint=False):  # every refusal is above: the insert is all it does
        return emu.store.insert("agents", {
            "id": emu.new_id("agt", tenant), "tenant": tenant, "session_id": session["id"],
            "user_id": session["user_id"], "status": "idle",
            "provider": providers.resolve(emu, tenant, shape["provider"]),
            "compute": shape["compute"], "model": shape["model"] or pricing.DEFAULT_MODEL,
            "browser": int(body.browser), "region": body.region or "local", "instructions": body.instructions,
            "tools": body.tools, "timeout_s": shape["timeout_s"] or DEFAULT_TIMEOUT_S,
            "definition_id": body.definition, "definition_version": None, "secrets": body.secrets,
            "metadata": body.metadata or {}, "config": {}, "snapshot": None, "current_task_id": None,
            "busy_until_ms": None, "created_at": now, "updated_at": now, "terminated_at": None,
        } | from_definition)


async def create_agent(ctx: Ctx) -> dict:
    """Create an agent in a session (reference and SDK body shapes)."""
    row = new_agent(ctx.emu, load_session(ctx, ctx.params["session_id"]), ctx.body)
    return agent_to_api(row, ctx.now_ms())


async def get_agent(ctx: Ctx) -> dict:
    """Get one agent."""
    return agent_to_api(load(ctx), ctx.now_ms())


def _list(ctx: Ctx, session_id: str | None) -> dict:
    page, now = PageParams.from_query(ctx, "agt"), ctx.now_ms()
    where, params = "tenant = ?", [ctx.tenant]
    session_id = session_id or ctx.query.get("sessionId")
    if session_id:
        where += " AND session_id = ?"
        params.append(session_id)
    status = query_choice(ctx, "status", STATUSES)
    if status:
        where += f" AND {_EFFECTIVE_STATUS} = ?"
        params += [now, status]
    for column in ("provider", "compute"):
        if ctx.query.get(column):
            where += f" AND {column} = ?"
            params.append(ctx.query[column])
    rows = ctx.emu.store.page("agents", where, params, page.limit, page.after)
    return page_body(rows, page, lambda r: agent_to_api(r, now))


async def list_agents(ctx: Ctx) -> dict:
    """List agents, newest first (filters: status, provider, compute, sessionId)."""
    return _list(ctx, None)


async def list_session_agents(ctx: Ctx) -> dict:
    """List the agents of one session."""
    return _list(ctx, load_session(ctx, ctx.params["session_id"])["id"])


async def agent_status(ctx: Ctx) -> dict:
    """The agent's status with its current task, elapsed duration and cost."""
    agent, now = load(ctx), ctx.now_ms()
    run = runs.current_run(ctx.emu, agent)
    elapsed = runs.elapsed_ms(run, now) if run is not None else 0
    return {
        "id": agent["id"], "status": runs.agent_status(agent, now), "task": run["task"] if run else None,
        "taskId": run["id"] if run else None, "duration": pricing.duration_text(elapsed), "durationMs": elapsed,
        "cost": run["result"]["cost"] if run else pricing.cost(0), "provider": agent["provider"],
        "region": agent["region"],
    }


def start_run(emu: "Emulator", agent: dict, task: str, session: dict | None = None) -> dict:
    """Run a task on an idle agent of an active session, within the session's limits
    (used by the API and by everything that runs agents on its own: schedules, triggers,
    workflows, fleets). Returns the run row. `session` is the agent's session row when the
    caller has just read it (it is read here otherwise)."""
    now = emu.clock.now_ms()
    status = runs.agent_status(agent, now)
    if status != "idle":
        raise Conflict(f"Agent {agent['id']} is {status}; it can run a task only when idle.", {"status": status})
    if session is None:
        session = emu.store.get("sessions", agent["tenant"], agent["session_id"], "session")
    require_active(session, now)
    limits.check(emu, session, ("maxCost", "maxComputeMinutes"))
    run = runs.submit(emu, agent, task)
    if limits.compute_reached(emu, session):
        emu.store.update("sessions", session["id"], {"auto_pause_at_ms": run["end_ms"]})
    return run


async def run_agent(ctx: Ctx) -> dict:
    """Run a task: 202 at once with taskId and the settled result; events follow on the clock."""
    agent = load(ctx)
    run = start_run(ctx.emu, agent, ctx.body.task)
    return runs.run_to_api(run, agent, ctx.now_ms())


async def retry_agent(ctx: Ctx) -> dict:
    """Run the agent's last task again after it failed: 202 with the new run, as run does."""
    agent, now = load(ctx), ctx.now_ms()
    last = runs.current_run(ctx.emu, agent)
    status = runs.run_status(last, now) if last is not None else None
    if status != "failed":
        raise Conflict(f"Agent {agent['id']} has no failed task to retry"
                       + (f" (its last task is {status})." if status else "."), {"taskStatus": status})
    run = start_run(ctx.emu, agent, last["task"])
    return runs.run_to_api(run, agent, now)


async def exec_code(ctx: Ctx) -> dict:
    """Execute code synchronously: mocked, or for real under --exec local."""
    body: ExecCode = ctx.body
    agent = load(ctx)
    status = require_usable(ctx, agent)
    if status == "paused":
        raise Conflict(f"Agent {agent['id']} is paused; resume it before exec.", {"status": status})
    language, emu = body.resolved_language, ctx.emu
    if emu.settings.exec_mode == "local":
        try:
            env = secrets.environment(emu, agent)  # the agent's secrets, as environment variables
            result = await local_exec(language, body.code, emu.workdir / ctx.tenant / agent["id"], env,
                                      emu.settings.exec_timeout_s)
        except TimeoutError:
            raise Timeout(f"exec exceeded the {emu.settings.exec_timeout_s:g}-second timeout.",
                          {"timeoutSeconds": emu.settings.exec_timeout_s}) from None
        if result is not None:
            return secrets.mask(result.to_api(), env.values())
    return emu.engine.exec(language, body.code, ctx.tenant).to_api()


async def stream_agent(ctx: Ctx) -> Any:
    """SSE of the agent's run events: past events replayed, closed after the final one."""
    agent = load(ctx)
    follower = _RunFollower(ctx, agent)
    return stream_response(ctx.emu, follower.poll)


class _RunFollower:
    """Chooses which run a stream shows and hands out its released events.

    With `Last-Event-ID` (`<taskId>:<seq>`) it continues that run, or waits for the next
    one if that run had ended. With `?taskId=` it shows that run. Otherwise it shows the
    agent's latest run if it is in flight, or if it ended but was never streamed to its
    end (run, then connect) — except for SDK clients, which always connect first and then
    start the run they want to see, so for them an ended run is never replayed.
    """

    def __init__(self, ctx: Ctx, agent: dict) -> None:
        self.emu, self.agent_id, self.tenant = ctx.emu, agent["id"], ctx.tenant
        self.run_id: str | None = None
        self.seq = 0
        self.floor = ""  # wait for a run with an id greater than this
        last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId")
        wanted = ctx.query.get("taskId")
        if last and ":" in last:
            run_id, _, seq = last.rpartition(":")
            run = self._run(run_id)
            if run is not None and seq.isdigit():
                self.run_id, self.seq = run["id"], int(seq)
        elif wanted:
            run = self._run(wanted)
            if run is None:
                raise NotFound("task", wanted)
            self.run_id = run["id"]
        else:
            latest = self.emu.store.one("SELECT * FROM runs WHERE agent_id = ? ORDER BY id DESC LIMIT 1", [agent["id"]])
            now = self.emu.clock.now_ms()
            if latest is not None:
                ended = runs.run_status(latest, now) not in ("running", "paused")
                if not ended or (not ctx.sdk and not latest["delivered"]):
                    self.run_id = latest["id"]
                else:
                    self.floor = latest["id"]
            if self.run_id is None and runs.agent_status(agent, now) == "terminated":
                raise Conflict(f"Agent {agent['id']} is terminated and has no run to stream.", {"status": "terminated"})

    def _run(self, run_id: str) -> dict | None:
        return self.emu.store.one("SELECT * FROM runs WHERE id = ? AND agent_id = ?", [run_id, self.agent_id])

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        if self.run_id is None:
            nxt = self.emu.store.one("SELECT id FROM runs WHERE agent_id = ? AND id > ? ORDER BY id LIMIT 1",
                                     [self.agent_id, self.floor])
            if nxt is None:
                agent = self.emu.store.one("SELECT status FROM agents WHERE id = ?", [self.agent_id])
                return [], agent is None or agent["status"] == "terminated", None
            self.run_id, self.seq = nxt["id"], 0
        events = runs.released_events(self.emu, self.run_id, self.seq)
        frames = [Frame(e["event"], e["data"], f"{self.run_id}:{e['seq']}") for e in events]
        if events:
            self.seq = events[-1]["seq"]
        if events and events[-1]["event"] in runs.TERMINAL_EVENTS:
            self.emu.store.update("runs", self.run_id, {"delivered": 1})
            return frames, True, None
        if self.seq and not events and self._ended_at_seq():
            self.floor, self.run_id = self.run_id, None  # Last-Event-ID pointed at the end: wait for the next run
            return self.poll()
        return frames, False, runs.next_release_ms(self.emu, self.run_id)

    def _ended_at_seq(self) -> bool:
        last = self.emu.store.one("SELECT seq, event FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                                  [self.run_id])
        return last is not None and last["seq"] <= self.seq and last["event"] in runs.TERMINAL_EVENTS


async def pause_agent(ctx: Ctx) -> dict:
    """Pause after the current tool call; answers the agent and its snapshot."""
    agent = load(ctx)
    snapshot = runs.pause(ctx.emu, agent)
    body = agent_to_api(load(ctx), ctx.now_ms())
    return body | {"snapshot": snapshot, "snapshotId": snapshot["id"], "size": snapshot["size"]}


async def resume_agent(ctx: Ctx) -> dict:
    """Resume a paused agent from its snapshot; with `checkpoint`, its files go back to that checkpoint."""
    body: ResumeAgent = ctx.body
    agent = load(ctx)
    require_usable(ctx, agent)
    with ctx.emu.store.atomic():  # a refused resume restores nothing
        if body.checkpoint:
            from .checkpoints import restore  # here, not at the top: checkpoints imports this module

            restore(ctx.emu, agent, body.checkpoint)
        runs.resume(ctx.emu, agent)
    return agent_to_api(load(ctx), ctx.now_ms())


async def terminate_agent(ctx: Ctx) -> dict:
    """Terminate an agent for good."""
    runs.terminate(ctx.emu, load(ctx))
    return {"ok": True, "id": ctx.params["agent_id"], "status": "terminated"}


routes = [
    api_route("/v1/sessions/{session_id}/agents", create_agent, "POST", body=CreateAgent, status=201),
    api_route("/v1/sessions/{session_id}/agents", list_session_agents),
    api_route("/v1/agents", list_agents),
    api_route("/v1/agents/{agent_id}", get_agent),
    api_route("/v1/agents/{agent_id}/status", agent_status),
    api_route("/v1/agents/{agent_id}/run", run_agent, "POST", body=RunAgent, status=202),
    api_route("/v1/agents/{agent_id}/retry", retry_agent, "POST", status=202),
    api_route("/v1/agents/{agent_id}/exec", exec_code, "POST", body=ExecCode),
    api_route("/v1/agents/{agent_id}/stream", stream_agent),
    api_route("/v1/agents/{agent_id}/pause", pause_agent, "POST"),
    api_route("/v1/agents/{agent_id}/resume", resume_agent, "POST", body=ResumeAgent),
    api_route("/v1/agents/{agent_id}/terminate", terminate_agent, "POST"),
]
