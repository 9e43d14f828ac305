"""Checkpoints and progress of long-running agents (sdk-compat.md, "Agent instance").

A checkpoint records a phase, a percentage and metadata, with a copy of the agent's files
(agent_files.py) as they are at that instant; `POST /v1/agents/:id/resume {checkpoint}`
rolls the files back to it. `GET /v1/agents/:id/progress` reads the current phase from the
checkpoint made or resumed from last (`used_seq`: the clock may be frozen, so an order,
not an instant), and the durations from the virtual clock: total since the agent was
created, active as the sum of its runs' working time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clock import iso, parse_iso
from ..domain import pricing, runs
from ..errors import Conflict, NotFound
from ..http import Ctx, api_route
from ..models.files import CreateCheckpoint
from .agents import load, require_usable

if TYPE_CHECKING:
    from ..emulator import Emulator
    from ..store import Store

MAX_CHECKPOINTS = 100  # per agent
_STATUS = {"paused": "hibernated", "terminated": "terminated"}  # anything else is active


def checkpoint_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "agentId": row["agent_id"], "snapshotId": row["snapshot_id"], "phase": row["phase"],
            "progress": row["progress"], "metadata": row["metadata"], "createdAt": row["created_at"]}


async def create_checkpoint(ctx: Ctx) -> dict[str, Any]:
    """Checkpoint the agent: its phase, progress and metadata, and a copy of its files."""
    body: CreateCheckpoint = ctx.body
    agent = load(ctx)
    require_usable(ctx, agent)
    store, now = ctx.emu.store, ctx.now_ms()
    if store.scalar("SELECT COUNT(*) FROM checkpoints WHERE agent_id = ?", [agent["id"]]) >= MAX_CHECKPOINTS:
        raise Conflict(f"Agent {agent['id']} already has {MAX_CHECKPOINTS} checkpoints.", {"limit": MAX_CHECKPOINTS})
    with store.atomic():
        row = store.insert("checkpoints", {
            "id": ctx.emu.new_id("ckpt", ctx.tenant), "tenant": ctx.tenant, "agent_id": agent["id"],
            "snapshot_id": ctx.emu.new_id("snap", ctx.tenant), "phase": body.phase, "progress": body.progress,
            "metadata": body.metadata, "created_at": iso(now), "used_seq": _next_use(store, agent["id"])})
        _copy_files(store, "agent_files", "agent_id", agent["id"], "checkpoint_files", "checkpoint_id", row["id"])
    return checkpoint_to_api(row)


async def list_checkpoints(ctx: Ctx) -> dict[str, Any]:
    """The agent's checkpoints, oldest first."""
    agent = load(ctx)
    rows = ctx.emu.store.all("SELECT * FROM checkpoints WHERE agent_id = ? ORDER BY id", [agent["id"]])
    return {"data": [checkpoint_to_api(row) for row in rows]}


async def agent_progress(ctx: Ctx) -> dict[str, Any]:
    """Phase, checkpoints, total and active durations, and status of a long-running agent."""
    agent, now, store = load(ctx), ctx.now_ms(), ctx.emu.store
    current = store.one("SELECT * FROM checkpoints WHERE agent_id = ? ORDER BY used_seq DESC LIMIT 1",
                        [agent["id"]])
    made = store.one("SELECT COUNT(*) AS n, MAX(created_at) AS last FROM checkpoints WHERE agent_id = ?",
                     [agent["id"]])
    active = sum(runs.elapsed_ms(run, now) for run in store.all("SELECT * FROM runs WHERE agent_id = ?", [agent["id"]]))
    total = max(0, now - parse_iso(agent["created_at"]))
    return {
        "phase": current["phase"] if current else None, "progress": current["progress"] if current else 0,
        "checkpoints": made["n"], "totalDuration": pricing.duration_text(total), "totalDurationMs": total,
        "activeDuration": pricing.duration_text(active), "activeDurationMs": active,
        "status": _STATUS.get(runs.agent_status(agent, now), "active"), "lastCheckpointAt": made["last"],
    }


def _copy_files(store: "Store", source: str, source_key: str, source_id: str,
                target: str, target_key: str, target_id: str) -> None:
    """Copy one owner's files (an agent's or a checkpoint's) to another owner, in SQL."""
    columns = "path, tenant, content, encoding, size, modified_at"
    store.db.execute(f"INSERT INTO {target} ({target_key}, {columns}) SELECT ?, {columns} FROM {source} "
                     f"WHERE {source_key} = ?", [target_id, source_id])


def _next_use(store: "Store", agent_id: str) -> int:
    """The next number in the order checkpoints are made or resumed from (the clock may be frozen)."""
    return store.scalar("SELECT COALESCE(MAX(used_seq), 0) + 1 FROM checkpoints WHERE agent_id = ?", [agent_id])


def restore(emu: "Emulator", agent: dict, checkpoint_id: str) -> None:
    """Put the agent's files back as they were at the checkpoint (call inside the resume's
    transaction); NotFound for a checkpoint that is not this agent's."""
    store = emu.store
    row = store.one("SELECT id FROM checkpoints WHERE id = ? AND agent_id = ?", [checkpoint_id, agent["id"]])
    if row is None:
        raise NotFound("checkpoint", checkpoint_id)
    with store.atomic():
        store.db.execute("DELETE FROM agent_files WHERE agent_id = ?", [agent["id"]])
        _copy_files(store, "checkpoint_files", "checkpoint_id", checkpoint_id, "agent_files", "agent_id", agent["id"])
        store.db.execute("UPDATE checkpoints SET used_seq = ? WHERE id = ?",
                         [_next_use(store, agent["id"]), checkpoint_id])


routes = [
    api_route("/v1/agents/{agent_id}/checkpoints", create_checkpoint, "POST", body=CreateCheckpoint, status=201),
    api_route("/v1/agents/{agent_id}/checkpoints", list_checkpoints),
    api_route("/v1/agents/{agent_id}/progress", agent_progress),
]
