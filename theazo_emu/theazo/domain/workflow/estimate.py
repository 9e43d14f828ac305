"""Workflow cost estimates (reference "POST /v1/workflows/:id/estimate", sdk-compat §2).

One body carries both answers: the reference's `{steps, estimatedMinutes, estimatedCost,
confidence}` and the SDK's `{estimated: {min, max, currency}, confidence, breakdown,
basedOn}`. It is a pure function of the step graph, the given `input` (conditions and
map lengths that depend only on the input are decided; the branch not taken is left out)
and the costs past completed runs of the workflow actually had (`basedOn` counts them).
An agent step with no history is priced like one mock run: 1 compute minute plus tokens.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.theazo.domain import pricing
from theazo_emu.theazo.domain.workflow.expressions import ExpressionError, evaluate, truthy

AGENT_CENTS = (6, 20)
AGENT_MINUTES = 2
UNKNOWN_MAP_ITEMS = (1, 10)


def estimate(spec: dict, input_: dict, history: list[dict]) -> dict[str, Any]:
    context = {"input": input_, "trigger": input_, "state": {}, "sharedState": {}}
    observed = _observed(history)
    skipped: set[str] = set()
    uncertain = False
    for step in spec["steps"]:
        if step["type"] != "condition":
            continue
        try:
            branch = "then" if truthy(evaluate(step["if"], context)) else "else"
        except ExpressionError:
            uncertain = True  # depends on a step's output: both branches stay in
            continue
        other = step.get("else" if branch == "then" else "then")
        if isinstance(other, str) and other:
            skipped.add(other)
    breakdown: list[dict[str, Any]] = []
    low = high = minutes = count = 0
    for step in spec["steps"]:
        if step["id"] in skipped:
            continue
        lo, hi, mins, n, sure = _step(step, context, observed)
        uncertain = uncertain or not sure
        breakdown.append({"stepId": step["id"], "type": step["type"], "estimated": {"min": lo, "max": hi}})
        low, high, minutes, count = low + lo, high + hi, minutes + mins, count + n
    based_on = len(history)
    confidence = "high" if based_on >= 5 else "low" if uncertain and not based_on else "medium"
    return {
        "steps": count, "estimatedMinutes": minutes, "estimatedCost": pricing.cost((low + high + 1) // 2),
        "confidence": confidence, "estimated": {"min": low, "max": high, "currency": pricing.CURRENCY},
        "breakdown": breakdown, "basedOn": based_on,
    }


def _observed(history: list[dict]) -> dict[str, tuple[int, int]]:
    """Per declared step: the lowest and highest cost it had in past completed runs."""
    seen: dict[str, list[int]] = {}
    for run in history:
        for key, node in run["wf_state"]["nodes"].items():
            if node["status"] == "completed" and "[" not in key and "." not in key:
                seen.setdefault(key, []).append(node.get("cost", 0))
    return {key: (min(costs), max(costs)) for key, costs in seen.items()}


def _step(step: dict, context: dict, observed: dict) -> tuple[int, int, int, int, bool]:
    """(min cents, max cents, compute minutes, steps that run, certain?) for one step."""
    kind = step["type"]
    if kind in ("agent", "planner"):
        lo, hi = observed.get(step["id"], AGENT_CENTS)
        return lo, hi, AGENT_MINUTES, 1, True
    if kind == "parallel":
        parts = [_step(branch, context, observed) for branch in step["branches"]]
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts),
                1 + sum(p[3] for p in parts), all(p[4] for p in parts))
    if kind == "map":
        try:
            items = evaluate(step["over"], context)
        except ExpressionError:
            items = None
        n_lo, n_hi = (len(items), len(items)) if isinstance(items, list) else UNKNOWN_MAP_ITEMS
        lo, hi, mins, _, _ = _step(step["step"], context, observed)
        return lo * n_lo, hi * n_hi, mins * n_hi, 1 + n_hi, isinstance(items, list)
    if kind == "condition":
        inline = [b for b in (step.get("then"), step.get("else")) if isinstance(b, dict) and "agent" in b]
        return 0, AGENT_CENTS[1] * len(inline), AGENT_MINUTES * len(inline), 1, not inline
    return 0, 0, 0, 1, True
