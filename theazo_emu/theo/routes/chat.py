"""POST /api/v1/chat/completions: the OpenAI Chat Completions wire protocol (theo-api.md §2.6).

The last user message is the prompt; system (and developer) messages replace the persona;
earlier user and assistant turns are the history; `model` picks the mode (unknown ids:
auto). Without `conversation_id` the request is stateless; with one it appends to that
conversation (404 when unknown). Tools round-trip as OpenAI's do: offered `tools` may come
back as `tool_calls` (finish_reason `tool_calls`), and `tool` messages after the last user
message are that turn's results, which the answer then uses. `stream: true` sends
`chat.completion.chunk` data frames ending with `data: [DONE]`, plus a usage chunk when
`stream_options.include_usage`. Errors are Theo's envelope, which the OpenAI client raises
as its own exception types by status.
"""

from __future__ import annotations

import json

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.api import CreateChatCompletion
from theazo_emu.theo.domain.answers import Tool
from theazo_emu.theo.domain.completion import Caller, Request, run
from theazo_emu.theo.domain.engines import model_mode
from theazo_emu.theo.domain.errors import TheoError, invalid
from theazo_emu.theo.domain.render import openai_body, openai_frames
from theazo_emu.theo.surface import key_facts, request_facts, stream


def _request(body: CreateChatCompletion) -> Request:
    messages = body.messages
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None or not messages[last].text.strip():
        raise TheoError(400, "empty_prompt", "The messages hold no user message with content: the last user "
                                             "message is the prompt.")
    names = {call.id: call.function.name for m in messages for call in m.tool_calls or ()}
    tools = tuple(Tool(t.function.name, t.function.description or "",
                       json.dumps(t.function.parameters or {}, sort_keys=True)) for t in body.tools or ())
    choice = body.tool_choice
    if choice is None or isinstance(choice, str):
        tool_choice = choice or "auto"
    elif any(t.name == choice.function.name for t in tools):
        tool_choice = choice.function.name
    else:
        raise invalid("tool_choice", f"names the function {choice.function.name[:60]!r}, which 'tools' lacks")
    system = "\n\n".join(m.text for m in messages if m.role in ("system", "developer") and m.text)
    return Request(
        prompt=messages[last].text, mode=model_mode(body.model), conversation_id=body.conversation_id,
        inline_history=None if body.conversation_id else tuple(
            (m.role, m.text) for m in messages[:last] if m.role in ("user", "assistant") and m.text),
        stateless=True, persona=system or "theo", skills=tuple(dict.fromkeys(body.skills or ())), tools=tools,
        tool_results=tuple((names.get(m.tool_call_id or "", m.name or "tool"), m.text)
                           for m in messages[last + 1:] if m.role == "tool"),
        tool_choice=tool_choice, client_tools=True, metadata=body.metadata, stream=body.stream)


async def create_chat_completion(ctx: Ctx):  # noqa: ANN201 (JSON, or an SSE stream)
    """An OpenAI-compatible chat completion: `chat.completion`, or `chat.completion.chunk` frames."""
    body: CreateChatCompletion = ctx.body
    request = _request(body)
    result = run(ctx.t, Caller(ctx.key, key_facts(ctx)[1], request_facts(ctx)), request)
    if body.stream:
        return stream(ctx, openai_frames(result, bool(body.stream_options and body.stream_options.include_usage)))
    return openai_body(result)


routes = [
    api_route("/api/v1/chat/completions", create_chat_completion, "POST", body=CreateChatCompletion),
]
