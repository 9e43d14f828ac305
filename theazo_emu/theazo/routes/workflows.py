"""Workflows and workflow runs (sdk-compat §3 "theazo.workflows", reference "Workflows (additional)").

Owns the `workflows` and `workflow_runs` tables and their routes: CRUD (a PATCH makes a new
version; runs keep the version they started with), runs (idempotent on `idempotencyKey`
per workflow), cancel, retry (from the failed step), the SSE stream of a run, estimates and
schedules. Execution is domain/workflow/engine.py's; starting a run is domain/workflows.py's, as
schedules and triggers start them too. Step costs are plain cents in
`stepResults` and stream events (the SDK divides `event.cost` by 100); run totals are Cost
objects. Non-agent steps cost nothing.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, invalid
from theazo_emu.core.http import LAST_EVENT, PAGE, Ctx, Where, api_route, respond
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.bodies.workflows import (
    CreateWorkflow,
    EstimateWorkflow,
    ScheduleWorkflow,
    StartWorkflowRun,
    UpdateWorkflow,
    check_steps,
)
from theazo_emu.theazo.domain import orchestration, pricing, workflows
from theazo_emu.theazo.domain.schedules import create_schedule
from theazo_emu.theazo.domain.workflow import engine
from theazo_emu.theazo.domain.workflow import estimate as workflow_estimate
from theazo_emu.theazo.domain.workflows import RUNS, TABLE, load_workflow
from theazo_emu.theazo.surface import list_page, omit_null

RUN_STATUSES = ("pending", "running", "completed", "partial", "failed", "paused", "cancelled")
_SPEC_FIELDS = ("steps", "inputSchema", "outputSchema", "policy", "onFailure", "retries", "timeout")
# Fields the SDK's Workflow and WorkflowRun types mark optional: absent, not null, when unset.
_OPTIONAL = ("description", "inputSchema", "outputSchema", "policy", "retries", "timeout")
_RUN_OPTIONAL = ("workflowVersion", "currentStepId", "canRetryFrom", "idempotencyKey", "startedAt", "completedAt")


def workflow_to_api(row: dict) -> dict[str, Any]:
    """The SDK's Workflow (the reference defers to it): optional fields absent when unset,
    `timeout` a duration text."""
    spec = row["wf_spec"]
    timeout = spec.get("timeout")
    return omit_null({
        "id": row["id"], "name": row["name"], "description": row["description"], "version": row["version"],
        "steps": spec["steps"], "inputSchema": spec.get("inputSchema"), "outputSchema": spec.get("outputSchema"),
        "policy": spec.get("policy"), "onFailure": spec.get("onFailure") or "abort", "retries": spec.get("retries"),
        "timeout": timeout if timeout is None or isinstance(timeout, str) else f"{timeout:g}s",
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }, *_OPTIONAL)


def run_to_api(row: dict) -> dict[str, Any]:
    nodes = row["wf_state"]["nodes"]
    results: dict[str, Any] = {}
    for key, node in nodes.items():
        if "parent" in node and "itemIndex" in node:
            continue  # map items are listed under their map step
        results[key] = _step_result(node)
        if node["type"] == "map" and "items" in node:
            results[key]["items"] = [_step_result(nodes[f"{key}[{i}]"]) | {"itemIndex": i}
                                     for i in range(node["items"]) if f"{key}[{i}]" in nodes]
    body = {
        "id": row["id"], "workflowId": row["workflow_id"], "workflowVersion": row["workflow_version"],
        "status": row["status"], "currentStepId": row["current_step_id"], "stepResults": results,
        "sharedState": row["wf_state"]["shared"], "totalCost": pricing.cost(row["total_cents"]),
        "canRetryFrom": row["can_retry_from"], "idempotencyKey": row["idempotency_key"], "input": row["wf_input"],
        "output": row["wf_output"], "userId": row["user_id"], "sessionId": row["session_id"],
        "createdAt": row["created_at"], "startedAt": row["started_at"], "completedAt": row["completed_at"],
    }
    if row["wf_error"]:
        body["error"] = row["wf_error"]
    return omit_null(body, *_RUN_OPTIONAL)


def _step_result(node: dict) -> dict[str, Any]:
    result: dict[str, Any] = {"status": "running" if node["status"] in ("waiting", "retrying") else node["status"],
                              "type": node["type"], "cost": node["cost"], "attempts": node["attempt"]}
    for name, field in (("output", "output"), ("durationMs", "duration"), ("agentId", "agentId"),
                        ("taskId", "taskId"), ("error", "error"), ("errorCode", "errorCode"),
                        ("approvalId", "approvalId"), ("reason", "reason")):
        if node.get(name) is not None:
            result[field] = node[name]
    if node["status"] in ("waiting", "retrying"):
        result["phase"] = "awaiting_approval" if node["status"] == "waiting" else "retry_scheduled"
    for name, field in (("startedMs", "startedAt"), ("completedMs", "completedAt")):
        if node.get(name) is not None:
            result[field] = iso(node[name])
    return result


def _load_run(ctx: Ctx) -> dict:
    return ctx.store.get(RUNS, ctx.params["run_id"], "workflow run")


def _spec(body: UpdateWorkflow, base: dict[str, Any]) -> dict[str, Any]:
    """The stored spec: `base` overlaid with the fields this body sets."""
    spec = dict(base)
    for name in _SPEC_FIELDS:
        if name in body.model_fields_set:
            value = getattr(body, name)
            spec[name] = value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value
    return {k: v for k, v in spec.items() if v is not None}


def _check(ctx: Ctx, spec: dict[str, Any], body: UpdateWorkflow) -> None:
    for field, ref in check_steps(spec["steps"], body.policy if "policy" in body.model_fields_set else None):
        orchestration.check_agent_ref(ctx.t, field, ref)


async def create_workflow(ctx: Ctx) -> dict:
    """Create a workflow (version 1); the step graph is checked in full."""
    body: CreateWorkflow = ctx.body
    spec = _spec(body, {})
    _check(ctx, spec, body)
    now = ctx.now_iso()
    with ctx.store.atomic():
        row = ctx.store.insert(TABLE, {
            "id": ctx.emu.new_id("wf", ctx.tenant), "name": body.name,
            "description": body.description, "version": 1, "wf_spec": spec, "created_at": now, "updated_at": now})
    return workflow_to_api(row)


async def list_workflows(ctx: Ctx) -> dict:
    """List workflows, newest first."""
    return list_page(ctx, TABLE, None, "wf", workflow_to_api)


async def get_workflow(ctx: Ctx) -> dict:
    """Get one workflow (its latest version)."""
    return workflow_to_api(load_workflow(ctx.t, ctx.params["workflow_id"]))


async def update_workflow(ctx: Ctx) -> dict:
    """Change a workflow: the result is its next version (runs in flight keep theirs)."""
    body: UpdateWorkflow = ctx.body
    row = load_workflow(ctx.t, ctx.params["workflow_id"])
    spec = _spec(body, row["wf_spec"])
    _check(ctx, spec, body)
    changes = {"wf_spec": spec, "version": row["version"] + 1, "updated_at": ctx.now_iso()}
    for name in ("name", "description"):
        if name in body.model_fields_set and (name != "name" or body.name is not None):
            changes[name] = getattr(body, name)
    ctx.store.update(TABLE, row["id"], changes)
    return workflow_to_api(load_workflow(ctx.t, row["id"]))


async def delete_workflow(ctx: Ctx) -> dict:
    """Delete a workflow; its runs (and runs in flight) are kept."""
    row = load_workflow(ctx.t, ctx.params["workflow_id"])
    ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"ok": True, "id": row["id"], "deleted": True}


async def run_workflow(ctx: Ctx) -> Any:
    """Start a run (201), or answer the run this idempotencyKey already started (200)."""
    body: StartWorkflowRun = ctx.body
    load_workflow(ctx.t, ctx.params["workflow_id"])  # an unknown workflow is 404 first
    if body.userId is None and body.sessionId is None:
        raise invalid("userId", "required unless 'sessionId' is given")
    row, created = workflows.start(ctx.t, ctx.params["workflow_id"], body.userId, body.sessionId,
                                   body.input, body.idempotencyKey)
    return respond(run_to_api(row), 201 if created else 200)


async def get_run(ctx: Ctx) -> dict:
    """Get one workflow run with its step results."""
    return run_to_api(_load_run(ctx))


async def list_runs(ctx: Ctx) -> dict:
    """List workflow runs, newest first (filters: workflowId, status)."""
    where = Where(ctx).eq("workflow_id", "workflowId").choice("status", "status", RUN_STATUSES)
    return list_page(ctx, RUNS, where, "wfr", run_to_api)


async def cancel_run(ctx: Ctx) -> dict:
    """Cancel a running or paused run: steps in flight stop, their agents are terminated."""
    row = _load_run(ctx)
    if row["status"] not in engine.ACTIVE:
        raise Conflict(f"Workflow run {row['id']} is {row['status']} and cannot be cancelled.",
                       {"status": row["status"]})
    return run_to_api(engine.cancel(ctx.t, row))


async def retry_run(ctx: Ctx) -> dict:
    """Resume a failed run (or one paused by a failure) from its failed step."""
    row = _load_run(ctx)
    if row["status"] != "failed" and not (row["status"] == "paused" and row["wf_state"]["halted"]):
        raise Conflict(f"Workflow run {row['id']} is {row['status']}; only a failed run, or one paused by a "
                       "failed step, can be retried.", {"status": row["status"]})
    if row["wf_error"] and row["wf_error"].get("code") == "internal_error":
        raise Conflict(f"Workflow run {row['id']} stopped on an engine error and cannot be retried.",
                       {"status": row["status"]})
    return run_to_api(engine.retry(ctx.t, row))


async def stream_run(ctx: Ctx) -> Any:
    """SSE of a run's step events: past ones replayed, closed after the run ends."""
    row = _load_run(ctx)
    last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId")
    follower = orchestration.EventFollower(ctx.t, row["id"], engine.TERMINAL_EVENTS, last)
    return stream_response(ctx.emu, follower.poll)


async def estimate_workflow(ctx: Ctx) -> dict:
    """Estimate cost and compute minutes from the step graph, the input and past runs."""
    body: EstimateWorkflow = ctx.body
    row = load_workflow(ctx.t, ctx.params["workflow_id"])
    history = ctx.store.rows(RUNS, "workflow_id = ? AND status = 'completed'", [row["id"]], order="id DESC",
                             limit=20, columns="wf_state")
    return workflow_estimate.estimate(row["wf_spec"], body.input or {}, history)


async def schedule_workflow(ctx: Ctx) -> dict:
    """Run this workflow on a cron schedule (a schedule whose action is a workflow-run)."""
    body: ScheduleWorkflow = ctx.body
    row = load_workflow(ctx.t, ctx.params["workflow_id"])
    config = {"workflowId": row["id"], "userId": body.userId}
    if body.input is not None:
        config["input"] = body.input
    return create_schedule(ctx.t, name=body.name or f"{row['name']} (workflow)", cron=body.cron,
                           action={"type": "workflow-run", "config": config}, timezone=body.timezone)


routes = [
    api_route("/v1/workflows", create_workflow, "POST", body=CreateWorkflow, status=201),
    api_route("/v1/workflows", list_workflows, query=PAGE),
    api_route("/v1/workflows/{workflow_id}", get_workflow),
    api_route("/v1/workflows/{workflow_id}", update_workflow, "PATCH", body=UpdateWorkflow),
    api_route("/v1/workflows/{workflow_id}", delete_workflow, "DELETE"),
    api_route("/v1/workflows/{workflow_id}/runs", run_workflow, "POST", body=StartWorkflowRun, status=201,
              also=(200,)),
    api_route("/v1/workflows/{workflow_id}/estimate", estimate_workflow, "POST", body=EstimateWorkflow),
    api_route("/v1/workflows/{workflow_id}/schedule", schedule_workflow, "POST", body=ScheduleWorkflow, status=201),
    api_route("/v1/workflow-runs", list_runs, query=("workflowId", "status", *PAGE)),
    api_route("/v1/workflow-runs/{run_id}", get_run),
    api_route("/v1/workflow-runs/{run_id}/cancel", cancel_run, "POST"),
    api_route("/v1/workflow-runs/{run_id}/retry", retry_run, "POST"),
    api_route("/v1/workflow-runs/{run_id}/stream", stream_run, query=LAST_EVENT),
]
