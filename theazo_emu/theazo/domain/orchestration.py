"""What workflow runs and fleets share: agent references, spawning, events, webhooks.

An agent reference is a definition id (`adef_...`, must exist: 404/409 from
agent_definitions), a definition name (the newest live definition of that name), any other
name (a default agent whose instructions name its role, so SDK examples such as
`agent: 'researcher'` run offline), or an inline agent config (agent_config.py).
`resolve_agent` is the one resolver: schedules, triggers and channels use it too.
Agents are made and run only through agents.new_agent/start_run (limits, ledger).
Events go to `orch_events` with the virtual instant they happen at; `EventFollower` streams
them (replay, Last-Event-ID, close after the terminal event). Workflow webhook steps call
out through outbound.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from theazo_emu.core import jsonio
from theazo_emu.core.errors import ApiError, invalid
from theazo_emu.core.http import validate
from theazo_emu.core.sse import Frame
from theazo_emu.theazo.domain import definitions, runs
from theazo_emu.theazo.domain.agent_config import AgentConfig
from theazo_emu.theazo.domain.agents import new_agent, start_run

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

# ---- agents ----

class Resolved(NamedTuple):
    """An agent reference resolved now: the agent config's fields, and how (`definition`: a
    definition by id or name; `default`: no definition has that name, so a default agent
    configuration runs under it; `inline`: the reference was a config)."""

    fields: dict[str, Any]
    how: str


def default_note(name: str) -> str:
    """What a run of an unresolved name says about itself (history entries, fire answers)."""
    return f"No agent definition is named '{name}': a default agent configuration ran under that name."


def resolve_agent(t: "Tenant", ref: Any) -> Resolved:
    """The one resolver of agent references (workflow steps, fleets, schedules, triggers,
    channels): a definition id (404 unknown, 409 archived), a definition name (its newest live
    definition), any other name (a default agent whose instructions name its role, so SDK
    examples such as `agent: 'researcher'` run offline), or an inline agent config."""
    if isinstance(ref, dict):
        return Resolved(dict(ref), "inline")
    if isinstance(ref, str) and ref.startswith("adef_"):
        definitions.resolve_definition(t, ref)
        return Resolved({"definition": ref}, "definition")
    named = t.store.find("agent_definitions", "name = ? AND archived = 0", [ref], order="id DESC", columns="id")
    if named:
        return Resolved({"definition": named["id"]}, "definition")
    return Resolved({"instructions": f"You are the '{ref}' agent. Complete the task you are given."}, "default")


def agent_request(t: "Tenant", ref: Any, *, timeout: Any = None,
                  allow_tools: list[str] | None = None, deny_tools: list[str] | None = None) -> AgentConfig:
    """The agent config for a reference, checked (raises 404/409/422 as the API would)."""
    fields = resolve_agent(t, ref).fields
    if timeout is not None:
        fields["timeout"] = timeout
    if allow_tools is not None or deny_tools:
        tools = fields.get("tools")
        if tools is None and fields.get("definition"):
            tools = definitions.resolve_definition(t, fields["definition"])["tools"]
        fields["tools"] = [tool for tool in tools or [] if (allow_tools is None or tool in allow_tools)
                           and tool not in (deny_tools or [])]
    return validate(AgentConfig, fields)  # type: ignore[return-value]


def check_agent_ref(t: "Tenant", field: str, ref: Any) -> None:
    """Refuse at creation a definition id that does not exist or is archived."""
    if isinstance(ref, str) and ref.startswith("adef_"):
        row = t.store.find("agent_definitions", "id = ?", [ref], order=None, columns="archived")
        if row is None:
            raise invalid(field, f"unknown agent definition '{ref}'")
        if row["archived"]:
            raise invalid(field, f"agent definition '{ref}' is archived")


def spawn(t: "Tenant", session: dict, config: AgentConfig, task: str) -> tuple[dict, dict]:
    """A fresh agent in the session running `task`: (agent row, run row). Raises ApiError."""
    agent = new_agent(t, session, config)
    try:
        return agent, start_run(t, agent, task)
    except ApiError:
        release(t, agent["id"])
        raise


def release(t: "Tenant", agent_id: str | None) -> None:
    """Terminate the tenant's agent the orchestration made once its work is done or abandoned
    (so it stops counting against maxAgents); an agent already terminated is left alone."""
    if not agent_id:
        return
    agent = t.store.find("agents", "id = ?", [agent_id], order=None)
    if agent is not None and agent["status"] != "terminated":
        runs.terminate(t, agent)


def task_outcome(t: "Tenant", task_id: str) -> dict | None:
    """The settled result of a run whose timeline has ended, else None (running or paused)."""
    run = t.store.find("runs", "id = ?", [task_id], order=None)
    if run is None:
        return {"status": "failed", "error": {"code": "not_found", "message": f"Run {task_id} no longer exists."}}
    status = runs.run_status(run, t.now_ms())
    if status in ("running", "paused"):
        return None
    result = run["result"]
    error = result.get("error")
    if status == "terminated":
        error = {"code": "terminated", "message": "The step's agent was terminated."}
    return {"status": "failed" if error else "completed", "output": parse_output(result["output"]),
            "text": result["output"], "cents": result["cost"]["amount"], "durationMs": result["durationMs"],
            "error": error}


def parse_output(text: str) -> Any:
    """An agent's output: the JSON value when the text is a JSON object or list, else the text."""
    stripped = text.strip() if isinstance(text, str) else ""
    if stripped[:1] in ("{", "["):
        try:
            return jsonio.loads(stripped)
        except jsonio.JsonRejected:
            pass
    return text


def task_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


# ---- events ----

def append_events(t: "Tenant", table: str, owner: dict, events: Iterable[tuple[str, dict]]) -> int:
    """Store events for a workflow run or a fleet at the current instant; returns the new seq."""
    seq, now = owner["event_seq"], t.now_ms()
    for event, data in events:
        seq += 1
        t.store.insert("orch_events", {"owner_id": owner["id"], "seq": seq, "tenant": t.name,
                                       "event": event, "data": data, "at_ms": now})
    if seq != owner["event_seq"]:
        t.store.update(table, owner["id"], {"event_seq": seq})
        owner["event_seq"] = seq
    return seq


class EventFollower:
    """Hands out an owner's released events; finished once the latest event is a terminal
    one (a retried workflow run has events after its `workflow:failed`, so it goes on)."""

    def __init__(self, t: "Tenant", owner_id: str, terminal: tuple[str, ...], last_event_id: str | None) -> None:
        self.t, self.owner_id, self.terminal = t, owner_id, terminal
        self.seq = 0
        if last_event_id:
            owner, _, seq = last_event_id.rpartition(":")
            if owner == owner_id and seq.isdigit():
                self.seq = int(seq)

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        rows = self.t.store.rows("orch_events", "owner_id = ? AND seq > ? AND at_ms <= ?",
                                 [self.owner_id, self.seq, self.t.now_ms()], order="seq")
        frames = [Frame(r["event"], r["data"], f"{self.owner_id}:{r['seq']}") for r in rows]
        if rows:
            self.seq = rows[-1]["seq"]
        last = self.t.store.find("orch_events", "owner_id = ? AND seq <= ?", [self.owner_id, self.seq],
                                 order="seq DESC", columns="event")
        return frames, last is not None and last["event"] in self.terminal, None
