"""What each workflow step type does when it starts and while it runs.

A mixin of the engine's `Runner` (engine.py): `start_<type>` begins a step,
`poll_<type>` looks at a running one and says whether anything changed. Agent and planner
steps run a fresh agent through orchestration.spawn (limits, ledger; the step's cost is its
run's settled cost) and finish when that run's timeline ends; delays finish at a virtual
instant; approvals wait for the approvals API or their expiry; webhooks wait for the real
HTTP answer; transform and condition finish at once; parallel and map start children and
finish when all of them have. Expressions see `$.input`/`$.trigger`, `$.state`, `$.<step>`
(`output`, `status`, `cost`, `error`) and, inside map items, `$.item` and `$.index`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from theazo_emu.core import outbound
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain import orchestration
from theazo_emu.theazo.domain.workflow.approvals import open_approval
from theazo_emu.theazo.domain.workflow.durations import duration_ms
from theazo_emu.theazo.domain.workflow.expressions import evaluate, resolve, truthy

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

COMPOSITE = ("parallel", "map", "condition")
MAX_MAP_ITEMS = 1000
DEFAULT_MAP_CONCURRENCY = 10
DEFAULT_APPROVAL_TIMEOUT = "24h"
DEFAULT_WEBHOOK_TIMEOUT = "30s"


class StepFailure(ApiError):
    """A step failed for a reason of its own (not an API refusal); `code` is set per case."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class StepKinds:
    t: "Tenant"  # the run's tenant
    row: dict
    spec: dict
    state: dict
    nodes: dict[str, dict]
    now: int

    # provided by the Runner
    def complete(self, key: str, output: Any) -> None: ...
    def fail(self, key: str, code: str, message: str) -> None: ...
    def start(self, key: str) -> None: ...
    def skip(self, key: str, reason: str) -> None: ...
    def children(self, key: str) -> list[str]: ...
    def spec_of(self, key: str) -> dict: ...
    def task_done(self, task_id: str) -> None: ...
    def emit_step(self, event: str, sdk_event: str, key: str, **data: Any) -> None: ...
    def on_webhook(self, key: str, attempt: int) -> Callable[[dict], None]: ...

    # ---- expressions ----

    def context(self, key: str) -> dict[str, Any]:
        shared, input_ = self.state["shared"], self.row["wf_input"] or {}
        # declared steps only (at most 200): map items and inline branches have no `$.` name
        views = {k: {"output": n.get("output"), "status": n["status"], "cost": n["cost"], "error": n.get("error")}
                 for k, n in self.nodes.items() if "parent" not in n}
        context: dict[str, Any] = {**views, "input": input_, "trigger": input_, "state": shared,
                                   "sharedState": shared, "steps": views}
        probe: str | None = key
        while probe is not None and probe in self.nodes:
            if "itemIndex" in self.nodes[probe]:
                context |= {"item": self.nodes[probe]["item"], "index": self.nodes[probe]["itemIndex"]}
                break
            probe = self.nodes[probe].get("parent")
        return context

    # ---- agent and planner ----

    def start_agent(self, key: str, node: dict, spec: dict) -> None:
        policy = self.spec.get("policy") or {}
        cap = policy.get("maxTotalCost")
        if cap and self.row["total_cents"] >= cap["amount"]:
            raise StepFailure("cost_limit", f"The run has spent {self.row['total_cents']} cents, reaching "
                              f"policy.maxTotalCost ({cap['amount']}).")
        context = self.context(key)
        body = orchestration.agent_request(self.t, spec["agent"], timeout=spec.get("timeout"),
                                           allow_tools=policy.get("allowTools"), deny_tools=policy.get("denyTools"))
        task = self._task(key, spec, context)
        session = self.t.store.get("sessions", self.row["session_id"], "session")
        agent, run = orchestration.spawn(self.t, session, body, task)
        cents = run["result"]["cost"]["amount"]
        node.update(taskId=run["id"], agentId=agent["id"], cost=node["cost"] + cents)
        self.row["total_cents"] += cents
        self.t.store.insert("workflow_tasks", {"task_id": run["id"], "tenant": self.t.name,
                                               "run_id": self.row["id"], "node_key": key, "done": 0})

    start_planner = start_agent

    def _task(self, key: str, spec: dict, context: dict) -> str:
        """The agent's task: `task` (templated) and/or the mapped input, as JSON."""
        if spec.get("inputMap"):
            given: Any = resolve(spec["inputMap"], context)
        elif "item" in context:
            given = context["item"]
        else:
            given = context["input"]
        if spec.get("stateReads"):
            reads = {name: self.state["shared"].get(name) for name in spec["stateReads"]}
            given = {**given, "state": reads} if isinstance(given, dict) else {"input": given, "state": reads}
        head = spec.get("task") or (f"Plan: {spec['description']}" if spec.get("description") else None)
        rendered = orchestration.task_text(given)
        if head:
            return f"{resolve(head, context)}\n\nInput: {rendered}"
        return rendered if given not in ({}, None) else f"Workflow step '{key}'"

    def poll_agent(self, key: str, node: dict) -> bool:
        outcome = orchestration.task_outcome(self.t, node["taskId"])
        if outcome is None:
            return False
        self.task_done(node["taskId"])
        orchestration.release(self.t, node["agentId"])
        cap = (self.spec.get("policy") or {}).get("maxCostPerStep")
        if outcome["error"]:
            self.fail(key, outcome["error"]["code"], outcome["error"]["message"])
        elif cap and node["cost"] > cap["amount"]:
            self.fail(key, "cost_limit", f"Step '{key}' cost {node['cost']} cents, over policy.maxCostPerStep "
                      f"({cap['amount']}).")
        else:
            self.complete(key, outcome["output"])
        return True

    poll_planner = poll_agent

    # ---- delay ----

    def start_delay(self, key: str, node: dict, spec: dict) -> None:
        node["dueMs"] = self.now + duration_ms(spec["duration"])

    def poll_delay(self, key: str, node: dict) -> bool:
        if node["dueMs"] > self.now:
            return False
        self.complete(key, {"delayedMs": node["dueMs"] - node["startedMs"], "until": iso(node["dueMs"])})
        return True

    # ---- approval ----

    def start_approval(self, key: str, node: dict, spec: dict) -> None:
        params = resolve(spec.get("params") or {}, self.context(key))
        expires = self.now + duration_ms(spec.get("timeout") or DEFAULT_APPROVAL_TIMEOUT)
        approval_id = open_approval(self.t, self.row, key, spec["action"], params,
                                    spec.get("defaultAction") or "deny", self.now, expires)
        node.update(status="waiting", approvalId=approval_id, params=params)
        self.emit_step("approval:requested", "approval.requested", key, approvalId=approval_id,
                       action=spec["action"], params=params, expiresAt=iso(expires))

    def decide(self, key: str, node: dict) -> None:
        decision = node.pop("decision")
        node["status"] = "running"
        self.emit_step("approval:resolved", "approval.resolved", key, approvalId=decision["approvalId"],
                       status=decision["status"], approved=decision["approved"])
        if decision["approved"]:
            modifications = decision["modifications"] or {}
            self.complete(key, {"approved": True, "status": decision["status"], "approvalId": decision["approvalId"],
                                "modifications": modifications, "params": {**node["params"], **modifications},
                                "resolvedBy": decision["resolvedBy"]})
        elif decision["status"] == "expired":
            self.fail(key, "approval_expired", f"Approval {decision['approvalId']} expired; its default action "
                      "is deny.")
        else:
            reason = f": {decision['reason']}" if decision["reason"] else "."
            self.fail(key, "approval_denied", f"Approval {decision['approvalId']} was denied{reason}")

    # ---- webhook ----

    def start_webhook(self, key: str, node: dict, spec: dict) -> None:
        context = self.context(key)
        url = resolve(spec["url"], context)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StepFailure("invalid_url", f"Step '{key}': the url resolved to {str(url)[:200]!r}, not an "
                              "http(s) URL.")
        headers = {str(k): orchestration.task_text(v) for k, v in (resolve(spec.get("headers") or {}, context)).items()}
        request = {"url": url, "method": spec.get("method") or "POST", "headers": headers,
                   "body": resolve(spec["body"], context) if "body" in spec else None,
                   "timeoutS": duration_ms(spec.get("timeout") or DEFAULT_WEBHOOK_TIMEOUT) / 1000}
        node["request"] = {"url": url, "method": request["method"]}
        answered = outbound.launch(self.t, request, self.on_webhook(key, node["attempt"]))
        if answered is not None:
            node["response"] = answered

    def poll_webhook(self, key: str, node: dict) -> bool:
        if "response" not in node:
            return False
        outcome = node.pop("response")
        if outcome["ok"]:
            self.complete(key, outcome["output"])
        else:
            node["output"] = outcome.get("output")
            self.fail(key, outcome["code"], outcome["message"])
        return True

    # ---- transform and condition ----

    def start_transform(self, key: str, node: dict, spec: dict) -> None:
        self.complete(key, _transform(spec["expression"], self.context(key)))

    def start_condition(self, key: str, node: dict, spec: dict) -> None:
        result = truthy(evaluate(spec["if"], self.context(key)))
        branch, other = ("then", "else") if result else ("else", "then")
        node.update(branch=branch, result=result)
        if isinstance(spec.get(other), str) and spec[other]:
            self.skip(spec[other], f"condition '{key}' chose '{branch}'")
        chosen = spec.get(branch)
        if isinstance(chosen, dict):
            child = f"{key}.{branch}"
            self.nodes[child] = {"status": "pending", "type": "agent" if "agent" in chosen else "delay",
                                 "attempt": 0, "cost": 0, "parent": key}
            self.start(child)
        else:
            self.complete(key, {"result": result, "branch": branch, "next": chosen or None})

    def poll_condition(self, key: str, node: dict) -> bool:
        child = f"{key}.{node['branch']}"
        if self.nodes[child]["status"] == "pending":
            self.start(child)
            return True
        if self.nodes[child]["status"] not in ("completed", "skipped"):
            return False
        self.complete(key, {"result": node["result"], "branch": node["branch"], "next": child,
                            "output": self.nodes[child].get("output")})
        return True

    # ---- parallel and map ----

    def start_parallel(self, key: str, node: dict, spec: dict) -> None:
        for branch in spec["branches"]:
            self.nodes[branch["id"]].update(status="pending", attempt=0)
        for branch in spec["branches"]:
            if node["status"] == "running":
                self.start(branch["id"])

    def poll_parallel(self, key: str, node: dict) -> bool:
        kids = [b["id"] for b in self.spec_of(key)["branches"]]
        pending = [k for k in kids if self.nodes[k]["status"] == "pending"]
        for kid in pending:
            if node["status"] == "running":
                self.start(kid)
        if node["status"] == "running" and all(self.nodes[k]["status"] in ("completed", "skipped") for k in kids):
            node["cost"] = sum(self.nodes[k]["cost"] for k in kids)
            self.complete(key, {k: self.nodes[k].get("output") for k in kids})
            return True
        return bool(pending)

    def start_map(self, key: str, node: dict, spec: dict) -> None:
        items = evaluate(spec["over"], self.context(key))
        if not isinstance(items, list):
            raise StepFailure("invalid_map_input", f"Step '{key}': 'over' produced "
                              f"{type(items).__name__ if items is not None else 'null'}, not a list.")
        if len(items) > MAX_MAP_ITEMS:
            raise StepFailure("invalid_map_input", f"Step '{key}': {len(items)} items exceed {MAX_MAP_ITEMS}.")
        for old in self.children(key):
            del self.nodes[old]
        kind = spec["step"]["type"]
        for i, item in enumerate(items):
            self.nodes[f"{key}[{i}]"] = {"status": "pending", "type": kind, "attempt": 0, "cost": 0, "parent": key,
                                         "item": item, "itemIndex": i}
        node["items"] = len(items)

    def poll_map(self, key: str, node: dict) -> bool:
        kids = [f"{key}[{i}]" for i in range(node["items"])]
        limit = self.spec_of(key).get("concurrency") or DEFAULT_MAP_CONCURRENCY
        busy = sum(1 for k in kids if self.nodes[k]["status"] in ("running", "waiting", "retrying"))
        changed = False
        for kid in kids:
            if busy >= limit or node["status"] != "running":
                break
            if self.nodes[kid]["status"] == "pending":
                self.start(kid)
                busy, changed = busy + 1, True
                busy -= self.nodes[kid]["status"] not in ("running", "waiting", "retrying")
        if node["status"] == "running" and all(self.nodes[k]["status"] in ("completed", "skipped") for k in kids):
            if any(self.nodes[k]["status"] == "skipped" for k in kids):
                self.state["partial"] = True
            node["cost"] = sum(self.nodes[k]["cost"] for k in kids)
            self.complete(key, [self.nodes[k].get("output") for k in kids])
            return True
        return changed


def _transform(expression: Any, context: dict) -> Any:
    if isinstance(expression, str):
        return evaluate(expression, context)
    if isinstance(expression, dict):
        return {k: _transform(v, context) for k, v in expression.items()}
    return expression
