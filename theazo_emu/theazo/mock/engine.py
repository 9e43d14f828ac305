"""Run plans: the events, output, tool calls, tokens and duration of a mocked run.

`Engine.plan_run()` settles a run's whole outcome at submission (DESIGN.md, "Runs,
events and streams"): the first script that matches the request decides it, else the
default generator does. The generator is a pure function of the seed and the request
(a `random.Random` seeded from a digest of both), so identical inputs give identical
bytes. Scripts are the extension point for fixtures: anything with
`match(RunRequest) -> RunPlan | None` can be put in `Engine.scripts`.

A plan ends with its cost, priced by the `Pricing` the engine is given: the ledger's price
table (theazo/domain/pricing.py), passed in by whoever builds the engine. The domain uses
the mock, so the mock takes the prices as a parameter rather than importing the domain,
and the table keeps its one home beside the ledger that books what it computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol, Sequence

from theazo_emu.core.mock import seeded, shorten
from theazo_emu.core.store import Encoded, encoded
from theazo_emu.theazo.mock.chat import ChatPlan, ChatRequest, ChatScript, default_chat_plan
from theazo_emu.theazo.mock.content import tool_input, tool_output
from theazo_emu.theazo.mock.execution import ExecResult, mock_exec


class Pricing(Protocol):
    """What pricing a plan needs (theazo/domain/pricing.py is one): its cents and their wire text."""

    def run_cents(self, model: str | None, input_tokens: int, output_tokens: int, duration_ms: int) -> int: ...

    def cost(self, amount: int) -> dict: ...

    def duration_text(self, ms: int) -> str: ...


@dataclass(frozen=True)
class RunRequest:
    task: str
    model: str | None  # the agent's
    instructions: str = ""
    tools: tuple[str, ...] = ()
    definition_id: str | None = None
    timeout_s: int = 300
    definition_name: str | None = None
    tenant: str | None = None  # fixtures may be limited to one API key's tenant


@dataclass(frozen=True)
class PlannedEvent:
    offset_ms: int
    event: str  # the reference's SSE event name
    data: dict[str, Any]  # carries the SDK's `type` too

    @cached_property
    def stored_data(self) -> Encoded:
        """`data` as the store writes it, encoded once: a memoised plan is written every run."""
        return encoded(self.data)


@dataclass(frozen=True)
class RunPlan:
    events: list[PlannedEvent]
    output: str
    tool_calls: list[dict[str, Any]]
    input_tokens: int
    output_tokens: int
    duration_ms: int
    error: dict[str, str] | None = None
    artifacts: list[str] = field(default_factory=list)
    cost_cents: int | None = None  # a fixture's declared cost; None = priced from tokens and duration
    # Plans are shared (the default generator's are memoised): nothing may change one.

    @property
    def outcome(self) -> str:
        return "failed" if self.error else "completed"


class RunScript(Protocol):
    def match(self, request: RunRequest) -> RunPlan | None: ...


class ExecScript(Protocol):
    def match(self, language: str, code: str, tenant: str | None) -> ExecResult | None: ...


class Engine:
    """Decides mocked outcomes; holds no state beyond its seed, its prices and its scripts."""

    def __init__(self, seed: int, pricing: Pricing, scripts: Sequence[RunScript] = ()) -> None:
        self.seed = seed
        self.pricing = pricing
        self.scripts = list(scripts)
        self.exec_scripts: list[ExecScript] = []  # consulted before the default mock, in order
        self.chat_scripts: list[ChatScript] = []  # consulted before the default chat reply, in order

    def plan_run(self, request: RunRequest) -> RunPlan:
        for script in self.scripts:
            plan = script.match(request)
            if plan is not None:
                return _enforce_timeout(plan, request.timeout_s)
        return _enforce_timeout(self._default_plan(request), request.timeout_s)

    def plan_chat(self, request: ChatRequest) -> ChatPlan:
        """A chat reply, settled now: the first matching chat script's, else the default one's."""
        for script in self.chat_scripts:
            plan = script.match(request)
            if plan is not None:
                return plan
        return default_chat_plan(self.seed, request)

    def exec(self, language: str, code: str, tenant: str | None = None) -> ExecResult:
        for script in self.exec_scripts:
            result = script.match(language, code, tenant)
            if result is not None:
                return result
        return mock_exec(self.seed, language, code)

    def tool_output(self, tool: str, tool_input: Any) -> str:
        """What a built-in tool answers to `tool_input` (a pure function of seed, tool and input),
        as in runs: the `test` route of a tool answers this."""
        text = json.dumps(tool_input, sort_keys=True, ensure_ascii=False)
        topic = tool_input.get("query") if isinstance(tool_input, dict) else None
        return tool_output(tool, topic if isinstance(topic, str) else text,
                           seeded(self.seed, "tool", tool, text, sep="\x1f"))

    def _default_plan(self, req: RunRequest) -> RunPlan:
        return _generated_plan(self.seed, self.pricing, req.model, req.instructions, req.tools, req.task)


@lru_cache(maxsize=256)
def _generated_plan(seed: int, pricing: Pricing, model: str | None, instructions: str, tools: tuple[str, ...],
                    task: str) -> RunPlan:
    """The default generator. A pure function of its arguments, so it is memoised: a schedule
    asks for the same plan at every firing. Callers share the plan and never change it."""
    rng = seeded(seed, model, instructions, ",".join(tools), task, sep="\x1f")
    short = shorten(task, 80)
    events: list[PlannedEvent] = []
    calls: list[dict[str, Any]] = []
    t = 0
    events.append(_thinking(t, f"I'll work on this: {short}"))
    chosen = sorted(rng.sample(list(tools), k=min(len(tools), rng.randint(1, 2)))) if tools else []
    for tool in chosen:
        t += rng.randint(300, 1500)
        call_input = tool_input(tool, task)
        output = tool_output(tool, task, rng)
        events.append(PlannedEvent(t, "tool_call", {"type": "tool_call", "tool": tool, "input": call_input}))
        t += rng.randint(800, 4000)
        events.append(PlannedEvent(t, "tool_result", {"type": "tool_result", "tool": tool, "output": output}))
        calls.append({"tool": tool, "input": call_input, "output": output})
        t += rng.randint(200, 900)
        events.append(_thinking(t, f"Got results from {tool}; composing the answer."))
    used = f" using {', '.join(chosen)}" if chosen else ""
    output = f"Done{used}: {short}. This is deterministic mock output from theazo-emu (ref {rng.getrandbits(32):08x})."
    t += rng.randint(1000, 5000)
    input_tokens = 200 + (len(instructions) + len(task)) // 4 + 150 * len(chosen) + rng.randint(0, 300)
    output_tokens = 80 + len(output) // 4 + rng.randint(0, 200)
    return finish_plan(pricing, events, output, calls, input_tokens, output_tokens, t, model)


def finish_plan(pricing: Pricing, events: list[PlannedEvent], output: str, calls: list[dict], input_tokens: int,
                output_tokens: int, duration_ms: int, model: str | None, artifacts: list[str] | None = None,
                cost_cents: int | None = None) -> RunPlan:
    """Append the final `output` event (the SDK's `done`), with the settled cost."""
    artifacts = artifacts or []
    cents = pricing.run_cents(model, input_tokens, output_tokens, duration_ms) if cost_cents is None else cost_cents
    done = {
        "type": "done", "text": output, "output": output, "cost": pricing.cost(cents),
        "duration": pricing.duration_text(duration_ms), "durationMs": duration_ms, "artifacts": artifacts,
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
    }
    return RunPlan([*events, PlannedEvent(duration_ms, "output", done)], output, calls,
                   input_tokens, output_tokens, duration_ms, artifacts=artifacts, cost_cents=cost_cents)


def _enforce_timeout(plan: RunPlan, timeout_s: int) -> RunPlan:
    """A run longer than the agent's timeout is cut there and fails with `timeout`."""
    limit = timeout_s * 1000
    if plan.duration_ms <= limit:
        return plan
    message = f"Run exceeded the agent's {timeout_s}s timeout and was terminated."
    return cut_plan(plan, limit, {"code": "timeout", "message": message}, keep_at_cut=False)


def cut_plan(plan: RunPlan, at_ms: int, error: dict[str, Any], *, keep_at_cut: bool = True) -> RunPlan:
    """The plan failing at `at_ms` with `error`: the events before it (and those at it, unless
    `keep_at_cut` is false), then an `error` event; no output, and only the tool calls whose
    results were released. Used for timeouts and for guardrails."""
    kept = [e for e in plan.events if e.event not in ("output", "error")
            and (e.offset_ms < at_ms or (keep_at_cut and e.offset_ms == at_ms and e.event != "tool_call"))]
    kept.append(PlannedEvent(at_ms, "error", {"type": "error", **error}))
    calls = [c for c in plan.tool_calls if any(e.event == "tool_result" and e.data.get("tool") == c["tool"]
                                               and e.data.get("output") == c["output"] for e in kept)]
    return RunPlan(kept, "", calls, plan.input_tokens, 0, at_ms, error=error, artifacts=[])


def _thinking(offset: int, text: str) -> PlannedEvent:
    # The reference's `thinking` event; the SDK has no such type, `progress` is its nearest.
    return PlannedEvent(offset, "thinking", {"type": "progress", "text": text, "message": text})
