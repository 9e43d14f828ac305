"""Bodies of workflows, workflow runs and approvals, and the step-graph checks.

Pydantic validates the envelope (name, policy, retries, ...); `check_steps()` walks the
step list itself so that every problem is reported with its exact path (`steps.2.dependsOn`)
in one 422: unknown step types, missing fields, duplicate or reserved ids, unknown
`dependsOn`/branch/goto targets, expressions that do not parse, and dependency cycles
(`workflow_circular_dependency` in details). Steps are stored as sent; the engine reads
them with defaults. Agent references are returned for the resource layer to resolve.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from theazo_emu.core.errors import Unprocessable
from theazo_emu.core.http import validate
from theazo_emu.theazo.bodies.core import Body, Cost, CreateAgent, check_user_id
from theazo_emu.theazo.domain.workflow.durations import duration_ms
from theazo_emu.theazo.domain.workflow.expressions import ExpressionError, check_value, parse

STEP_TYPES = ("agent", "parallel", "condition", "transform", "map", "delay", "approval", "webhook", "planner")
MAP_ITEM_TYPES = ("agent", "planner", "transform", "webhook", "delay", "approval")
FAILURE_ACTIONS = ("retry", "skip", "pause", "abort")
RESERVED_IDS = {"input", "trigger", "state", "sharedState", "item", "index", "steps", "workflow", "run", "length"}
MAX_STEPS = 200
MAX_NESTING = 4
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")

def _check_duration(value: Any) -> Any:
    if value is not None:
        duration_ms(value)
    return value


class RetryConfig(Body):
    maxAttempts: int = Field(ge=1, le=10)
    delay: str | int | float = "1s"
    backoff: Literal["fixed", "exponential", "linear"] = "fixed"

    @field_validator("delay")
    @classmethod
    def _delay(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


class WorkflowPolicy(Body):
    allowTools: list[str] | None = Field(default=None, max_length=100)
    denyTools: list[str] | None = Field(default=None, max_length=100)
    requireApprovalFor: list[str] | None = Field(default=None, max_length=100)
    maxCostPerStep: Cost | None = None
    maxTotalCost: Cost | None = None
    maxStepsTotal: int | None = Field(default=None, ge=1, le=10_000)
    maxParallel: int | None = Field(default=None, ge=1, le=1000)


FailurePolicy = Literal["pause", "retry", "skip", "abort"]


class UpdateWorkflow(Body):
    """PATCH: any subset of the create body; the result is a new version."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    steps: list[Any] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)
    inputSchema: dict[str, Any] | None = None
    outputSchema: dict[str, Any] | None = None
    policy: WorkflowPolicy | None = None
    onFailure: FailurePolicy | None = None
    retries: RetryConfig | None = None
    timeout: str | int | float | None = None

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str | int | float | None) -> str | int | float | None:
        return _check_duration(value)

    @field_validator("name", "steps")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means "keep"; an explicit null would leave a workflow without a name or steps.
        if value is None:
            raise ValueError("must not be null (leave it out to keep the current value)")
        return value


class CreateWorkflow(UpdateWorkflow):
    name: str = Field(min_length=1, max_length=200)
    steps: list[Any] = Field(min_length=1, max_length=MAX_STEPS)


class StartWorkflowRun(Body):
    userId: str | None = None
    sessionId: str | None = Field(default=None, max_length=100)
    input: dict[str, Any] | None = None
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_user_id(value)



class EstimateWorkflow(Body):
    input: dict[str, Any] | None = None


class ScheduleWorkflow(Body):
    cron: str = Field(min_length=1, max_length=200)
    userId: str
    input: dict[str, Any] | None = None
    timezone: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, max_length=200)

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_id(value)


class ApproveBody(Body):
    modifications: dict[str, Any] | None = None
    resolvedBy: str | None = Field(default=None, min_length=1, max_length=200)


class DenyBody(Body):
    reason: str | None = Field(default=None, max_length=2000)
    resolvedBy: str | None = Field(default=None, min_length=1, max_length=200)


class BulkIds(Body):
    ids: list[str] = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)
    modifications: dict[str, Any] | None = None
    resolvedBy: str | None = Field(default=None, min_length=1, max_length=200)


# ---- the step graph ----

class _Checker:
    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.steps = steps
        self.errors: list[dict[str, Any]] = []
        self.ids: dict[str, str] = {}  # id -> path
        self.top = [s.get("id") for s in steps if isinstance(s, dict) and isinstance(s.get("id"), str)]
        self.agents: list[tuple[str, str]] = []  # (path, reference) for the resource layer
        self.targets: list[tuple[str, str, str]] = []  # (path, from id, target id)
        self.count = 0

    def fail(self, path: str, message: str, **extra: Any) -> None:
        self.errors.append({"field": path, "message": message, **extra})

    def run(self) -> None:
        for i, step in enumerate(self.steps):
            self.step(step, f"steps.{i}", top=True, depth=1)
        if self.count > MAX_STEPS:
            self.fail("steps", f"at most {MAX_STEPS} steps in all, nested ones included")
        top = set(self.top)
        for path, source, target in self.targets:
            if target not in top:
                self.fail(path, f"unknown step '{target}'; targets must be top-level step ids")
            elif target == source:
                self.fail(path, "a step cannot target itself")
        if not self.errors:
            self.cycles()

    def step(self, step: Any, path: str, *, top: bool, depth: int, allowed: tuple[str, ...] = STEP_TYPES) -> None:
        self.count += 1
        if not isinstance(step, dict):
            self.fail(path, "a step must be an object")
            return
        ident, kind = step.get("id"), step.get("type")
        if not isinstance(ident, str) or not _ID.match(ident):
            self.fail(f"{path}.id", "required: 1-100 letters, digits, '_' or '-' (not starting with '-')")
        elif ident in RESERVED_IDS:
            self.fail(f"{path}.id", f"'{ident}' is reserved in expressions; choose another id")
        elif ident in self.ids:
            self.fail(f"{path}.id", f"duplicate step id '{ident}' (also at {self.ids[ident]})")
        else:
            self.ids[ident] = path
        if kind not in STEP_TYPES:
            self.fail(f"{path}.type", f"unknown step type {str(kind)[:40]!r}; expected one of {', '.join(STEP_TYPES)}")
            return
        if kind not in allowed:
            self.fail(f"{path}.type", f"a '{kind}' step is not allowed here; expected one of {', '.join(allowed)}")
            return
        self.common(step, path, top)
        getattr(self, f"kind_{kind}")(step, path, depth)

    def common(self, step: dict, path: str, top: bool) -> None:
        deps = step.get("dependsOn")
        if deps is not None:
            if not top:
                self.fail(f"{path}.dependsOn", "only top-level steps may have dependsOn")
            elif not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
                self.fail(f"{path}.dependsOn", "must be a list of step ids")
            else:
                for j, dep in enumerate(deps):
                    self.targets.append((f"{path}.dependsOn.{j}", step.get("id", ""), dep))
        policy = step.get("onStepFailure")
        if policy is not None:
            action = policy.get("action") if isinstance(policy, dict) else policy
            if policy == "continue":
                pass
            elif action == "goto" and isinstance(policy, dict):
                if not isinstance(policy.get("target"), str):
                    self.fail(f"{path}.onStepFailure.target", "required for 'goto': a top-level step id")
                elif not top:
                    self.fail(f"{path}.onStepFailure", "'goto' is only allowed on top-level steps")
                else:
                    self.targets.append((f"{path}.onStepFailure.target", step.get("id", ""), policy["target"]))
            elif action not in FAILURE_ACTIONS:
                self.fail(f"{path}.onStepFailure",
                          "must be retry, skip, pause, abort, continue or {action: 'goto', target}")
        if step.get("retries") is not None:
            self.model(RetryConfig, step["retries"], f"{path}.retries")
        self.duration(step, "timeout", path)

    def model(self, model: type[Body], value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return
        try:
            validate(model, value)
        except Unprocessable as exc:
            for detail in exc.details:
                field = detail["field"]
                self.fail(path if field == "body" else f"{path}.{field}", detail["message"])

    def duration(self, step: dict, name: str, path: str, required: bool = False) -> None:
        if step.get(name) is None:
            if required:
                self.fail(f"{path}.{name}", "required: a duration such as '30s', '5m' or '1h'")
            return
        try:
            duration_ms(step[name])
        except ValueError as exc:
            self.fail(f"{path}.{name}", str(exc))

    def expression(self, value: Any, path: str, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str):
            self.fail(path, "required: an expression string such as \"$.input.count > 3\"")
            return
        try:
            parse(value)
        except ExpressionError as exc:
            self.fail(path, f"invalid expression: {exc}")

    def value(self, value: Any, path: str, kind: type | tuple = dict) -> None:
        if value is None:
            return
        if not isinstance(value, kind):
            self.fail(path, f"must be {'an object' if kind is dict else 'valid JSON'}")
            return
        try:
            check_value(value)
        except ExpressionError as exc:
            self.fail(path, f"invalid expression: {exc}")

    def agent_ref(self, step: dict, path: str) -> None:
        ref = step.get("agent")
        if isinstance(ref, str) and 0 < len(ref.strip()) <= 200:
            self.agents.append((f"{path}.agent", ref.strip()))
        elif isinstance(ref, dict):
            self.model(CreateAgent, ref, f"{path}.agent")
        else:
            self.fail(f"{path}.agent", "required: an agent definition id or name, or an agent config object")

    def kind_agent(self, step: dict, path: str, depth: int) -> None:
        self.agent_ref(step, path)
        self.value(step.get("inputMap"), f"{path}.inputMap")
        if step.get("task") is not None:
            self.value(step["task"], f"{path}.task", str)
        for name in ("stateWrites", "stateReads"):
            value = step.get(name)
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                self.fail(f"{path}.{name}", "must be a list of strings")
        if step.get("env") is not None and not isinstance(step["env"], dict):
            self.fail(f"{path}.env", "must be an object")

    def kind_planner(self, step: dict, path: str, depth: int) -> None:
        self.agent_ref(step, path)
        if step.get("description") is not None and not isinstance(step["description"], str):
            self.fail(f"{path}.description", "must be a string")

    def kind_parallel(self, step: dict, path: str, depth: int) -> None:
        branches = step.get("branches")
        if not isinstance(branches, list) or not branches:
            self.fail(f"{path}.branches", "required: a non-empty list of steps")
            return
        if depth >= MAX_NESTING:
            self.fail(f"{path}.branches", f"steps nest at most {MAX_NESTING} levels deep")
            return
        for j, branch in enumerate(branches):
            self.step(branch, f"{path}.branches.{j}", top=False, depth=depth + 1)

    def kind_condition(self, step: dict, path: str, depth: int) -> None:
        self.expression(step.get("if"), f"{path}.if")
        for name in ("then", "else"):
            branch = step.get(name)
            if branch is None or branch == "":
                continue
            if isinstance(branch, str):
                self.targets.append((f"{path}.{name}", step.get("id", ""), branch))
            elif isinstance(branch, dict) and len(branch) == 1 and ("agent" in branch or "delay" in branch):
                if "agent" in branch:
                    self.agent_ref(branch, f"{path}.{name}")
                else:
                    self.duration(branch, "delay", f"{path}.{name}", required=True)
            else:
                self.fail(f"{path}.{name}", "must be a step id, or an object with exactly one of 'agent' or 'delay'")

    def kind_transform(self, step: dict, path: str, depth: int) -> None:
        expression = step.get("expression")
        if isinstance(expression, dict) and expression:
            self.transform_object(expression, f"{path}.expression")
        else:
            self.expression(expression, f"{path}.expression")

    def transform_object(self, value: dict, path: str) -> None:
        for key, item in value.items():
            if isinstance(item, str):
                self.expression(item, f"{path}.{key}")
            elif isinstance(item, dict):
                self.transform_object(item, f"{path}.{key}")

    def kind_map(self, step: dict, path: str, depth: int) -> None:
        self.expression(step.get("over"), f"{path}.over")
        concurrency = step.get("concurrency")
        if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                                        or not 1 <= concurrency <= 100):
            self.fail(f"{path}.concurrency", "must be an integer from 1 to 100")
        if step.get("onItemFailure") not in (None, "skip", "abort", "retry"):
            self.fail(f"{path}.onItemFailure", "must be skip, abort or retry")
        if not isinstance(step.get("step"), dict):
            self.fail(f"{path}.step", "required: the step to run for each item")
            return
        self.step(step["step"], f"{path}.step", top=False, depth=depth + 1, allowed=MAP_ITEM_TYPES)

    def kind_delay(self, step: dict, path: str, depth: int) -> None:
        self.duration(step, "duration", path, required=True)

    def kind_approval(self, step: dict, path: str, depth: int) -> None:
        action = step.get("action")
        if not isinstance(action, str) or not 0 < len(action) <= 200:
            self.fail(f"{path}.action", "required: the action to approve, 1-200 characters")
        self.value(step.get("params"), f"{path}.params")
        if step.get("defaultAction") not in (None, "approve", "deny"):
            self.fail(f"{path}.defaultAction", "must be approve or deny")

    def kind_webhook(self, step: dict, path: str, depth: int) -> None:
        url = step.get("url")
        if not isinstance(url, str) or not (url.startswith(("http://", "https://")) or url.startswith("$")):
            self.fail(f"{path}.url", "required: an http:// or https:// URL")
        else:
            self.value(url, f"{path}.url", str)
        if step.get("method", "POST") not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            self.fail(f"{path}.method", "must be GET, POST, PUT, PATCH or DELETE")
        headers = step.get("headers")
        if headers is not None and (not isinstance(headers, dict)
                                    or not all(isinstance(v, str) for v in headers.values())):
            self.fail(f"{path}.headers", "must be an object of strings")
        else:
            self.value(headers, f"{path}.headers")
        self.value(step.get("body"), f"{path}.body", (dict, list, str, int, float, bool))
        try:
            if step.get("timeout") is not None and duration_ms(step["timeout"]) > 120_000:
                self.fail(f"{path}.timeout", "a webhook waits at most 120s")
        except ValueError:
            pass  # reported by common()

    def cycles(self) -> None:
        """Depth-first search over dependsOn plus the implicit condition -> target edges."""
        edges: dict[str, list[str]] = {s["id"]: list(s.get("dependsOn") or []) for s in self.steps}
        for step in self.steps:
            if step["type"] == "condition":
                for name in ("then", "else"):
                    target = step.get(name)
                    if isinstance(target, str) and target:
                        edges[target].append(step["id"])
        state: dict[str, int] = {}
        for start in edges:
            stack: list[tuple[str, int]] = [(start, 0)]
            trail: list[str] = []
            while stack:
                node, i = stack.pop()
                if i == 0:
                    if state.get(node) == 2:
                        continue
                    state[node] = 1
                    trail.append(node)
                deps = edges[node]
                if i < len(deps):
                    stack.append((node, i + 1))
                    nxt = deps[i]
                    if state.get(nxt) == 1:
                        cycle = trail[trail.index(nxt):] + [nxt]
                        cycle.reverse()
                        self.fail("steps", f"steps form a dependency cycle: {' -> '.join(cycle)}",
                                  code="workflow_circular_dependency", cycle=cycle)
                        return
                    if state.get(nxt) != 2:
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    trail.pop()


def check_steps(steps: list[dict[str, Any]], policy: WorkflowPolicy | None = None) -> list[tuple[str, str]]:
    """Validate the step graph; returns (field path, reference) of every agent named by string."""
    checker = _Checker(steps)
    checker.run()
    if policy is not None and policy.maxStepsTotal is not None and checker.count > policy.maxStepsTotal:
        checker.fail("steps", f"{checker.count} steps exceed policy.maxStepsTotal ({policy.maxStepsTotal})")
    if checker.errors:
        cycle = next((e for e in checker.errors if e.get("code") == "workflow_circular_dependency"), None)
        if cycle is not None:
            raise Unprocessable(f"Workflow steps form a dependency cycle: {' -> '.join(cycle['cycle'])}.",
                                [cycle])
        fields = sorted({e["field"] for e in checker.errors})
        raise Unprocessable(f"Request body failed validation: {', '.join(fields[:10])}.", checker.errors[:50])
    return checker.agents
