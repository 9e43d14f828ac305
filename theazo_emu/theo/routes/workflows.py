"""Workflows: GET/POST /api/v1/workflows and POST /api/v1/workflows/:id/run (theo-api.md §1.2).

POST takes the SDK's camelCase body: `name`, `triggerType` (schedule, event, manual) and
`steps` (at least one) are required (400 `missing_fields` naming what is missing);
`triggerConfig` holds a schedule's `cron` (and `timezone`) or an event's `eventType`;
`enabled` defaults to true. It answers 201 `{workflow}`. `run` starts a run now with
`{triggerData}` and answers `{run}` once its (mocked) steps are done. Scheduled workflows
fire on the virtual clock; theo/domain/workflows.py runs them. Another tenant's id is 404.
"""

from __future__ import annotations

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.platform import CreateWorkflow, RunWorkflow
from theazo_emu.theo.domain import workflows as domain
from theazo_emu.theo.domain.errors import TheoError, invalid


async def list_workflows(ctx: Ctx) -> dict:
    """This tenant's workflows, newest first."""
    return {"workflows": [domain.workflow_to_api({**row, "tenant": ctx.tenant})
                          for row in ctx.store.rows(domain.TABLE, order="id DESC")]}


async def create_workflow(ctx: Ctx) -> dict:
    """Create a workflow with a schedule, event or manual trigger."""
    body: CreateWorkflow = ctx.body
    missing = [name for name in ("name", "triggerType", "steps") if not getattr(body, name)]
    if missing:
        raise TheoError(400, "missing_fields", f"Missing required fields: {', '.join(missing)} (steps needs at "
                                               "least one step).")
    try:
        problem = domain.check_trigger(body.triggerType, body.triggerConfig)  # type: ignore[arg-type]
    except ValueError as exc:
        raise invalid("triggerConfig", str(exc)) from None
    if problem:
        raise TheoError(400, "missing_fields", f"Missing required fields: {problem}.")
    names = [step.name for step in body.steps or ()]
    targets = [t for step in body.steps or () for t in (step.onSuccess, step.onFailure) if t is not None]
    unknown = [t for t in targets if t not in names]
    if unknown:
        raise invalid("steps", f"onSuccess/onFailure name no step: {unknown[0][:60]!r}")
    with ctx.store.atomic():
        row = domain.create(ctx.t, name=body.name or "", trigger_type=body.triggerType or "manual",
                            config=body.triggerConfig, steps=[s.model_dump(exclude_none=True) for s in body.steps or ()],
                            enabled=body.enabled)
    return {"workflow": domain.workflow_to_api(row)}


async def run_workflow(ctx: Ctx) -> dict:
    """Run a workflow now with `triggerData`."""
    body: RunWorkflow = ctx.body
    row = ctx.store.get(domain.TABLE, ctx.params["workflow_id"], domain.KIND)
    with ctx.store.atomic():
        done = domain.run(ctx.t, {**row, "tenant": ctx.tenant}, "manual", body.triggerData)
    return {"run": domain.run_to_api(done)}


routes = [
    api_route("/api/v1/workflows", list_workflows),
    api_route("/api/v1/workflows", create_workflow, "POST", body=CreateWorkflow, status=201),
    api_route("/api/v1/workflows/{workflow_id}/run", run_workflow, "POST", body=RunWorkflow),
]
