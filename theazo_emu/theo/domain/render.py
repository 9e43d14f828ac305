"""A completion on the wire: Theo's envelope and stream, and the OpenAI-compatible ones.

theo-api.md §2.3-§2.6. `completion_body` is the native answer (with `_cached: true` when the
semantic cache served it); `native_frames` the native stream (`thinking`, `meta` (with
`routing`, and `brand` when the request asks for another voice), `skills`, `genui_meta`,
one `tool` per tool, one `artifact` per artifact, the `token`s, then `done` (with
`structured_output` for `data_extraction`), or an `error` event after a scripted failure's
tokens), whose tokens join to `done.content`. `openai_body` is the `chat.completion`
envelope (`format: "openai"` and /chat/completions) and `openai_frames` its
`chat.completion.chunk` stream, data-only frames ending with `data: [DONE]` (no Theo event
ever goes out on it: the OpenAI client JSON-parses every frame). Frames are sse.Frame, so
each is written whole, in one write.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.sse import Frame
from theazo_emu.theo.domain import engines
from theazo_emu.theo.domain.answers import Answer
from theazo_emu.theo.domain.completion import Result, usage
from theazo_emu.theo.domain.errors import error_body

DONE = Frame(None, "[DONE]", None)


def completion_body(result: Result) -> dict[str, Any]:
    answer = result.answer
    body: dict[str, Any] = {
        "id": result.id, "object": "completion", "created": result.created, "content": answer.content,
        "mode": result.mode, "resolved_mode": answer.resolved_mode, "model": engines.model_to_api(result.engine),
        "tools_used": list(answer.tools_used), "artifacts": result.artifacts, "follow_ups": list(answer.follow_ups),
        "usage": usage(answer), "metadata": result.metadata, "conversation_id": result.conversation_id,
        "request_id": result.request_id}
    if result.skills:
        body["skills_active"] = list(result.skills)
    if answer.resolved_mode == "genui":
        body["genui_code"] = answer.content
    return cached(body, answer)


def cached(body: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """The body, marked `_cached: true` when the semantic cache served it (the docs' flag)."""
    return {**body, "_cached": True} if answer.cached else body


def routing(result: Result) -> dict[str, Any]:
    """How the request was routed (the SDK's `meta.routing` and `done.routing`): classified
    when `auto`, pinned by `model_overrides` otherwise; nothing fails over here."""
    return {"mode": result.mode, "resolved_mode": result.resolved_mode, "classified": result.mode == "auto",
            "model": result.engine.id, "engine": result.engine.engine,
            "pinned": result.engine is not engines.BY_MODE.get(result.resolved_mode), "failover": False}


def native_frames(result: Result) -> list[Frame]:
    answer = result.answer
    frames = [Frame("thinking", "", None), Frame("meta", {
        "id": result.id, "mode": result.mode, "resolved_mode": answer.resolved_mode,
        "model": engines.model_to_api(result.engine), "tools": list(answer.tools_used), "artifacts": result.artifacts,
        "routing": routing(result), "conversation_id": result.conversation_id, "request_id": result.request_id,
        **({"brand": result.brand} if result.brand else {})}, None)]
    if result.skills:
        frames.append(Frame("skills", {"active": list(result.skills)}, None))
    if answer.resolved_mode == "genui":
        frames.append(Frame("genui_meta", {"library": result.library or "theo", "tools": []}, None))
    frames += [Frame("tool", tool, None) for tool in answer.tools_used]
    frames += [Frame("artifact", artifact, None) for artifact in result.artifacts]
    failure = answer.error
    chunks = answer.chunks[:failure.after_tokens] if failure else answer.chunks
    frames += [Frame("token", {"token": chunk}, None) for chunk in chunks]
    if failure:
        frames.append(Frame("error", error_body(failure.status, failure.code, failure.message, result.request_id),
                            None))
        return frames
    done: dict[str, Any] = {
        "id": result.id, "content": answer.content, "follow_ups": list(answer.follow_ups), "usage": usage(answer),
        "routing": routing(result), "conversation_id": result.conversation_id, "request_id": result.request_id,
        "billing": {"cost_cents": engines.cents(answer.cost_units), "currency": "usd",
                    "balance_cents": None if result.balance_units is None else engines.cents(result.balance_units)}}
    if result.skills:
        done["skills_active"] = list(result.skills)
    if answer.resolved_mode == "genui":
        done["genui_code"] = answer.content
    if answer.structured is not None:
        done["structured_output"] = answer.structured
    frames.append(Frame("done", cached(done, answer), None))
    return frames


def chat_id(result: Result) -> str:
    return "chatcmpl_" + result.id.partition("_")[2]


def _metadata(result: Result) -> dict[str, Any]:
    answer = result.answer
    return {"mode": result.mode, "resolved_mode": answer.resolved_mode, "tools_used": list(answer.tools_used),
            "artifacts": result.artifacts, "engine": result.engine.engine, "follow_ups": list(answer.follow_ups),
            "cost_cents": engines.cents(answer.cost_units), "conversation_id": result.conversation_id,
            "completion_id": result.id, "request_id": result.request_id}


def _tool_calls(result: Result) -> list[dict[str, Any]]:
    return [{"id": ident, "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
            for ident, call in zip(result.call_ids, result.answer.tool_calls)]


def _openai_usage(result: Result) -> dict[str, int]:
    answer = result.answer
    return {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens}


def openai_body(result: Result) -> dict[str, Any]:
    answer = result.answer
    message: dict[str, Any] = {"role": "assistant", "content": answer.content or None if answer.tool_calls
                               else answer.content}
    if answer.tool_calls:
        message["tool_calls"] = _tool_calls(result)
    return cached({"id": chat_id(result), "object": "chat.completion", "created": result.created_ms // 1000,
                   "model": result.engine.id,
                   "choices": [{"index": 0, "message": message, "logprobs": None,
                                "finish_reason": "tool_calls" if answer.tool_calls else "stop"}],
                   "usage": _openai_usage(result), "theo_metadata": _metadata(result)}, answer)


def openai_frames(result: Result, include_usage: bool) -> list[Frame]:
    answer = result.answer
    base = {"id": chat_id(result), "object": "chat.completion.chunk", "created": result.created_ms // 1000,
            "model": result.engine.id}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> Frame:
        data: dict[str, Any] = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                      "finish_reason": finish}]}
        if include_usage:
            data["usage"] = None
        return Frame(None, {**data, **extra}, None)

    failure = answer.error
    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": text}) for text in (answer.chunks[:failure.after_tokens] if failure
                                                     else answer.chunks)]
    if failure:  # the OpenAI client raises APIError on a chunk carrying `error`
        frames.append(Frame(None, error_body(failure.status, failure.code, failure.message, result.request_id),
                            None))
        return frames
    if answer.tool_calls:
        frames.append(chunk({"tool_calls": [{"index": i, **call} for i, call in enumerate(_tool_calls(result))]}))
    frames.append(chunk({}, "tool_calls" if answer.tool_calls else "stop", theo_metadata=_metadata(result)))
    if include_usage:
        frames.append(Frame(None, {**base, "choices": [], "usage": _openai_usage(result)}, None))
    frames.append(DONE)
    return frames
