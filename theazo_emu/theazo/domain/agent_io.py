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
    from theazo_emu.emulator import Emulator

INPUTS, PORTS = "agent_inputs", "agent_ports"
EVENT = "input"


def input_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "agentId": row["agent_id"], "taskId": row["task_id"], "status": row["status"],
            "type": row["type"], "content": row["content"], "metadata": row["metadata"] or {},
            "createdAt": row["created_at"]}


def _event(row: dict) -> dict[str, Any]:
    return {"type": "input", "inputId": row["id"], "inputType": row["type"], "content": row["content"],
            "metadata": row["metadata"] or {}}


def _inject(emu: "Emulator", run_id: str, position: int, at_ms: int, rows: list[dict]) -> None:
    """Insert events for `rows` after the run's first `position` events, released at `at_ms`;
    the later events move up (two passes: the key (run_id, seq) must stay unique meanwhile)."""
    db, count = emu.store.db, len(rows)
    db.execute("UPDATE run_events SET seq = -(seq + ?) WHERE run_id = ? AND seq > ?", [count, run_id, position])
    db.execute("UPDATE run_events SET seq = -seq WHERE run_id = ? AND seq < 0", [run_id])
    emu.store.insert_many("run_events", [
        {"run_id": run_id, "seq": position + i, "event": EVENT, "data": _event(row), "offset_ms": 0, "at_ms": at_ms}
        for i, row in enumerate(rows, 1)])


def send(emu: "Emulator", agent: dict, kind: str, content: str, metadata: dict[str, Any] | None) -> dict:
    """Record input for the agent: delivered into its run in flight now, else queued."""
    tenant, now = agent["tenant"], emu.clock.now_ms()
    run = runs.current_run(emu.tenant(agent["tenant"]), agent) if runs.agent_status(agent, now) in ("running", "paused") else None
    if run is not None and runs.run_status(run, now) not in ("running", "paused"):
        run = None  # an agent paused between runs: the input waits for its next run
    with emu.store.atomic():
        row = emu.store.insert(INPUTS, {
            "id": emu.new_id("inp", tenant), "tenant": tenant, "agent_id": agent["id"],
            "task_id": run["id"] if run else None, "type": kind, "content": content, "metadata": metadata or {},
            "status": "delivered" if run else "queued", "created_at": emu.clock.now_iso()})
        if run is not None:
            released = emu.store.scalar("SELECT COUNT(*) FROM run_events WHERE run_id = ? AND at_ms IS NOT NULL "
                                        "AND at_ms <= ?", [run["id"], now])
            _inject(emu, run["id"], released, now, [row])
    emu.changes.notify()
    return row


def deliver_queued(emu: "Emulator", agent: dict, run: dict) -> None:
    """Input that waited for this run opens its stream, in the order it was sent."""
    queued = emu.store.all("SELECT * FROM agent_inputs WHERE agent_id = ? AND status = 'queued' ORDER BY id",
                           [agent["id"]])
    if not queued:
        return
    with emu.store.atomic():
        _inject(emu, run["id"], 0, run["start_ms"], queued)
        emu.store.db.execute("UPDATE agent_inputs SET status = 'delivered', task_id = ? WHERE agent_id = ? "
                             "AND status = 'queued'", [run["id"], agent["id"]])
    emu.changes.notify()


def expose(emu: "Emulator", agent: dict, port: int) -> tuple[dict, bool]:
    """The agent's exposed port (recorded once): (row, whether it was new)."""
    row = emu.store.one("SELECT * FROM agent_ports WHERE agent_id = ? AND port = ?", [agent["id"], port])
    if row is not None:
        return row, False
    with emu.store.atomic():
        row = emu.store.insert(PORTS, {"agent_id": agent["id"], "port": port, "tenant": agent["tenant"],
                                       "created_at": emu.clock.now_iso()})
    return row, True


def port_path(agent_id: str, port: int) -> str:
    """Where the emulator answers for an exposed port (admin/ports.py)."""
    return f"/_emu/agents/{agent_id}/ports/{port}"


def exposed(emu: "Emulator", agent_id: str, port: int) -> dict | None:
    """The exposed port with its agent's status, whoever's it is (the URL is the credential)."""
    return emu.store.one("SELECT p.agent_id, p.port, p.created_at, a.status FROM agent_ports p "
                         "JOIN agents a ON a.id = p.agent_id WHERE p.agent_id = ? AND p.port = ?", [agent_id, port])
