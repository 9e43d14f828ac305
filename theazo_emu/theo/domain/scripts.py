"""Fixture-scripted completions: the first `completions` entry that matches answers.

Fixture layers are tried as for runs (core/mock.py's `first_match`: documents added with
POST /_emu/fixtures first, then the files; a layer or entry limited to one key matches only
that key's tenant). An entry matches on the prompt (substring or regex), the mode (asked
for or resolved), the conversation turn, a tool result of the turn (the agent-loop
position) and an offered tool.
Its answer takes what the entry gives (content, chunks, tool calls, tools used, artifacts,
follow-ups, usage, cost, error) and computes the rest as the default generator would.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from theazo_emu.core.mock import count_tokens, first_match, seeded
from theazo_emu.theo.domain import engines
from theazo_emu.theo.domain.answers import Answer, Ask, Failure, chunk, prompt_tokens
from theazo_emu.theo.domain.mock import server_tools

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant
    from theazo_emu.theo.fixtures import CompletionSpec


def scripted(t: "Tenant", ask: Ask) -> Answer | None:
    """The answer of the first matching fixture entry, or None."""
    entry = first_match(t.layers(), ask.tenant, lambda layer: layer.completions,
                        lambda spec: matches(spec, ask))
    return None if entry is None else answer(entry.spec, ask, t.settings.seed, f"{entry.file} {entry.path}")


def matches(spec: "CompletionSpec", ask: Ask) -> bool:
    match = spec.match
    return ((match.prompt is None or match.prompt.test(ask.prompt))
            and (match.mode is None or ask.mode in match.mode or ask.resolved_mode in match.mode)
            and (match.turn is None or match.turn == ask.turn)
            and (match.toolResult is None or any(match.toolResult.test(r) for _, r in ask.tool_results))
            and (match.tool is None or any(t.name == match.tool for t in ask.tools)))


def answer(spec: "CompletionSpec", ask: Ask, seed: int, where: str) -> Answer:
    resolved = spec.resolvedMode or ask.resolved_mode
    engine = engines.BY_ID[ask.engine] if engines.BY_ID[ask.engine].mode == resolved else engines.BY_MODE[resolved]
    rng = seeded(seed, where, ask.prompt)
    calls = tuple({"name": c.name, "arguments": c.arguments if isinstance(c.arguments, str)
                   else json.dumps(c.arguments, separators=(",", ":"))} for c in spec.toolCalls or ())
    if spec.usage is not None:
        tokens_in, tokens_out = spec.usage.promptTokens, spec.usage.completionTokens
    elif engine.cents_each:
        tokens_in = tokens_out = 0
    else:
        tokens_in = prompt_tokens(ask)
        tokens_out = count_tokens(spec.content, *(c["name"] + c["arguments"] for c in calls))
    cost = engines.units(spec.cost) if spec.cost is not None else engines.cost_units(engine, tokens_in, tokens_out)
    error = None
    if spec.error is not None:
        message = spec.error.message or f"The completion failed with {spec.error.code} (scripted by {where})."
        error = Failure(spec.error.http_status, spec.error.code, message, spec.error.afterTokens)
    tools: Any = (tuple({"name": t.name, "status": t.status, "description": t.description} for t in spec.toolsUsed)
                  if spec.toolsUsed is not None else server_tools(ask, ()))
    return Answer(content=spec.content, chunks=tuple(spec.chunks) if spec.chunks is not None
                  else chunk(spec.content, rng), resolved_mode=resolved, engine=engine.id,
                  prompt_tokens=tokens_in, completion_tokens=tokens_out, cost_units=cost, tools_used=tools,
                  artifacts=tuple(a.model_dump(exclude_none=True) for a in spec.artifacts),
                  follow_ups=tuple(f.model_dump() for f in spec.followUps or ()), tool_calls=calls, error=error,
                  script=where)
