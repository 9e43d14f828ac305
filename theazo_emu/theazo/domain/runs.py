"""Run timelines on the virtual clock: submit, pause, resume, terminate, and release.

A run's outcome is settled at submission by the mock engine; its events are then stored
with the virtual instant each is released (`at_ms`). Nothing runs in the background:
status is derived from the clock (a run is running until its last event's instant), so
a frozen clock holds a run mid-flight until it is advanced, and `--pace instant` simply
releases everything at submission. A run submitted while the agent's previous one is still
on its timeline queues behind it: its timeline starts where the previous one ends (the
SDK's `run()` resolves with the settled result, so back-to-back runs are normal). Pausing
stops the agent's clock: the in-flight tool call completes, later events (of the queued
runs too) lose their instants; resuming gives them new ones, in the same order.
Invariant: every write here happens inside one `store.atomic()`, then `changes.notify()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, NotFound
from theazo_emu.core.sse import Frame
from theazo_emu.theazo.domain import events, guardrails, ledger, mcp, pricing
from theazo_emu.theazo.mock import RunRequest

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TERMINAL_EVENTS = ("output", "error")


# run_events has no tenant column: its rows are reached through their run, of this tenant.
OF_RUN = "run_id = :run AND EXISTS (SELECT 1 FROM runs WHERE id = :run AND tenant = :tenant)"


def agent_status(agent: dict, now_ms: int) -> str:
    """The agent's status now: a 'running' agent whose timeline has ended is idle again."""
    busy = agent.get("busy_until_ms")
    if agent["status"] == "running" and busy is not None and busy <= now_ms:
        return "idle"
    return agent["status"]


def run_status(run: dict, now_ms: int) -> str:
    if run["status"] == "running" and run["end_ms"] is not None and run["end_ms"] <= now_ms:
        return run["outcome"]
    return run["status"]


def submit(t: "Tenant", agent: dict, task: str, configured: bool = True) -> dict:
    """Settle a run's outcome, schedule its events, book its cost; returns the run row.
    `configured`: whether the tenant may have MCP tools or webhook endpoints (extras.py)."""
    store, tenant, now = t.store, t.name, t.now_ms()
    definition = store.find("agent_definitions", "id = ?", [agent["definition_id"]], order=None, columns="name") \
        if agent["definition_id"] else None  # fixtures may match a run on its definition's name
    plan = t.engine.plan_run(RunRequest(
        task=task, instructions=agent["instructions"] or "", tools=_tools(t, agent, configured),
        model=agent["model"], definition_id=agent["definition_id"], timeout_s=agent["timeout_s"],
        definition_name=definition["name"] if definition else None, tenant=tenant))
    plan, violation = guardrails.screen_run(t, plan)  # cut at the first output-side violation
    instant = t.settings.pace == "instant"
    start = max(now, agent["busy_until_ms"] or now) if agent_status(agent, now) == "running" else now
    end = start if instant else start + plan.duration_ms
    minutes = pricing.compute_minutes(plan.duration_ms)
    compute_cents = pricing.compute_cents(minutes)
    model_cents = (pricing.model_cents(agent["model"], plan.input_tokens, plan.output_tokens)
                   if plan.cost_cents is None else max(0, plan.cost_cents - compute_cents))  # a fixture's cost
    result = {
        "output": plan.output, "artifacts": plan.artifacts, "toolCalls": plan.tool_calls,
        "cost": pricing.cost(compute_cents + model_cents), "duration": pricing.duration_text(plan.duration_ms),
        "durationMs": plan.duration_ms, "usage": {"inputTokens": plan.input_tokens, "outputTokens": plan.output_tokens},
        "computeMinutes": minutes, "error": plan.error,
    }
    who = {"user_id": agent["user_id"], "session_id": agent["session_id"], "agent_id": agent["id"],
           "model": pricing.model_key(agent["model"]), "provider": agent["provider"]}
    with store.atomic(savepoint=False):  # settled above: from here on it only writes
        run_id = t.new_id("task")
        run = store.insert("runs", {
            "id": run_id, "tenant": tenant, "agent_id": agent["id"], "session_id": agent["session_id"],
            "user_id": agent["user_id"], "task": task, "status": "running", "outcome": plan.outcome,
            "result": result, "created_at": iso(now), "start_ms": start, "end_ms": end,
            "paused_offset_ms": None, "delivered": 0,
        })
        store.store.insert_many("run_events", [  # the new run's own rows (no tenant column: see OF_RUN)
            {"run_id": run_id, "seq": seq, "event": event.event, "data": event.stored_data,
             "offset_ms": event.offset_ms, "at_ms": start if instant else start + event.offset_ms}
            for seq, event in enumerate(plan.events, 1)])
        store.update("agents", agent["id"], {"status": "running", "current_task_id": run_id,
                                             "busy_until_ms": end, "updated_at": iso(now)})
        if violation is not None:
            guardrails.record(t, violation.hit, end if instant else now + violation.offset_ms,
                              source="run", agent_id=agent["id"], session_id=agent["session_id"], task_id=run_id)
        ledger.book(store,
                    ledger.charge(tenant, now, "compute", compute_cents, quantity=minutes, run_id=run_id, **who),
                    ledger.charge(tenant, now, "model", model_cents, input_tokens=plan.input_tokens,
                                  output_tokens=plan.output_tokens, calls=1, run_id=run_id, **who))
        if configured:
            events.publish_run(t, run)
    t.changes.notify()
    return run


def _tools(t: "Tenant", agent: dict, configured: bool) -> tuple[str, ...]:
    """What the run may call: the agent's tools, then its tenant's connected MCP servers' tools."""
    own = tuple(agent["tools"] or ())
    connected = mcp.tools_for_runs(t) if configured else ()
    return tuple(dict.fromkeys(own + connected)) if connected else own


def pause(t: "Tenant", agent: dict) -> dict:
    """Suspend after the current tool call; returns the snapshot stored on the agent."""
    store, now = t.store, t.now_ms()
    status = agent_status(agent, now)
    if status in ("paused", "terminated"):
        raise Conflict(f"Agent {agent['id']} is {status} and cannot be paused.", {"status": status})
    pending_runs = unfinished_runs(t, agent) if status == "running" else []
    run = pending_runs[0] if pending_runs else None  # the one on the timeline now; the rest are queued
    with store.atomic():
        for each in pending_runs:
            pending = store.select(f"SELECT seq, event FROM run_events WHERE {OF_RUN} AND at_ms > :now ORDER BY seq",
                                   run=each["id"], now=now)
            if each is run and pending and pending[0]["event"] == "tool_result":  # the in-flight call completes now
                store.execute(f"UPDATE run_events SET at_ms = :now WHERE {OF_RUN} AND seq = :seq",
                              now=now, run=each["id"], seq=pending[0]["seq"])
            store.execute(f"UPDATE run_events SET at_ms = NULL WHERE {OF_RUN} AND at_ms > :now", run=each["id"], now=now)
            store.update("runs", each["id"], {"status": "paused", "paused_offset_ms": max(0, now - each["start_ms"]),
                                              "end_ms": None})
            events.run_paused(t, each["id"])
        released = store.select(f"SELECT COUNT(*) AS n FROM run_events WHERE {OF_RUN} AND at_ms IS NOT NULL",
                                run=run["id"])[0]["n"] if run else 0
        snapshot = {
            "id": t.new_id("snap"), "size": 1_048_576 + 4096 * released,
            "provider": agent["provider"], "taskId": run["id"] if run else None,
            "offsetMs": max(0, now - run["start_ms"]) if run else 0, "createdAt": iso(now),
        }
        store.update("agents", agent["id"], {"status": "paused", "snapshot": snapshot, "busy_until_ms": None,
                                             "updated_at": iso(now)})
    t.changes.notify()
    return snapshot


def resume(t: "Tenant", agent: dict) -> None:
    """Continue from the snapshot: the paused runs' remaining events get new instants, the
    first run's from now, each queued run's from where the one before it now ends."""
    store, now = t.store, t.now_ms()
    status = agent_status(agent, now)
    if status != "paused":
        raise Conflict(f"Agent {agent['id']} is {status}, not paused; only a paused agent can be resumed.",
                       {"status": status})
    paused = store.rows("runs", "agent_id = ? AND status = 'paused'", [agent["id"]])
    instant = t.settings.pace == "instant"
    with store.atomic():
        cursor = now  # where the next run's remaining timeline starts
        for run in paused:
            offset = run["paused_offset_ms"] or 0
            store.execute(
                "UPDATE run_events SET at_ms = CASE WHEN :instant THEN :cursor ELSE MAX(:cursor, :cursor + offset_ms - "
                f":offset) END WHERE {OF_RUN} AND at_ms IS NULL", instant=instant, cursor=cursor, offset=offset,
                run=run["id"])
            end = store.select(f"SELECT MAX(at_ms) AS end_ms FROM run_events WHERE {OF_RUN}", run=run["id"])[0]["end_ms"]
            store.update("runs", run["id"], {"status": "running", "start_ms": cursor - offset, "end_ms": end,
                                             "paused_offset_ms": None})
            events.run_resumed(t, run["id"], end)
            cursor = max(cursor, end or cursor)
        if paused:
            store.update("agents", agent["id"], {"status": "running", "busy_until_ms": cursor, "updated_at": iso(now)})
        else:
            store.update("agents", agent["id"], {"status": "idle", "updated_at": iso(now)})
    t.changes.notify()


def terminate(t: "Tenant", agent: dict) -> None:
    """Final: unreleased events are dropped and an `error` event ends each unfinished run."""
    store, now = t.store, t.now_ms()
    if agent["status"] == "terminated":
        raise Conflict(f"Agent {agent['id']} is already terminated.", {"status": "terminated"})
    sandbox = open_sandbox_run(t, agent)
    with store.atomic():
        for run in unfinished_runs(t, agent) + ([sandbox] if sandbox else []):
            store.execute(f"DELETE FROM run_events WHERE {OF_RUN} AND (at_ms IS NULL OR at_ms > :now)",
                          run=run["id"], now=now)
            last = store.select(f"SELECT COALESCE(MAX(seq), 0) AS seq FROM run_events WHERE {OF_RUN}",
                                run=run["id"])[0]["seq"]
            data = {"type": "error", "code": "terminated", "message": "The agent was terminated."}
            store.store.insert("run_events", {"run_id": run["id"], "seq": last + 1, "event": "error", "data": data,
                                        "offset_ms": max(0, now - run["start_ms"]), "at_ms": now})
            store.update("runs", run["id"], {"status": "terminated", "end_ms": now})
            events.run_terminated(t, run, now)
        store.update("agents", agent["id"], {"status": "terminated", "terminated_at": iso(now), "snapshot": None,
                                             "busy_until_ms": None, "updated_at": iso(now)})
    t.changes.notify()


def open_sandbox_run(t: "Tenant", agent: dict) -> dict | None:
    """The agent's open sandbox run (domain/sandbox.py): the one kind of run that is
    `running` with no end, since it ends when its code says so, not on a timeline."""
    return t.store.find("runs", "agent_id = ? AND status = 'running' AND end_ms IS NULL", [agent["id"]])


def append_event(t: "Tenant", run: dict, event: str, data: dict[str, Any], at_ms: int) -> int:
    """Add an event after the run's last one, released at `at_ms`; returns its seq."""
    seq = t.store.select(f"SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM run_events WHERE {OF_RUN}",
                         run=run["id"])[0]["seq"]
    t.store.store.insert("run_events", {"run_id": run["id"], "seq": seq, "event": event, "data": data,
                                        "offset_ms": max(0, at_ms - run["start_ms"]), "at_ms": at_ms})
    return seq


def last_event(t: "Tenant", agent_id: str, event: str) -> dict | None:
    """The agent's latest released event named `event`, of any of its runs."""
    rows = t.store.select("SELECT e.data, e.at_ms FROM run_events e JOIN runs r ON r.id = e.run_id "
                          "WHERE r.tenant = :tenant AND r.agent_id = :agent AND e.event = :event "
                          "AND e.at_ms IS NOT NULL AND e.at_ms <= :now ORDER BY e.at_ms DESC, r.id DESC, e.seq DESC "
                          "LIMIT 1", agent=agent_id, event=event, now=t.now_ms())
    return rows[0] if rows else None


def unfinished_runs(t: "Tenant", agent: dict) -> list[dict]:
    """The agent's runs still on (or queued on) its timeline, or paused, oldest first."""
    return t.store.rows("runs", "agent_id = ? AND (status = 'paused' OR (status = 'running' AND end_ms > ?))",
                        [agent["id"], t.now_ms()])


def current_run(t: "Tenant", agent: dict) -> dict | None:
    """The run the agent is on now (the oldest unfinished one, the rest being queued behind
    it), else its latest."""
    if not agent.get("current_task_id"):
        return None
    unfinished = unfinished_runs(t, agent)
    return unfinished[0] if unfinished else t.store.find("runs", "id = ?", [agent["current_task_id"]], order=None)


def released_events(t: "Tenant", run_id: str, after_seq: int) -> list[dict[str, Any]]:
    return t.store.select(f"SELECT * FROM run_events WHERE {OF_RUN} AND seq > :after AND at_ms IS NOT NULL "
                          "AND at_ms <= :now ORDER BY seq", run=run_id, after=after_seq, now=t.now_ms())


def next_release_ms(t: "Tenant", run_id: str) -> int | None:
    return t.store.select(f"SELECT MIN(at_ms) AS at_ms FROM run_events WHERE {OF_RUN} AND at_ms > :now",
                          run=run_id, now=t.now_ms())[0]["at_ms"]


def elapsed_ms(run: dict, now_ms: int) -> int:
    """How long the run has been working by now (its whole duration once it has ended)."""
    duration = run["result"]["durationMs"]
    if run["status"] == "paused":  # a paused run's clock stopped at its pause (end_ms is None then)
        return min(duration, run["paused_offset_ms"] or 0)
    if run_status(run, now_ms) not in ("running", "terminated"):
        return duration  # finished: its whole duration, also under --pace instant
    end = run["end_ms"] if run["end_ms"] is not None else now_ms
    return min(duration, max(0, min(now_ms, end) - run["start_ms"]))


def run_to_api(run: dict, agent: dict, now_ms: int) -> dict:
    """The run as the 202 answer and the SDK's RunResult: taskId plus the settled result."""
    result = run["result"]
    body = {
        "taskId": run["id"], "agentId": run["agent_id"], "sessionId": run["session_id"],
        "status": run_status(run, now_ms), "task": run["task"], "provider": agent["provider"],
        "output": result["output"], "artifacts": result["artifacts"], "cost": result["cost"],
        "duration": result["duration"], "durationMs": result["durationMs"], "toolCalls": result["toolCalls"],
        "usage": result["usage"], "createdAt": run["created_at"],
    }
    if result.get("error"):
        body["error"] = result["error"]
    return body


class RunFollower:
    """Chooses which run a stream shows and hands out its released events.

    With `Last-Event-ID` (`<taskId>:<seq>`) it continues that run, or waits for the next
    one if that run had ended. With `?taskId=` it shows that run. Otherwise it shows the
    agent's latest run if it is in flight, or if it ended but was never streamed to its
    end (run, then connect) — except for SDK clients, which always connect first and then
    start the run they want to see, so for them an ended run is never replayed.
    """

    def __init__(self, t: "Tenant", agent: dict, *, last_event_id: str | None, task_id: str | None,
                 sdk: bool) -> None:
        self.t, self.agent_id = t, agent["id"]
        self.run_id: str | None = None
        self.seq = 0
        self.floor = ""  # wait for a run with an id greater than this
        last, wanted = last_event_id, task_id
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
            latest = current_run(self.t, agent)
            now = self.t.now_ms()
            if latest is not None:
                ended = run_status(latest, now) not in ("running", "paused")
                if not ended or (not sdk and not latest["delivered"]):
                    self.run_id = latest["id"]
                else:
                    self.floor = latest["id"]
            if self.run_id is None and agent_status(agent, now) == "terminated":
                raise Conflict(f"Agent {agent['id']} is terminated and has no run to stream.", {"status": "terminated"})

    def idle(self) -> str | None:
        """What a stream with no run to show says once it opens: the agent is idle, the stream
        shows its next run, and `?taskId=` replays the last one (a comment: every SSE parser skips it)."""
        if self.run_id is not None:
            return None
        path = f"/v1/agents/{self.agent_id}/stream"
        if not self.floor:
            return (f"agent {self.agent_id} is idle and has run nothing yet; this stream shows its next run "
                    f"(POST /v1/agents/{self.agent_id}/run starts one)")
        return (f"agent {self.agent_id} is idle; this stream shows its next run. "
                f"Its last run replays with GET {path}?taskId={self.floor}")

    def _run(self, run_id: str) -> dict | None:
        return self.t.store.find("runs", "id = ? AND agent_id = ?", [run_id, self.agent_id], order=None)

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        if self.run_id is None:
            nxt = self.t.store.find("runs", "agent_id = ? AND id > ?", [self.agent_id, self.floor], columns="id")
            if nxt is None:
                agent = self.t.store.find("agents", "id = ?", [self.agent_id], order=None, columns="status")
                return [], agent is None or agent["status"] == "terminated", None
            self.run_id, self.seq = nxt["id"], 0
        events = released_events(self.t, self.run_id, self.seq)
        frames = [Frame(e["event"], e["data"], f"{self.run_id}:{e['seq']}") for e in events]
        if events:
            self.seq = events[-1]["seq"]
        if events and events[-1]["event"] in TERMINAL_EVENTS:
            self.t.store.update("runs", self.run_id, {"delivered": 1})
            return frames, True, None
        if self.seq and not events and self._ended_at_seq():
            self.floor, self.run_id = self.run_id, None  # Last-Event-ID pointed at the end: wait for the next run
            return self.poll()
        return frames, False, next_release_ms(self.t, self.run_id)

    def _ended_at_seq(self) -> bool:
        last = next(iter(self.t.store.select(f"SELECT seq, event FROM run_events WHERE {OF_RUN} ORDER BY seq DESC "
                                             "LIMIT 1", run=self.run_id)), None)
        return last is not None and last["seq"] <= self.seq and last["event"] in TERMINAL_EVENTS
