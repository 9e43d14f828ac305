"""Chat reply plans: the text, tool calls, tokens and timing of a mocked chat reply.

`Engine.plan_chat()` settles a reply when the message is posted: the first chat script that
matches (fixtures' `chat` entries) decides it, else `default_chat_plan`, a pure function of
the seed and the request. The request carries the conversation as its context window
shows it, so the default reply has a memory: a message that asks back ("what was the first
thing I asked?") is answered by quoting the earliest user message still in context. A plan
lists its stream events (tool calls and results, then the text in chunks of a few words)
with their offsets; the store releases them on the virtual clock.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from theazo_emu.core.mock import count_tokens, seeded, shorten
from theazo_emu.theazo.mock.content import tool_input, tool_output

if TYPE_CHECKING:
    from theazo_emu.fixtures.models import ChatSpec

WORDS_PER_CHUNK = 3
_RECALL = re.compile(r"\b(first|earlier|before|previous(ly)?|remember|recall|already asked|last time)\b", re.I)


@dataclass(frozen=True)
class ChatRequest:
    message: str
    history: tuple[tuple[str, str], ...] = ()  # (role, content) of the context window, oldest first
    system: str = ""  # the conversation's system prompt and its agent's instructions
    tools: tuple[str, ...] = ()
    model: str = ""
    agent: str = ""  # the agent reference, or its definition's name
    tenant: str | None = None


@dataclass(frozen=True)
class ChatEvent:
    offset_ms: int
    type: str  # tool_call | tool_result | text
    data: dict[str, Any]


@dataclass(frozen=True)
class ChatPlan:
    events: tuple[ChatEvent, ...]
    reply: str
    tool_calls: tuple[dict[str, Any], ...]  # {name, input, output}
    input_tokens: int
    output_tokens: int
    duration_ms: int
    cost_cents: int | None = None  # a fixture's declared cost; None = priced from tokens


class ChatScript(Protocol):
    def match(self, request: ChatRequest) -> ChatPlan | None: ...


def tokens(text: str) -> int:
    """The emulator's token estimate (core/mock.py), at least one."""
    return max(1, count_tokens(text))


def context_tokens(request: ChatRequest) -> int:
    return (tokens(request.system) if request.system else 0) + sum(tokens(c) for _, c in request.history) \
        + tokens(request.message)


def _text_events(reply: str, start_ms: int, rng: random.Random | None) -> tuple[list[ChatEvent], int]:
    """The reply in chunks of a few words (each keeps its trailing space), one every 40-120 ms."""
    words = re.findall(r"\S+\s*", reply) or [reply]
    events, t = [], start_ms
    for i in range(0, len(words), WORDS_PER_CHUNK):
        events.append(ChatEvent(t, "text", {"type": "text", "text": "".join(words[i:i + WORDS_PER_CHUNK])}))
        t += rng.randint(40, 120) if rng else 80
    return events, t


def _compose(request: ChatRequest, rng: random.Random, used: str | None) -> str:
    asked = [content for role, content in request.history if role == "user"]
    if asked and _RECALL.search(request.message):
        text = f'You first asked: "{shorten(asked[0], 160)}".'
        if len(asked) > 1:
            text += f' Most recently you asked: "{shorten(asked[-1], 160)}".'
        return text
    text = f'Mock reply to "{shorten(request.message, 120)}"'
    if used:
        text += f" ({used})"
    return text + f". Deterministic output from theazo-emu (ref {rng.getrandbits(32):08x})."


def default_chat_plan(seed: int, request: ChatRequest) -> ChatPlan:
    history = "\x1e".join(f"{role}:{content}" for role, content in request.history)
    rng = seeded(seed, request.model, request.system, ",".join(request.tools), history, request.message, sep="\x1f")
    t = rng.randint(150, 400)  # time to the first token
    events: list[ChatEvent] = []
    calls: list[dict[str, Any]] = []
    used = None
    if request.tools and rng.random() < 0.5:
        tool = sorted(request.tools)[rng.randrange(len(request.tools))]
        call_input, output = tool_input(tool, request.message), tool_output(tool, request.message, rng)
        events.append(ChatEvent(t, "tool_call", {"type": "tool_call", "name": tool, "input": call_input}))
        t += rng.randint(500, 2000)
        events.append(ChatEvent(t, "tool_result", {"type": "tool_result", "name": tool, "output": output}))
        calls.append({"name": tool, "input": call_input, "output": output})
        t += rng.randint(100, 400)
        used = f"{tool}: {output}"
    reply = _compose(request, rng, used)
    text, t = _text_events(reply, t, rng)
    return ChatPlan(tuple(events + text), reply, tuple(calls), context_tokens(request) + 20,
                    tokens(reply) + rng.randint(0, 20), t)


def scripted_chat_plan(spec: "ChatSpec", request: ChatRequest) -> ChatPlan:
    """A fixture's reply: its tool calls (each result 600 ms after its call), then its text."""
    events: list[ChatEvent] = []
    t = 200
    for call in spec.toolCalls:
        events.append(ChatEvent(t, "tool_call", {"type": "tool_call", "name": call.name, "input": call.input}))
        t += 600
        events.append(ChatEvent(t, "tool_result", {"type": "tool_result", "name": call.name, "output": call.output}))
        t += 100
    text, end = _text_events(spec.reply, t, None)
    duration = max(spec.duration, text[-1].offset_ms) if spec.duration is not None else end
    usage = spec.usage
    return ChatPlan(tuple(events + text), spec.reply,
                    tuple({"name": c.name, "input": c.input, "output": c.output} for c in spec.toolCalls),
                    usage.inputTokens if usage else context_tokens(request) + 20,
                    usage.outputTokens if usage else tokens(spec.reply), duration, spec.cost)
