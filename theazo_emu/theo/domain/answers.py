"""What the Theo engine is asked and what it answers: the request (`Ask`), the answer
(`Answer`, with a scripted `Failure`), and the arithmetic both the default generator
(mock.py) and fixture scripts (scripts.py) share: token chunks that join to the content,
token counts (core/mock.py's estimate) and the cost from the one price table (engines.py;
media modes count no tokens and cost per item).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from theazo_emu.core.mock import count_tokens
from theazo_emu.theo.domain import engines


@dataclass(frozen=True)
class Tool:
    name: str
    description: str = ""
    schema: str = "{}"  # the JSON Schema of its input, as JSON text (the request stays hashable)


@dataclass(frozen=True)
class Ask:
    """Everything the engine's answer depends on."""

    prompt: str
    mode: str  # as requested
    resolved_mode: str
    engine: str  # the engine id that runs it
    history: tuple[tuple[str, str], ...] = ()  # (role, content) before this prompt
    persona: str = "theo"  # "theo", "none", or a system prompt
    branding: bool = True
    skills: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_results: tuple[tuple[str, str], ...] = ()  # (tool name, result) of the turn
    tool_choice: str = "auto"  # auto | none | required | the name of a function to call
    client_tools: bool = False  # /chat/completions: tools are the client's to run
    image_model: str | None = None
    attachments: int = 0
    tenant: str | None = field(default=None, compare=False)  # for fixtures limited to a key

    @property
    def turn(self) -> int:
        """1 for the first prompt of a conversation, 2 for the next, ..."""
        return 1 + sum(1 for role, _ in self.history if role == "user")


@dataclass(frozen=True)
class Failure:
    """A scripted error: refused before any output, or after `after_tokens` tokens of a stream."""

    status: int
    code: str
    message: str
    after_tokens: int | None = None


@dataclass(frozen=True)
class Answer:
    content: str
    chunks: tuple[str, ...]
    resolved_mode: str
    engine: str
    prompt_tokens: int
    completion_tokens: int
    cost_units: int
    tools_used: tuple[dict[str, Any], ...] = ()
    artifacts: tuple[dict[str, Any], ...] = ()  # without ids: the pipeline gives them theirs
    follow_ups: tuple[dict[str, Any], ...] = ()
    tool_calls: tuple[dict[str, Any], ...] = ()  # {name, arguments (JSON text)}
    error: Failure | None = None
    script: str | None = None  # the fixture script that answered, if one did
    structured: dict[str, Any] | None = None  # data_extraction: the stream's `done.structured_output`
    cached: bool = False  # served by the semantic cache (cache.py): no tokens, no cost


def chunk(content: str, rng: random.Random) -> tuple[str, ...]:
    """Token chunks of one to three words (with their leading whitespace) that join to `content`."""
    words = re.findall(r"\s*\S+", content)
    if not words:
        return (content,) if content else ()
    words[-1] += content[len("".join(words)):]  # trailing whitespace stays with the last word
    chunks, i = [], 0
    while i < len(words):
        size = rng.choice((1, 1, 2, 3))
        chunks.append("".join(words[i:i + size]))
        i += size
    return tuple(chunks)


def prompt_tokens(ask: Ask) -> int:
    """What the request costs to read: its prompt, history, persona, tools and tool results."""
    persona = ask.persona if ask.persona not in ("theo", "none") else ""
    return 8 + count_tokens(ask.prompt, persona, *(c for _, c in ask.history), *(r for _, r in ask.tool_results)) \
        + sum(10 + count_tokens(t.description, t.schema) for t in ask.tools)


def finish(ask: Ask, rng: random.Random, content: str, **parts: Any) -> Answer:
    """An answer with its chunks, token counts and cost (media modes: no tokens, per item)."""
    engine = engines.BY_ID[ask.engine]
    calls = parts.get("tool_calls", ())
    if engine.cents_each:
        tokens_in = tokens_out = 0
    else:
        tokens_in = prompt_tokens(ask)
        tokens_out = count_tokens(content, *(c["name"] + c["arguments"] for c in calls))
    return Answer(content=content, chunks=chunk(content, rng), resolved_mode=ask.resolved_mode, engine=ask.engine,
                  prompt_tokens=tokens_in, completion_tokens=tokens_out,
                  cost_units=engines.cost_units(engine, tokens_in, tokens_out), **parts)
