"""What goes into a running agent and what its sandbox exposes: sent input and ports.

The SDK's `agent.send(input)` (POST /v1/agents/:id/send) and `agent.ports.expose(port)`
(POST /v1/agents/:id/ports); the one writer of `agent_inputs` and `agent_ports`. Input
sent while a run is in flight (or paused) becomes an `input` event of that run at the
current instant, placed after the events already released, so every stream of the agent
shows it next; input sent to an idle agent waits and opens the stream of its next run
(`deliver_queued`, called by agents.start_run). The mock engine does not read it: a run's
outcome was settled at submission. An exposed port is an emulator-local URL that the admin
surface answers (admin/ports.py); nothing listens behind it, since the sandbox is mocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.theazo.domain import runs

if TYPE_CHECKING:
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

INPUTS, PORTS = "agent_inputs", "agent_ports"
EVENT = "input"


def input_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "agentId": row["agent_id"], "taskId": row["task_id"], "status": row["status"],
            "type": row["type"], "content": row["content"], "metadata": row["metadata"] or {},
            "createdAt": row["created_at"]}


def _event(row: dict) -> dict[str, Any]:
    return {"type": "input", "inputId": row["id"], "inputType": row["type"], "content": row["content"],
            "metadata": row["metadata"] or {}}


def _inject(t: "Tenant", run_id: str, position: int, at_ms: int, rows: list[dict]) -> None:
    """Insert events for `rows` after the run's first `position` events, released at `at_ms`;
    the later events move up (two passes: the key (run_id, seq) must stay unique meanwhile)."""
    view, count = t.store, len(rows)
    view.execute(f"UPDATE run_events SET seq = -(seq + :count) WHERE {runs.OF_RUN} AND seq > :position",
                 count=count, run=run_id, position=position)
    view.execute(f"UPDATE run_events SET seq = -seq WHERE {runs.OF_RUN} AND seq < 0", run=run_id)
    view.store.insert_many("run_events", [  # a run of this tenant's own rows (no tenant column)
        {"run_id": run_id, "seq": position + i, "event": EVENT, "data": _event(row), "offset_ms": 0, "at_ms": at_ms}
        for i, row in enumerate(rows, 1)])


def send(t: "Tenant", agent: dict, kind: str, content: str, metadata: dict[str, Any] | None) -> dict:
    """Record input for the agent: delivered into its run in flight now, else queued."""
    now = t.now_ms()
    run = runs.current_run(t, agent) if runs.agent_status(agent, now) in ("running", "paused") else None
    if run is not None and runs.run_status(run, now) not in ("running", "paused"):
        run = None  # an agent paused between runs: the input waits for its next run
    with t.store.atomic():
        row = t.store.insert(INPUTS, {
            "id": t.new_id("inp"), "tenant": t.name, "agent_id": agent["id"],
            "task_id": run["id"] if run else None, "type": kind, "content": content, "metadata": metadata or {},
            "status": "delivered" if run else "queued", "created_at": t.now_iso()})
        if run is not None:
            released = t.store.select(f"SELECT COUNT(*) AS n FROM run_events WHERE {runs.OF_RUN} AND at_ms IS NOT NULL "
                                      "AND at_ms <= :now", run=run["id"], now=now)[0]["n"]
            _inject(t, run["id"], released, now, [row])
    t.changes.notify()
    return row


def deliver_queued(t: "Tenant", agent: dict, run: dict) -> None:
    """Input that waited for this run opens its stream, in the order it was sent."""
    queued = t.store.rows(INPUTS, "agent_id = ? AND status = 'queued'", [agent["id"]])
    if not queued:
        return
    with t.store.atomic():
        _inject(t, run["id"], 0, run["start_ms"], queued)
        t.store.execute("UPDATE agent_inputs SET status = 'delivered', task_id = :run WHERE tenant = :tenant "
                        "AND agent_id = :agent AND status = 'queued'", run=run["id"], agent=agent["id"])
    t.changes.notify()


def expose(t: "Tenant", agent: dict, port: int) -> tuple[dict, bool]:
    """The agent's exposed port (recorded once): (row, whether it was new)."""
    row = t.store.find(PORTS, "agent_id = ? AND port = ?", [agent["id"], port], order=None)
    if row is not None:
        return row, False
    with t.store.atomic():
        row = t.store.insert(PORTS, {"agent_id": agent["id"], "port": port, "tenant": t.name,
                                     "created_at": t.now_iso()})
    return row, True


def port_path(agent_id: str, port: int) -> str:
    """Where the emulator answers for an exposed port (admin/ports.py)."""
    return f"/_emu/agents/{agent_id}/ports/{port}"


def exposed(store: "Store", agent_id: str, port: int) -> dict | None:
    """The exposed port with its agent's status, whoever's it is (the URL is the credential):
    across tenants, so on the whole store, which the caller hands over."""
    return store.one("SELECT p.agent_id, p.port, p.created_at, a.status FROM agent_ports p "
                     "JOIN agents a ON a.id = p.agent_id WHERE p.agent_id = ? AND p.port = ?", [agent_id, port])
