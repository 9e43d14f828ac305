"""Checkpoints and progress of long-running agents (sdk-compat.md, "Agent instance").

A checkpoint records a phase, a percentage and metadata, with a copy of the agent's files
(agent_files.py) as they are at that instant; `POST /v1/agents/:id/resume {checkpoint}`
rolls the files back to it (domain/checkpoints.py holds both copies). `GET
/v1/agents/:id/progress` reads the current phase from the checkpoint made or resumed from
last (`used_seq`: the clock may be frozen, so an order, not an instant), or from the
sandbox's last progress report when that came at or after it (domain/sandbox.py), and
the durations from the virtual clock: total since the agent was created, active as the
sum of its runs' working time.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.clock import parse_iso
from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies.files import CreateCheckpoint
from theazo_emu.theazo.domain import checkpoints, pricing, runs, sandbox
from theazo_emu.theazo.domain.agents import require_usable
from theazo_emu.theazo.domain.checkpoints import TABLE, checkpoint_to_api
from theazo_emu.theazo.routes.agents import load

MAX_CHECKPOINTS = 100  # per agent
_STATUS = {"paused": "hibernated", "terminated": "terminated"}  # anything else is active


async def create_checkpoint(ctx: Ctx) -> dict[str, Any]:
    """Checkpoint the agent: its phase, progress and metadata, and a copy of its files."""
    body: CreateCheckpoint = ctx.body
    agent = load(ctx)
    require_usable(ctx.t, agent)
    if ctx.store.count(TABLE, "agent_id = ?", [agent["id"]]) >= MAX_CHECKPOINTS:
        raise Conflict(f"Agent {agent['id']} already has {MAX_CHECKPOINTS} checkpoints.", {"limit": MAX_CHECKPOINTS})
    return checkpoint_to_api(checkpoints.create(ctx.t, agent, body.phase, body.progress, body.metadata))


async def list_checkpoints(ctx: Ctx) -> dict[str, Any]:
    """The agent's checkpoints, oldest first."""
    agent = load(ctx)
    return {"data": [checkpoint_to_api(row) for row in ctx.store.rows(TABLE, "agent_id = ?", [agent["id"]])]}


async def agent_progress(ctx: Ctx) -> dict[str, Any]:
    """Phase, checkpoints, total and active durations, and status of a long-running agent."""
    agent, now, store = load(ctx), ctx.now_ms(), ctx.store
    current = store.find(TABLE, "agent_id = ?", [agent["id"]], order="used_seq DESC")
    made = store.find(TABLE, "agent_id = ?", [agent["id"]], order=None, columns="COUNT(*) AS n, MAX(created_at) AS last")
    active = sum(runs.elapsed_ms(run, now) for run in store.rows("runs", "agent_id = ?", [agent["id"]]))
    total = max(0, now - parse_iso(agent["created_at"]))
    phase, progress = (current["phase"], current["progress"]) if current else (None, 0)
    reported = sandbox.latest_progress(ctx.t, agent["id"])
    if reported is not None and (current is None or reported["at_ms"] >= parse_iso(current["created_at"])):
        phase, progress = reported["message"], reported["percentage"]
    return {
        "phase": phase, "progress": progress,
        "checkpoints": made["n"], "totalDuration": pricing.duration_text(total), "totalDurationMs": total,
        "activeDuration": pricing.duration_text(active), "activeDurationMs": active,
        "status": _STATUS.get(runs.agent_status(agent, now), "active"), "lastCheckpointAt": made["last"],
    }


routes = [
    api_route("/v1/agents/{agent_id}/checkpoints", create_checkpoint, "POST", body=CreateCheckpoint, status=201),
    api_route("/v1/agents/{agent_id}/checkpoints", list_checkpoints),
    api_route("/v1/agents/{agent_id}/progress", agent_progress),
]
