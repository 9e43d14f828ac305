"""Approvals: human-in-the-loop gates of workflow `approval` steps (sdk-compat §3 "theazo.approvals").

Owns the approvals API: list (filters `sessionId`, `status`, `runId`; a bare array for the
SDK, `{data}` with paging otherwise), get, approve (`modifications` merge into the step's
params), deny (`reason`), and the bulk forms. Rows are created by the workflow engine
when an approval step starts. A pending approval expires at `expiresAt` on the virtual
clock (`ApprovalTimer`) and its `defaultAction` decides the step. Only a pending approval
can be resolved: anything else is 409 `conflict` naming its status.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..errors import ApiError, Conflict, NotFound
from ..http import Ctx, PageParams, api_route, list_answer, page_body, query_choice
from ..models.workflows import ApproveBody, BulkIds, DenyBody
from ..workflow import engine as engine

if TYPE_CHECKING:
    from ..emulator import Emulator

log = logging.getLogger("theazo_emu")
TABLE, KIND = "approvals", "approval"
STATUSES = ("pending", "approved", "denied", "expired")


def approval_to_api(row: dict) -> dict[str, Any]:
    return {
        "id": row["id"], "agentId": row["agent_id"], "runId": row["run_id"], "stepId": row["step_id"],
        "sessionId": row["session_id"], "userId": row["user_id"], "action": row["action_name"],
        "params": row["apr_params"] or {}, "status": row["status"], "defaultAction": row["default_action"],
        "requestedAt": row["requested_at"], "expiresAt": row["expires_at"], "resolvedAt": row["resolved_at"],
        "resolvedBy": row["resolved_by"], "modifications": row["apr_modifications"], "reason": row["reason"],
    }


def resolve(emu: "Emulator", approval: dict, status: str, *, by: str, modifications: dict | None = None,
            reason: str | None = None) -> dict:
    """Approve, deny or expire a pending approval, then let its workflow step go on."""
    if approval["status"] != "pending":
        raise Conflict(f"Approval {approval['id']} is {approval['status']}; only a pending approval can be "
                       "resolved.", {"status": approval["status"], "id": approval["id"]})
    changes = {"status": status, "resolved_at": emu.clock.now_iso(), "resolved_by": by,
               "apr_modifications": modifications, "reason": reason}
    with emu.store.atomic():
        emu.store.update(TABLE, approval["id"], changes)
        approval = {**approval, **changes}
        engine.approval_resolved(emu, approval)
    emu.changes.notify()
    return approval


def _load(ctx: Ctx) -> dict:
    return ctx.emu.store.get(TABLE, ctx.tenant, ctx.params["approval_id"], KIND)


async def list_approvals(ctx: Ctx) -> Any:
    """List approvals, newest first (filters: sessionId, status, runId)."""
    page = PageParams.from_query(ctx, "apr")
    where, params = "tenant = ?", [ctx.tenant]
    for name, column in (("sessionId", "session_id"), ("runId", "run_id")):
        if ctx.query.get(name):
            where += f" AND {column} = ?"
            params.append(ctx.query[name])
    status = query_choice(ctx, "status", STATUSES)
    if status:
        where += " AND status = ?"
        params.append(status)
    rows = ctx.emu.store.page(TABLE, where, params, page.limit, page.after)
    body = page_body(rows, page, approval_to_api)
    return list_answer(ctx, body)


async def get_approval(ctx: Ctx) -> dict:
    """Get one approval."""
    return approval_to_api(_load(ctx))


async def approve(ctx: Ctx) -> dict:
    """Approve a pending approval, optionally changing its params (`modifications`)."""
    body: ApproveBody = ctx.body
    row = resolve(ctx.emu, _load(ctx), "approved", by=body.resolvedBy or "api", modifications=body.modifications)
    return approval_to_api(row)


async def deny(ctx: Ctx) -> dict:
    """Deny a pending approval, optionally with a reason."""
    body: DenyBody = ctx.body
    return approval_to_api(resolve(ctx.emu, _load(ctx), "denied", by=body.resolvedBy or "api", reason=body.reason))


def _bulk(ctx: Ctx, status: str) -> dict:
    body: BulkIds = ctx.body
    done: list[dict] = []
    failed: list[dict] = []
    for ident in dict.fromkeys(body.ids):
        try:
            row = ctx.emu.store.get(TABLE, ctx.tenant, ident, KIND)
            done.append(approval_to_api(resolve(ctx.emu, row, status, by=body.resolvedBy or "api",
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


class ApprovalTimer:
    """The timers.TimerSource of approvals: a pending one expires at `expires_ms`."""

    def next_due(self, emu: "Emulator") -> int | None:
        return emu.store.scalar("SELECT MIN(expires_ms) FROM approvals WHERE status = 'pending'")

    def fire(self, emu: "Emulator", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        due = emu.store.all("SELECT * FROM approvals WHERE status = 'pending' AND expires_ms <= ? "
                            "ORDER BY expires_ms, id", [at_ms])
        fired = []
        for row in due:
            try:
                resolve(emu, row, "expired", by="system:timeout")
            except ApiError:  # resolved meanwhile: nothing left to expire
                continue
            except Exception:  # a bug must not stall the clock: expire it without its step, loudly
                log.exception("approval %s could not be expired through its workflow run", row["id"])
                emu.store.update(TABLE, row["id"], {"status": "expired", "resolved_at": emu.clock.now_iso(),
                                                    "resolved_by": "system:timeout"})
            fired.append({"type": "approval", "approvalId": row["id"], "status": "expired",
                          "defaultAction": row["default_action"], "expiredAt": iso(row["expires_ms"])})
        return fired


routes = [
    api_route("/v1/approvals", list_approvals),
    api_route("/v1/approvals/bulk-approve", bulk_approve, "POST", body=BulkIds),
    api_route("/v1/approvals/bulk-deny", bulk_deny, "POST", body=BulkIds),
    api_route("/v1/approvals/{approval_id}", get_approval),
    api_route("/v1/approvals/{approval_id}/approve", approve, "POST", body=ApproveBody),
    api_route("/v1/approvals/{approval_id}/deny", deny, "POST", body=DenyBody),
]
