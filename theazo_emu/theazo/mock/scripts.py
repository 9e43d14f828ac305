"""Fixture-backed run scripts, exec results and chat replies, plugged into the mock `Engine`
(`fixture_engine`, which the emulator builds).

`FixtureRuns` (a RunScript), `FixtureExec` (an ExecScript) and `FixtureChat` (a ChatScript) ask for the fixture layers
in force at each request (API documents, then the files: a reload applies from the next
request) and answer with the first matching entry, or None for the default generator
(core/mock.py's `first_match`: a layer or entry limited to one key matches only that key's
tenant). A scripted run ends with the engine's `finish_plan` (or an `error` event), so its
numbers are the ledger's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from theazo_emu.core.mock import first_match
from theazo_emu.fixtures.loader import FixtureSet
from theazo_emu.theazo.mock.chat import ChatPlan, ChatRequest, scripted_chat_plan
from theazo_emu.theazo.mock.engine import Engine, PlannedEvent, Pricing, RunPlan, RunRequest, finish_plan
from theazo_emu.theazo.mock.execution import ExecResult, mock_exec

if TYPE_CHECKING:
    from theazo_emu.fixtures.models import ChatSpec, ExecSpec, RunSpec

# The layers in force, first tried first: (the tenant a layer is limited to or None, its set).
Layers = Callable[[], Iterable[tuple[str | None, FixtureSet]]]

_ERROR_MESSAGES = {
    "provider_error": "Upstream compute provider returned an error.",
    "timeout": "The run exceeded its time limit.",
    "internal_error": "Unexpected server error.",
    "rate_limited": "Too many requests to the model provider.",
}


def run_matches(spec: RunSpec, req: RunRequest) -> bool:
    match = spec.match
    definitions = [d for d in (req.definition_id, req.definition_name) if d]
    return ((match.task is None or match.task.test(req.task))
            and (match.instructions is None or match.instructions.test(req.instructions))
            and (match.definition is None or any(match.definition.test(d) for d in definitions))
            and (match.model is None or match.model.test(req.model or ""))
            and (match.tools is None or set(match.tools) <= set(req.tools)))


def run_plan(spec: RunSpec, req: RunRequest, pricing: Pricing) -> RunPlan:
    """The scripted run: its events, then `output` (or `error`) at its duration."""
    events = [PlannedEvent(e.offset, e.type, _event_data(e.type, e.text, e.tool, e.input, e.output))
              for e in spec.events]
    calls = ([c.model_dump() for c in spec.toolCalls] if spec.toolCalls is not None
             else _paired_calls(spec))
    duration = spec.duration_ms
    tokens_in = spec.usage.inputTokens if spec.usage else 200 + (len(req.instructions) + len(req.task)) // 4
    tokens_out = spec.usage.outputTokens if spec.usage else 80 + len(spec.output) // 4
    if spec.error is None:
        plan = finish_plan(pricing, events, spec.output, calls, tokens_in, tokens_out, duration, req.model,
                           list(spec.artifacts), cost_cents=spec.cost)
        return plan
    error = {"code": spec.error.code, "message": spec.error.message or _ERROR_MESSAGES.get(
        spec.error.code, f"The run failed with {spec.error.code}.")}
    events.append(PlannedEvent(duration, "error", {"type": "error", **error}))
    cents = spec.cost if spec.cost is not None else pricing.run_cents(req.model, tokens_in, tokens_out, duration)
    return RunPlan(events, "", calls, tokens_in, tokens_out, duration, error=error,
                   artifacts=list(spec.artifacts), cost_cents=cents)


def _event_data(kind: str, text: str | None, tool: str | None, tool_input: Any, output: Any) -> dict[str, Any]:
    if kind == "thinking":  # the SDK has no `thinking` type; `progress` is its nearest (as in engine.py)
        return {"type": "progress", "text": text, "message": text}
    if kind == "tool_call":
        return {"type": "tool_call", "tool": tool, "input": tool_input or {}}
    return {"type": "tool_result", "tool": tool, "output": "" if output is None else output}


def _paired_calls(spec: RunSpec) -> list[dict[str, Any]]:
    """Tool calls from the events: each tool_call with the next tool_result of its tool."""
    calls: list[dict[str, Any]] = []
    for i, event in enumerate(spec.events):
        if event.type != "tool_call":
            continue
        result = next((r for r in spec.events[i + 1:] if r.type == "tool_result" and r.tool == event.tool), None)
        calls.append({"tool": event.tool, "input": event.input or {},
                      "output": "" if result is None or result.output is None else result.output})
    return calls


def exec_matches(spec: ExecSpec, language: str, code: str) -> bool:
    match = spec.match
    return ((match.language is None or language in match.language)
            and (match.code is None or match.code.test(code)))


def exec_result(spec: ExecSpec, seed: int, language: str, code: str) -> ExecResult:
    duration = spec.durationMs
    if duration is None:  # the default mock's duration, a digest of the request
        duration = mock_exec(seed, language, code).durationMs
    return ExecResult(spec.stdout, spec.stderr, spec.exitCode, duration)


class FixtureRuns:
    """A RunScript answering from the fixture layers in force, priced as the engine's plans are."""

    def __init__(self, layers: Layers, pricing: Pricing) -> None:
        self.layers, self.pricing = layers, pricing

    def match(self, request: RunRequest) -> RunPlan | None:
        entry = first_match(self.layers(), request.tenant, lambda layer: layer.runs,
                            lambda spec: run_matches(spec, request))
        return None if entry is None else run_plan(entry.spec, request, self.pricing)


class FixtureExec:
    """An ExecScript answering from the fixture layers in force."""

    def __init__(self, layers: Layers, seed: int) -> None:
        self.layers, self.seed = layers, seed

    def match(self, language: str, code: str, tenant: str | None) -> ExecResult | None:
        entry = first_match(self.layers(), tenant, lambda layer: layer.execs,
                            lambda spec: exec_matches(spec, language, code))
        return None if entry is None else exec_result(entry.spec, self.seed, language, code)


def chat_matches(spec: ChatSpec, req: ChatRequest) -> bool:
    match = spec.match
    return ((match.message is None or match.message.test(req.message))
            and (match.instructions is None or match.instructions.test(req.system))
            and (match.agent is None or match.agent.test(req.agent)))


class FixtureChat:
    """A ChatScript answering from the fixture layers in force."""

    def __init__(self, layers: Layers) -> None:
        self.layers = layers

    def match(self, request: ChatRequest) -> ChatPlan | None:
        entry = first_match(self.layers(), request.tenant, lambda layer: layer.chats,
                            lambda spec: chat_matches(spec, request))
        return None if entry is None else scripted_chat_plan(entry.spec, request)


def fixture_engine(seed: int, pricing: Pricing, layers: Layers) -> Engine:
    """An engine that answers runs, exec and chat from the fixture layers in force, else by default."""
    engine = Engine(seed, pricing, [FixtureRuns(layers, pricing)])
    engine.exec_scripts.append(FixtureExec(layers, seed))
    engine.chat_scripts.append(FixtureChat(layers))
    return engine
