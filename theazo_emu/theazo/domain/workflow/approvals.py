"""Approvals: the one writer of the `approvals` table (human-in-the-loop gates of workflow steps).

sdk-compat §3 "theazo.approvals". The engine opens one when an `approval` step starts
(`open_approval`) and expires it when the step is cancelled (`cancel_pending`); the approvals
API and the expiry timer record a decision (`record`), after which engine.resolve_approval
lets the step go on. Only a pending approval can be decided: anything else is 409 `conflict`
naming its status. A pending approval expires at `expires_ms` on the virtual clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict
from theazo_emu.theazo.domain import events

if TYPE_CHECKING:
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "approvals", "approval"
STATUSES = ("pending", "approved", "denied", "expired")


def approval_to_api(row: dict) -> dict[str, Any]:
    """The SDK's Approval: `agentId` the workflow run's agent ("" before any agent step ran)."""
    return {
        "id": row["id"], "agentId": row["agent_id"] or "", "runId": row["run_id"], "stepId": row["step_id"],
        "sessionId": row["session_id"], "userId": row["user_id"], "action": row["action_name"],
        "params": row["apr_params"] or {}, "status": row["status"], "defaultAction": row["default_action"],
        "requestedAt": row["requested_at"], "expiresAt": row["expires_at"], "resolvedAt": row["resolved_at"],
        "resolvedBy": row["resolved_by"], "modifications": row["apr_modifications"], "reason": row["reason"],
    }


def open_approval(t: "Tenant", run: dict, key: str, action: str, params: Any, default_action: str,
                  now_ms: int, expires_ms: int) -> str:
    """A pending approval for step `key` of the workflow run; returns its id. Its agent is
    the run's: the agent of the run's latest agent step, if one has started."""
    tenant = t.name
    approval_id = t.new_id("apr")
    latest = next(iter(t.store.select(
        "SELECT r.agent_id FROM workflow_tasks t JOIN runs r ON r.id = t.task_id AND r.tenant = :tenant "
        "WHERE t.tenant = :tenant AND t.run_id = :run ORDER BY t.task_id DESC LIMIT 1", run=run["id"])), None)
    t.store.insert(TABLE, {
        "id": approval_id, "tenant": tenant, "session_id": run["session_id"], "user_id": run["user_id"],
        "agent_id": latest["agent_id"] if latest else None, "run_id": run["id"], "step_id": key, "node_key": key,
        "action_name": action, "apr_params": params, "status": "pending",
        "default_action": default_action, "requested_at": iso(now_ms),
        "expires_at": iso(expires_ms), "expires_ms": expires_ms, "resolved_at": None, "resolved_by": None,
        "apr_modifications": None, "reason": None,
    })
    events.publish(t, events.Event("approval.requested", {
        "approvalId": approval_id, "workflowRunId": run["id"], "stepId": key, "action": action,
        "sessionId": run["session_id"], "userId": run["user_id"], "expiresAt": iso(expires_ms)}, now_ms))
    return approval_id


def cancel_pending(t: "Tenant", approval_id: str, now_ms: int, reason: str) -> None:
    """Its step was cancelled: a still-pending approval expires, decided by the system."""
    t.store.execute("UPDATE approvals SET status = 'expired', resolved_at = :at, resolved_by = 'system', "
                    "reason = :reason WHERE tenant = :tenant AND id = :id AND status = 'pending'",
                    at=iso(now_ms), reason=reason, id=approval_id)


def record(t: "Tenant", approval: dict, status: str, *, by: str, modifications: dict | None = None,
           reason: str | None = None) -> dict:
    """Decide a pending approval (approved, denied or expired); returns it as it now is."""
    if approval["status"] != "pending":
        raise Conflict(f"Approval {approval['id']} is {approval['status']}; only a pending approval can be "
                       "resolved.", {"status": approval["status"], "id": approval["id"]})
    changes = {"status": status, "resolved_at": t.now_iso(), "resolved_by": by,
               "apr_modifications": modifications, "reason": reason}
    t.store.update(TABLE, approval["id"], changes)
    events.publish(t, events.Event("approval.resolved", {
        "approvalId": approval["id"], "workflowRunId": approval["run_id"], "stepId": approval["step_id"],
        "status": status, "resolvedBy": by, "reason": reason}, t.now_ms()))
    return {**approval, **changes}


def next_expiry(store: "Store") -> int | None:  # every tenant's (ApprovalTimer)
    return store.scalar("SELECT MIN(expires_ms) FROM approvals WHERE status = 'pending'")


def expiring(store: "Store", at_ms: int) -> list[dict]:
    """Pending approvals of every tenant whose time is up at `at_ms`, in the order they expire."""
    return store.all("SELECT * FROM approvals WHERE status = 'pending' AND expires_ms <= ? "
                     "ORDER BY expires_ms, id", [at_ms])
