"""The workflow family's timers.TimerSources: runs that wake, and approvals that expire.

`WorkflowTimer` wakes a run at its `wake_ms` (delays, retry waits, timeouts) or when an agent
step's timeline ends; `ApprovalTimer` expires a pending approval at `expires_ms`, after
which its `defaultAction` decides the step. Neither may stall the clock: a run the engine
cannot advance is failed, an approval it cannot deliver is expired on its own, both loudly.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain.workflow import approvals, engine

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store

log = logging.getLogger("theazo_emu")


class WorkflowTimer:
    """The timers.TimerSource of workflow runs: delays, retry waits, timeouts, agent steps."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        wake = store.scalar("SELECT MIN(wake_ms) FROM workflow_runs WHERE wake_ms IS NOT NULL")
        task = store.scalar("SELECT MIN(r.end_ms) FROM workflow_tasks t JOIN runs r ON r.id = t.task_id "
                            "WHERE t.done = 0 AND r.end_ms IS NOT NULL")
        return min((v for v in (wake, task) if v is not None), default=None)

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        ids = [r["id"] for r in store.all(
            "SELECT id FROM workflow_runs WHERE wake_ms <= ? UNION "
            "SELECT t.run_id FROM workflow_tasks t JOIN runs r ON r.id = t.task_id "
            "WHERE t.done = 0 AND r.end_ms <= ? ORDER BY 1", [at_ms, at_ms])]
        fired: list[dict[str, Any]] = []
        for run_id in ids:
            run = engine.load(store, run_id)
            if run is None:
                continue
            t = emu.tenant(run["tenant"])
            try:
                fired += engine.advance(t, run)
            except Exception:  # a bug must not stall the clock forever: fail this run, loudly
                log.exception("workflow run %s failed inside the engine", run_id)
                engine.fail_hard(t, run_id)
        return fired


class ApprovalTimer:
    """The timers.TimerSource of approvals: a pending one expires at `expires_ms`."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return approvals.next_expiry(store)

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        fired = []
        for row in approvals.expiring(store, at_ms):
            t = emu.tenant(row["tenant"])
            try:
                engine.resolve_approval(t, row, "expired", by="system:timeout")
            except ApiError:  # resolved meanwhile: nothing left to expire
                continue
            except Exception:  # a bug must not stall the clock: expire it without its step, loudly
                log.exception("approval %s could not be expired through its workflow run", row["id"])
                approvals.record(t, row, "expired", by="system:timeout")
            fired.append({"type": "approval", "approvalId": row["id"], "status": "expired",
                          "defaultAction": row["default_action"], "expiredAt": iso(row["expires_ms"])})
        return fired
