"""Approvals: human-in-the-loop gates of workflow `approval` steps (sdk-compat §3 "theazo.approvals").

Owns the approvals API: list (filters `sessionId`, `status`, `runId`; a bare array for the
SDK, `{data}` with paging otherwise), get, approve (`modifications` merge into the step's
params), deny (`reason`), and the bulk forms. Rows are created by the workflow engine
when an approval step starts (domain/workflow/approvals.py). A pending approval expires at
`expiresAt` on the virtual clock (`workflow.timers.ApprovalTimer`) and its `defaultAction`
decides the step. Only a pending approval
can be resolved: anything else is 409 `conflict` naming its status.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Conflict, NotFound
from theazo_emu.core.http import PAGE, Ctx, Where, api_route
from theazo_emu.theazo.bodies.workflows import ApproveBody, BulkIds, DenyBody
from theazo_emu.theazo.domain.workflow.approvals import KIND, STATUSES, TABLE
from theazo_emu.theazo.domain.workflow.approvals import approval_to_api as _approval
from theazo_emu.theazo.domain.workflow.engine import resolve_approval
from theazo_emu.theazo.surface import list_answer, list_page, omit_null


def approval_to_api(row: dict) -> dict[str, Any]:
    """The SDK's Approval (the reference has none): `resolvedAt`/`resolvedBy` once decided."""
    return omit_null(_approval(row), "resolvedAt", "resolvedBy")


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["approval_id"], KIND)


async def list_approvals(ctx: Ctx) -> Any:
    """List approvals, newest first (filters: sessionId, status, runId)."""
    where = Where(ctx).eq("session_id", "sessionId").eq("run_id", "runId").choice("status", "status", STATUSES)
    return list_answer(ctx, list_page(ctx, TABLE, where, "apr", approval_to_api))


async def get_approval(ctx: Ctx) -> dict:
    """Get one approval."""
    return approval_to_api(_load(ctx))


async def approve(ctx: Ctx) -> dict:
    """Approve a pending approval, optionally changing its params (`modifications`)."""
    body: ApproveBody = ctx.body
    row = resolve_approval(ctx.t, _load(ctx), "approved", by=body.resolvedBy or "api", modifications=body.modifications)
    return approval_to_api(row)


async def deny(ctx: Ctx) -> dict:
    """Deny a pending approval, optionally with a reason."""
    body: DenyBody = ctx.body
    return approval_to_api(resolve_approval(ctx.t, _load(ctx), "denied", by=body.resolvedBy or "api", reason=body.reason))


def _bulk(ctx: Ctx, status: str) -> dict:
    body: BulkIds = ctx.body
    done: list[dict] = []
    failed: list[dict] = []
    for ident in dict.fromkeys(body.ids):
        try:
            row = ctx.store.get(TABLE, ident, KIND)
            done.append(approval_to_api(resolve_approval(
                ctx.t, row, status, by=body.resolvedBy or "api",
                modifications=body.modifications if status == "approved" else None,
                reason=body.reason if status == "denied" else None)))
        except (NotFound, Conflict) as exc:
            failed.append({"id": ident, "code": exc.code, "message": exc.message})
    return {"data": done, status: [a["id"] for a in done], "failed": failed}


async def bulk_approve(ctx: Ctx) -> dict:
    """Approve several approvals; unknown or resolved ones are listed under `failed`."""
    return _bulk(ctx, "approved")


async def bulk_deny(ctx: Ctx) -> dict:
    """Deny several approvals; unknown or resolved ones are listed under `failed`."""
    return _bulk(ctx, "denied")


routes = [
    api_route("/v1/approvals", list_approvals, query=("sessionId", "runId", "status", *PAGE)),
    api_route("/v1/approvals/bulk-approve", bulk_approve, "POST", body=BulkIds),
    api_route("/v1/approvals/bulk-deny", bulk_deny, "POST", body=BulkIds),
    api_route("/v1/approvals/{approval_id}", get_approval),
    api_route("/v1/approvals/{approval_id}/approve", approve, "POST", body=ApproveBody),
    api_route("/v1/approvals/{approval_id}/deny", deny, "POST", body=DenyBody),
]
