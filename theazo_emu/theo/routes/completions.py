"""POST /api/v1/completions: Theo's native completion, JSON or SSE (theo-api.md §2.2-§2.5).

Every field of the body is validated (theo/bodies/api.py); the pipeline (theo/domain/completion.py)
checks the conversation and the credits, asks the mock engine and books the completion.
`stream: true` answers Theo's event stream (`thinking`, `meta`, ..., `token`s, `done`), each
frame whole in one write, closing after `done` (or a scripted `error` event); errors found
before it starts are ordinary JSON errors. `format: "openai"` answers the `chat.completion`
envelope, or when streaming its `chat.completion.chunk` frames ending in `data: [DONE]`.
Only this route is served by the semantic cache (theo/domain/cache.py).
"""

from __future__ import annotations

import json

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.api import CreateCompletion
from theazo_emu.theo.domain.answers import Tool
from theazo_emu.theo.domain.completion import Caller, Request, run
from theazo_emu.theo.domain.render import completion_body, native_frames, openai_body, openai_frames
from theazo_emu.theo.surface import key_facts, request_facts, stream


def _request(body: CreateCompletion) -> Request:
    stateless = body.conversation is not None and body.conversation_id is None
    return Request(
        prompt=body.prompt, mode=body.mode, conversation_id=body.conversation_id,
        inline_history=tuple((m.role, m.content) for m in body.conversation.messages) if stateless else None,  # type: ignore[union-attr]
        persona=body.persona if isinstance(body.persona, str) else body.persona.system_prompt,
        branding=body.theo_branding, skills=tuple(dict.fromkeys(body.skills or ())),
        tools=tuple(Tool(t.name, t.description, json.dumps(t.input_schema or {}, sort_keys=True)) for t in body.tools or ()),
        model_overrides=dict(body.model_overrides or {}), metadata=body.metadata, image_model=body.image_model,
        component_library=body.component_library, attachments=len(body.attachments or ()), stream=body.stream,
        cacheable=body.conversation_id is None and body.conversation is None)


async def create_completion(ctx: Ctx):  # noqa: ANN201 (JSON, or an SSE stream)
    """Run a prompt through the (mocked) orchestration: JSON, or SSE with `stream: true`."""
    body: CreateCompletion = ctx.body
    request = _request(body)
    row, key_id = key_facts(ctx)
    org = row is not None and row["scope"] == "org"
    result = run(ctx.t, Caller(ctx.key, key_id, request_facts(ctx), org), request)
    if body.format == "openai":
        if body.stream:
            return stream(ctx, openai_frames(result, bool(body.stream_options and body.stream_options.include_usage)))
        return openai_body(result)
    return stream(ctx, native_frames(result)) if body.stream else completion_body(result)


routes = [
    api_route("/api/v1/completions", create_completion, "POST", body=CreateCompletion),
]
