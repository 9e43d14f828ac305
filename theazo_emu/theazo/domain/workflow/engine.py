"""Workflow runs on the virtual clock: the run state machine (sdk-compat §3 "theazo.workflows").

A run's state (`wf_state`) holds one node per step: top-level and parallel-branch steps by
id, map items as `<map>[i]`, inline condition branches as `<cond>.then|else`. `advance()`
is the whole engine: it harvests finished nodes (agent timelines that ended, delays and
retry waits that fell due, approvals resolved, webhook answers received), moves composite
steps on, starts every top-level step whose dependencies are done, and repeats until
nothing changes at this instant; then it stores state, events and `wake_ms`, the next
instant it must look again. `timers.WorkflowTimer` wakes runs at that instant or when an
agent step's timeline ends; only webhook answers arrive in wall time. Failure policies
(retry, skip, pause, abort, goto) are applied in `fail()`; per-type behaviour lives in
steps.py. Every entry point writes inside one `store.atomic()`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain import orchestration, pricing
from theazo_emu.theazo.domain.workflow import approvals
from theazo_emu.theazo.domain.workflow.durations import duration_ms
from theazo_emu.theazo.domain.workflow.expressions import ExpressionError
from theazo_emu.theazo.domain.workflow.steps import COMPOSITE, StepKinds

if TYPE_CHECKING:
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

log = logging.getLogger("theazo_emu")
ACTIVE = ("running", "paused")
INFLIGHT = ("running", "waiting", "retrying")
TERMINAL_EVENTS = ("workflow:complete", "workflow:failed", "workflow:cancelled")
DEFAULT_RETRY = {"maxAttempts": 3, "delay": "1s", "backoff": "fixed"}
MAX_PASSES = 100_000


def create_run(t: "Tenant", workflow: dict, session: dict, input_: dict, idempotency_key: str | None) -> dict:
    """Insert a run of this workflow version and start its first steps; returns the row."""
    now = t.now_ms()
    with t.store.atomic():
        row = t.store.insert("workflow_runs", {
            "id": t.new_id("wfr"), "tenant": t.name, "workflow_id": workflow["id"],
            "workflow_version": workflow["version"], "user_id": session["user_id"], "session_id": session["id"],
            "status": "running", "wf_spec": workflow["wf_spec"], "wf_input": input_,
            "wf_state": initial_state(workflow["wf_spec"]), "wf_output": None, "wf_error": None,
            "total_cents": 0, "idempotency_key": idempotency_key, "current_step_id": None,
            "can_retry_from": None, "created_at": iso(now), "started_at": iso(now), "completed_at": None,
            "started_ms": now, "wake_ms": None, "event_seq": 0,
        })
        runner = Runner(t, row)
        runner.emit("workflow:start", "run.started", workflowId=workflow["id"], workflowVersion=workflow["version"])
        runner.advance()
    return runner.row


def initial_state(spec: dict) -> dict:
    nodes: dict[str, dict] = {}

    def walk(steps: list[dict]) -> None:
        for step in steps:
            nodes[step["id"]] = new_node(step["type"])
            if step["type"] == "parallel":
                walk(step["branches"])
    walk(spec["steps"])
    return {"nodes": nodes, "shared": {}, "halted": None, "partial": False}


def new_node(kind: str, **extra: Any) -> dict:
    return {"status": "pending", "type": kind, "attempt": 0, "cost": 0, **extra}


def load(store: "Store", run_id: str) -> dict | None:
    """The run with this id, whoever's it is (the workflow timer wakes every tenant's runs,
    and hands over the whole store)."""
    return store.one("SELECT * FROM workflow_runs WHERE id = ?", [run_id])


def _load(t: "Tenant", run_id: str) -> dict | None:
    return t.store.find("workflow_runs", "id = ?", [run_id], order=None)


def _with_runner(t: "Tenant", run: dict, action: str, *args: Any) -> "Runner":
    runner = Runner(t, run)
    with runner.t.store.atomic():
        getattr(runner, action)(*args)
    return runner


def advance(t: "Tenant", run: dict) -> list[dict[str, Any]]:
    """Move one run on at the current instant; returns what happened (for the clock's answer)."""
    return _with_runner(t, run, "advance").fired


def cancel(t: "Tenant", run: dict) -> dict:
    return _with_runner(t, run, "cancel").row


def retry(t: "Tenant", run: dict) -> dict:
    return _with_runner(t, run, "retry").row


def resolve_approval(t: "Tenant", approval: dict, status: str, *, by: str, modifications: dict | None = None,
                     reason: str | None = None) -> dict:
    """Approve, deny or expire a pending approval (409 otherwise), then let its step go on."""
    with t.store.atomic():
        approval = approvals.record(t, approval, status, by=by, modifications=modifications, reason=reason)
        approval_resolved(t, approval)
    t.changes.notify()
    return approval


def approval_resolved(t: "Tenant", approval: dict) -> None:
    """An approval of a run's step was approved, denied or expired: the step goes on."""
    run = _load(t, approval["run_id"]) if approval.get("run_id") else None
    if run is None or run["status"] not in ACTIVE:
        return
    approved = approval["status"] == "approved" or (approval["status"] == "expired"
                                                     and approval["default_action"] == "approve")
    _with_runner(t, run, "deliver", approval["node_key"], "decision", {
        "approvalId": approval["id"], "approved": approved, "status": approval["status"],
        "modifications": approval["apr_modifications"], "reason": approval["reason"],
        "resolvedBy": approval["resolved_by"]})


def webhook_answered(t: "Tenant", run_id: str, key: str, attempt: int, outcome: dict) -> None:
    """A webhook step's response (or failure) arrived from the outside world."""
    run = _load(t, run_id)
    if run is not None and run["status"] in ACTIVE:
        _with_runner(t, run, "deliver", key, "response", outcome, attempt)


class Runner(StepKinds):
    """One run, loaded: its spec index, nodes and the events this step of the engine emits."""

    def __init__(self, t: "Tenant", row: dict) -> None:
        self.row, self.t = row, t
        self.spec, self.state = row["wf_spec"], row["wf_state"]
        self.nodes: dict[str, dict] = self.state["nodes"]
        self.now = self.t.now_ms()
        self.events: list[tuple[str, dict]] = []
        self.fired: list[dict[str, Any]] = []
        self.index: dict[str, dict] = {}
        self.deps: dict[str, list[str]] = {}
        self._build_index(self.spec["steps"], None)
        self.top = [s["id"] for s in self.spec["steps"]]
        for step in self.spec["steps"]:
            self.deps[step["id"]] = list(dict.fromkeys(step.get("dependsOn") or []))
        for step in self.spec["steps"]:
            if step["type"] == "condition":
                for name in ("then", "else"):
                    if isinstance(step.get(name), str) and step[name]:
                        self.deps[step[name]].append(step["id"])

    def _build_index(self, steps: list[dict], parent: str | None) -> None:
        for step in steps:
            self.index[step["id"]] = {"spec": step, "parent": parent, "order": len(self.index)}
            if step["type"] == "parallel":
                self._build_index(step["branches"], step["id"])

    # ---- lookups ----

    def spec_of(self, key: str) -> dict:
        if key in self.index:
            return self.index[key]["spec"]
        parent = self.parent_of(key)
        if "[" in key:
            return self.index[parent]["spec"]["step"]
        branch = self.index[parent]["spec"][key.rsplit(".", 1)[1]]
        if "agent" in branch:
            return {"id": key, "type": "agent", "agent": branch["agent"]}
        return {"id": key, "type": "delay", "duration": branch["delay"]}

    def parent_of(self, key: str) -> str | None:
        if key in self.index:
            return self.index[key]["parent"]
        return self.nodes[key]["parent"]

    def order_of(self, key: str) -> int:
        while key not in self.index:
            key = self.nodes[key]["parent"]
        return self.index[key]["order"]

    def active(self) -> bool:
        return self.row["status"] in ACTIVE and not self.state["halted"]

    @staticmethod
    def settled(node: dict) -> bool:
        """Done for its dependents: completed, skipped, or failed and handled (goto)."""
        return node["status"] in ("completed", "skipped") or (node["status"] == "failed" and bool(node.get("handled")))

    # ---- the loop ----

    def advance(self) -> None:
        if self.active():
            for _ in range(MAX_PASSES):
                if not self._pass():
                    break
            self._finish_if_done()
        self._save()

    def _pass(self) -> bool:
        timeout = self.spec.get("timeout")
        if timeout is not None and self.now >= self.row["started_ms"] + duration_ms(timeout):
            self.fail_run(self.row["current_step_id"], "timeout", f"The workflow run exceeded its timeout ({timeout}).")
            return False
        changed = False
        for key in list(self.nodes):
            if not self.active():
                return False
            node = self.nodes[key]
            if node["status"] == "running":
                changed = self._guarded(key, getattr(self, f"poll_{node['type']}"), key, node) or changed
            elif node["status"] == "retrying" and node["dueMs"] <= self.now:
                self.start(key)
                changed = True
            elif node["status"] == "waiting" and "decision" in node:
                self._guarded(key, self.decide, key, node)
                changed = True
        return self._start_ready() or changed

    def _guarded(self, key: str, action: Any, *args: Any) -> bool:
        try:
            return bool(action(*args))
        except ExpressionError as exc:
            self.fail(key, "expression_error", f"Step '{key}': {exc}")
        except ApiError as exc:
            self.fail(key, exc.code, exc.message)
        return True

    def _start_ready(self) -> bool:
        changed = False
        limit = (self.spec.get("policy") or {}).get("maxParallel")
        busy = sum(1 for k in self.top if self.nodes[k]["status"] in INFLIGHT)
        for key in self.top:
            node = self.nodes[key]
            if node["status"] != "pending":
                continue
            if not node.get("forced") and not all(self.settled(self.nodes[d]) for d in self.deps[key]):
                continue
            if limit is not None and busy >= limit:
                break
            self.start(key)
            busy, changed = busy + 1, True
            if not self.active():
                break
        return changed

    def start(self, key: str) -> None:
        node, spec = self.nodes[key], self.spec_of(key)
        node.update(status="running", attempt=node["attempt"] + 1, startedMs=self.now, completedMs=None,
                    error=None, errorCode=None, dueMs=None)
        for stale in ("response", "decision", "output", "durationMs"):
            node.pop(stale, None)
        self.emit_step("step:start", "step.started", key)
        self._guarded(key, getattr(self, f"start_{node['type']}"), key, node, spec)

    # ---- outcomes ----

    def complete(self, key: str, output: Any) -> None:
        node = self.nodes[key]
        node.update(status="completed", output=output, completedMs=self.now, durationMs=self.now - node["startedMs"])
        for name in self.spec_of(key).get("stateWrites") or ():
            self.state["shared"][name] = output
        self.emit_step("step:complete", "step.completed", key, output=output, durationMs=node["durationMs"],
                       duration=node["durationMs"], cost=node["cost"], costObject=pricing.cost(node["cost"]))

    def fail(self, key: str, code: str, message: str) -> None:
        """Apply the step's failure policy: retry, skip, goto, pause or abort."""
        node, spec = self.nodes[key], self.spec_of(key)
        self.cancel_children(key)
        node.update(error=message, errorCode=code, completedMs=self.now, durationMs=self.now - node["startedMs"])
        policy, target = self._policy(key, spec)
        if policy == "retry":
            config = self._retry_config(key, spec)
            if node["attempt"] < config["maxAttempts"]:
                factor = {"fixed": 1, "linear": node["attempt"], "exponential": 2 ** (node["attempt"] - 1)}
                node.update(status="retrying", dueMs=self.now + duration_ms(config["delay"])
                            * factor[config.get("backoff", "fixed")])
                self.emit_step("step:failed", "step.failed", key, error=message, errorCode=code, willRetry=True,
                               nextAttemptAt=iso(node["dueMs"]), cost=node["cost"])
                return
            policy = "abort"
        self.emit_step("step:failed", "step.failed", key, error=message, errorCode=code, willRetry=False,
                       cost=node["cost"], durationMs=node["durationMs"])
        if policy == "skip":
            node.update(status="skipped", handled="skip")
            self.state["partial"] = True
        elif policy == "goto":
            node.update(status="failed", handled="goto")
            self.state["partial"] = True
            if self.nodes[target]["status"] == "pending":
                self.nodes[target]["forced"] = True
        elif policy == "pause":
            node["status"] = "failed"
            for other in list(self.nodes):  # the run stops here; retry runs these again
                self.cancel_node(other, f"Cancelled because the run paused at step '{key}'.")
            self.state["halted"] = key
            self.row["can_retry_from"] = key
            self.emit("workflow:paused", "run.paused", stepId=key, error=message, errorCode=code)
        else:
            node["status"] = "failed"
            parent = self.parent_of(key)
            if parent is None:
                self.fail_run(key, code, message)
            else:
                self.fail(parent, "step_failed", f"Step '{key}' failed: {message}")

    def _policy(self, key: str, spec: dict) -> tuple[str, str | None]:
        if "[" in key:
            return self.spec_of(self.parent_of(key) or "").get("onItemFailure") or "abort", None
        policy = spec.get("onStepFailure")
        if isinstance(policy, dict):
            return policy["action"], policy.get("target")
        if policy == "continue":
            return "skip", None
        return policy or self.spec.get("onFailure") or "abort", None

    def _retry_config(self, key: str, spec: dict) -> dict:
        owner = self.spec_of(self.parent_of(key) or "") if "[" in key else {}
        return spec.get("retries") or owner.get("retries") or self.spec.get("retries") or DEFAULT_RETRY

    def skip(self, key: str, reason: str) -> None:
        node = self.nodes[key]
        if node["status"] == "pending":
            node.update(status="skipped", reason=reason)
            self.emit_step("step:skipped", "step.skipped", key, reason=reason)

    def cancel_node(self, key: str, reason: str) -> None:
        node = self.nodes[key]
        if node["status"] not in INFLIGHT:
            return
        self.cancel_children(key)
        if node.get("taskId") and node["status"] == "running":
            self.task_done(node["taskId"])
            orchestration.release(self.t, node.get("agentId"))
        if node.get("approvalId") and node["status"] == "waiting":
            approvals.cancel_pending(self.t, node["approvalId"], self.now, reason)
        node.update(status="cancelled", completedMs=self.now, error=reason)
        self.emit_step("step:cancelled", "step.cancelled", key, reason=reason)

    def cancel_children(self, key: str) -> None:
        if self.nodes[key]["type"] in COMPOSITE:
            for child in self.children(key):
                self.cancel_node(child, f"Cancelled because step '{key}' stopped.")

    def fail_run(self, key: str | None, code: str, message: str) -> None:
        for other in list(self.nodes):
            self.cancel_node(other, "Cancelled because the run failed.")
        error = {"code": code, "message": message, "stepId": key}
        self.row.update(status="failed", can_retry_from=key, wf_error=error, completed_at=iso(self.now))
        total = pricing.cost(self.row["total_cents"])
        self.emit("workflow:failed", "run.failed", status="failed", error=message, errorCode=code, failedStepId=key,
                  stepId=key, cost=total, totalCost=total)

    def _finish_if_done(self) -> None:
        if not self.active() or not all(self.nodes[k]["status"] in ("completed", "skipped", "failed", "cancelled")
                                        for k in self.top):
            return
        done = [k for k in self.top if self.nodes[k]["status"] == "completed"]
        # the run's output: what completed steps produced that no completed step went on from
        outputs = {k: self.nodes[k].get("output") for k in done if not any(k in self.deps[o] for o in done)}
        output = next(iter(outputs.values())) if len(outputs) == 1 else outputs
        status = "partial" if self.state["partial"] else "completed"
        self.row.update(status=status, wf_output=output, completed_at=iso(self.now))
        total = pricing.cost(self.row["total_cents"])
        self.emit("workflow:complete", "run.completed", status=status, output=output, cost=total, totalCost=total,
                  durationMs=self.now - self.row["started_ms"])

    # ---- API actions ----

    def deliver(self, key: str, field: str, value: Any, attempt: int | None = None) -> None:
        node = self.nodes.get(key)
        wanted = "waiting" if field == "decision" else "running"
        if node is None or node["status"] != wanted or (attempt is not None and node["attempt"] != attempt):
            return  # cancelled, retried or already resolved meanwhile: stale news
        node[field] = value
        self.advance()

    def cancel(self) -> None:
        for key in list(self.nodes):
            self.cancel_node(key, "Cancelled by request.")
        self.row.update(status="cancelled", completed_at=iso(self.now))
        total = pricing.cost(self.row["total_cents"])
        self.emit("workflow:cancelled", "run.cancelled", status="cancelled", cost=total, totalCost=total)
        self._save()

    def retry(self) -> None:
        """Resume from the failed step(s): failed and cancelled nodes run again, the rest stay."""
        origin = self.row["can_retry_from"]
        for key, node in self.nodes.items():
            if node["status"] in ("failed", "cancelled") and not node.get("handled"):
                has_children = node["type"] in COMPOSITE and any(True for _ in self.children(key))
                node.update(status="running" if has_children else "pending", attempt=0, error=None, errorCode=None)
        self.state["halted"] = None
        self.row.update(status="running", can_retry_from=None, wf_error=None, completed_at=None, wf_output=None,
                        started_ms=self.now)
        self.emit("workflow:retry", "run.retried", fromStepId=origin)
        self.advance()

    # ---- bookkeeping ----

    def on_webhook(self, key: str, attempt: int) -> Any:
        t, run_id = self.t, self.row["id"]
        return lambda outcome: webhook_answered(t, run_id, key, attempt, outcome)

    def children(self, key: str) -> list[str]:
        return [k for k in self.nodes if self.parent_of(k) == key]

    def task_done(self, task_id: str) -> None:
        self.t.store.execute("UPDATE workflow_tasks SET done = 1 WHERE tenant = :tenant AND task_id = :task",
                             task=task_id)

    def emit(self, event: str, sdk_event: str, **data: Any) -> None:
        self.events.append((event, {"event": sdk_event, "runId": self.row["id"], **data}))

    def emit_step(self, event: str, sdk_event: str, key: str, **data: Any) -> None:
        node = self.nodes[key]
        extra: dict[str, Any] = {"step": key, "index": self.order_of(key), "type": node["type"],
                                 "attempt": node["attempt"]}
        if node.get("agentId"):
            extra["agentId"] = node["agentId"]
        if "itemIndex" in node:
            extra |= {"itemIndex": node["itemIndex"], "parentStepId": node["parent"]}
        self.emit(event, sdk_event, stepId=key, **extra, **data)

    def _save(self) -> None:
        row, nodes = self.row, self.nodes
        if self.active():
            leaves = [n for n in nodes.values()
                      if n["status"] in ("running", "retrying") and n["type"] not in COMPOSITE]
            waiting = any(n["status"] == "waiting" for n in nodes.values())
            row["status"] = "paused" if waiting and not leaves else "running"
        elif self.state["halted"] and row["status"] in ACTIVE:
            row["status"] = "paused"
        current = next((k for k in sorted(nodes, key=self.order_of) if nodes[k]["status"] in INFLIGHT), None)
        row["current_step_id"] = current or self.state["halted"] or row["current_step_id"]
        dues = [n["dueMs"] for n in nodes.values() if n["status"] in ("running", "retrying") and n.get("dueMs")]
        if self.active() and self.spec.get("timeout") is not None:
            dues.append(row["started_ms"] + duration_ms(self.spec["timeout"]))
        row["wake_ms"] = min(dues) if dues and self.active() else None
        orchestration.append_events(self.t, "workflow_runs", row, self.events)
        self.t.store.update("workflow_runs", row["id"], {
            k: row[k] for k in ("status", "wf_state", "wf_output", "wf_error", "total_cents", "current_step_id",
                                "can_retry_from", "completed_at", "started_ms", "wake_ms")})
        self.fired += [{"type": "workflow", "runId": row["id"], "event": event, "stepId": data.get("stepId")}
                       for event, data in self.events]
        self.events = []
        self.t.changes.notify()


def fail_hard(t: "Tenant", run_id: str) -> None:
    """The engine met a bug on this run: fail it so that it stops waking (timers.py logs it)."""
    with t.store.atomic():
        t.store.update("workflow_runs", run_id, {
            "status": "failed", "wake_ms": None, "completed_at": t.now_iso(),
            "wf_error": {"code": "internal_error", "message": "Unexpected engine error."}})
        t.store.execute("UPDATE workflow_tasks SET done = 1 WHERE tenant = :tenant AND run_id = :run", run=run_id)
