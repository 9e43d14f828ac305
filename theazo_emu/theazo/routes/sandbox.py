"""The sandbox bridge: POST /v1/sandbox/{log,model,span,progress,complete}, which the
`theazo-sandbox` package calls from inside an agent's sandbox (DESIGN.md, "API keys and
tenants"). The package sends no key: a report's tenant is its agent's, and the agent's
session must be the `sessionId` it names. An unknown agent and a wrong session are the one
404, worded alike, so the route tells a caller nothing about ids it does not already hold
both of; a terminated agent is 409. Each report answers 202 with where it landed (its
sandbox run's `taskId` and the event's `seq`); what it does is domain/sandbox.py's.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import ApiError, Conflict, NotFound
from theazo_emu.core.http import Ctx, api_route, public_row
from theazo_emu.theazo.bodies.sandbox import (
    SandboxComplete,
    SandboxLog,
    SandboxModel,
    SandboxProgress,
    SandboxReport,
    SandboxSpan,
)
from theazo_emu.theazo.domain import pricing, sandbox


class UnknownSandbox(NotFound):
    def __init__(self, agent_id: str, session_id: str) -> None:
        ApiError.__init__(self, f"No agent '{agent_id}' in session '{session_id}': check THEAZO_AGENT_ID and "
                                f"THEAZO_SESSION_ID.", {"resource": "agent", "id": agent_id})


def _agent(ctx: Ctx) -> dict:
    """The reporting agent, the request now acting for its tenant (404, 409 otherwise)."""
    body: SandboxReport = ctx.body
    agent = public_row(ctx, "agents", body.agentId, "agent", proof=lambda row: row["session_id"] == body.sessionId,
                       refusal=UnknownSandbox(body.agentId, body.sessionId))
    if agent["status"] == "terminated":
        raise Conflict(f"Agent {agent['id']} is terminated; its sandbox reports nothing more.",
                       {"status": "terminated"})
    return agent


def _sent_at(body: SandboxReport) -> dict[str, Any]:
    return {"reportedAt": body.timestamp} if body.timestamp else {}


async def sandbox_log(ctx: Ctx) -> dict:
    """A log line from the sandbox: in GET /v1/logs and its stream."""
    body: SandboxLog = ctx.body
    agent = _agent(ctx)
    data = {"type": "log", "level": body.level, "message": body.message, "metadata": body.metadata or {}}
    return sandbox.report(ctx.t, agent, "log", data | _sent_at(body))


async def sandbox_model(ctx: Ctx) -> dict:
    """A model call made in the sandbox: its tokens and cost in usage, billing and the run."""
    body: SandboxModel = ctx.body
    agent = _agent(ctx)
    reported = body.cost.amount if body.cost is not None else None
    cents = sandbox.model_cents(body.model, body.inputTokens, body.outputTokens, reported)
    data = {"type": "model", "model": body.model, "inputTokens": body.inputTokens,
            "outputTokens": body.outputTokens, "cost": pricing.cost(cents)}
    return sandbox.report(ctx.t, agent, "model", data | _sent_at(body),
                          tokens=(body.inputTokens, body.outputTokens), cents=cents, model=body.model)


async def sandbox_span(ctx: Ctx) -> dict:
    """A span timed in the sandbox: a span of its sandbox run's trace."""
    body: SandboxSpan = ctx.body
    agent = _agent(ctx)
    data = {"type": "span", "name": body.name, "status": body.status, "durationMs": body.durationMs,
            "startTime": body.startTime, "endTime": body.endTime, "attributes": body.attributes or {}}
    if body.error is not None:
        data["error"] = body.error
    return sandbox.report(ctx.t, agent, "span", data | _sent_at(body))


async def sandbox_progress(ctx: Ctx) -> dict:
    """Progress from the sandbox: a progress event, and GET /v1/agents/:id/progress."""
    body: SandboxProgress = ctx.body
    agent = _agent(ctx)
    data = {"type": "progress", "percentage": body.percentage, "message": body.message, "text": body.message}
    return sandbox.report(ctx.t, agent, "progress", data | _sent_at(body))


async def sandbox_complete(ctx: Ctx) -> dict:
    """The sandbox's result: the `done` event that ends its run and the run's streams."""
    body: SandboxComplete = ctx.body
    agent = _agent(ctx)
    data = {"type": "done", "text": body.output, "output": body.output, "artifacts": body.artifacts}
    return sandbox.report(ctx.t, agent, "output", data | _sent_at(body), ends=True)


routes = [
    api_route("/v1/sandbox/log", sandbox_log, "POST", body=SandboxLog, public=True, status=202),
    api_route("/v1/sandbox/model", sandbox_model, "POST", body=SandboxModel, public=True, status=202),
    api_route("/v1/sandbox/span", sandbox_span, "POST", body=SandboxSpan, public=True, status=202),
    api_route("/v1/sandbox/progress", sandbox_progress, "POST", body=SandboxProgress, public=True, status=202),
    api_route("/v1/sandbox/complete", sandbox_complete, "POST", body=SandboxComplete, public=True, status=202),
]
