"""POST /api/v1/chat/completions, the OpenAI wire protocol, in process (the `openai` client
itself, over a socket: test_theo_server.py)."""

from __future__ import annotations

import json

import pytest
from theo_support import bearer, held, sse, theo_error, theo_key

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                   "required": ["city", "unit"]}}}


def _chat(client, key, messages, **body):  # noqa: ANN001, ANN202
    return client.post("/api/v1/chat/completions", headers=bearer(key), json={"messages": messages, **body})


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_a_chat_completion_in_the_openai_shape(client):
    response = _chat(client, theo_key(), [{"role": "system", "content": "You are Kai, a coding buddy."},
                                           {"role": "user", "content": [{"type": "text", "text": "Hello"},
                                                                        {"type": "image_url", "image_url": {"url": "x"}}]}],
                     model="theo-1-reason", temperature=0.2, top_p=0.9, n=1, max_tokens=50, user="u1")
    body = response.json()
    assert list(body) == ["id", "object", "created", "model", "choices", "usage", "theo_metadata"]
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl_")
    assert body["created"] == 1746057600 and body["model"] == "theo-1-reason"
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop" and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"].startswith("Kai here.")
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    meta = body["theo_metadata"]
    assert meta["mode"] == "think" and meta["resolved_mode"] == "think" and meta["engine"] == "theo-core"
    assert meta["completion_id"] == "cmpl_" + body["id"].partition("_")[2]
    assert meta["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("model,mode,engine", [("theo-1-auto", "auto", "theo-1-flash"), ("gpt-4o", "auto", "theo-1-flash"),
                                               ("theo-1-code", "code", "theo-1-code"),
                                               ("theo-1-roast", "roast", "theo-1-edge"),
                                               ("theo-1-vision", "vision", "theo-1-vision")])
def test_model_ids_map_to_modes_and_unknown_ones_to_auto(client, model, mode, engine):
    body = _chat(client, theo_key(), _user("hello"), model=model).json()
    assert body["theo_metadata"]["mode"] == mode and body["model"] == engine


def test_history_is_context_and_chat_is_stateless_without_a_conversation(client):
    key = theo_key()
    body = _chat(client, key, [{"role": "user", "content": "Plan a trip"}, {"role": "assistant", "content": "Sure."},
                               {"role": "user", "content": "And the budget?"}]).json()
    assert body["choices"][0]["message"]["content"].startswith("Continuing our conversation (turn 2).")
    assert body["theo_metadata"]["conversation_id"] is None
    assert client.get("/api/v1/conversations", headers=bearer(key)).json()["conversations"] == []


def test_a_conversation_id_appends_to_a_theo_conversation(client):
    key = theo_key()
    started = client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "Remember 42"}).json()
    body = _chat(client, key, _user("What number?"), conversation_id=started["conversation_id"]).json()
    assert body["theo_metadata"]["conversation_id"] == started["conversation_id"]
    detail = client.get(f"/api/v1/conversations/{started['conversation_id']}", headers=bearer(key)).json()
    assert [m["content"] for m in detail["conversation"]["messages"] if m["role"] == "user"] == [
        "Remember 42", "What number?"]


def test_the_stream_is_chunks_ending_in_done_with_usage_only_when_asked(client):
    key = theo_key()
    plain = _chat(client, key, _user("Stream me a poem")).json()
    response = _chat(client, key, _user("Stream me a poem"), stream=True, stream_options={"include_usage": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = sse(response.text)
    assert all(f["event"] is None for f in frames)  # data-only frames: no Theo event names
    assert frames[-1]["data"] == "[DONE]"
    chunks = [f["data"] for f in frames[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and "theo_metadata" in chunks[-2]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert text == plain["choices"][0]["message"]["content"]
    without = sse(_chat(client, key, _user("Stream me a poem"), stream=True).text)
    assert without[-1]["data"] == "[DONE]" and all("usage" not in f["data"] for f in without[:-1])


def test_tools_round_trip_as_tool_calls_then_tool_results(client):
    key = theo_key()
    asked = _chat(client, key, _user("What's the weather in Paris?"), tools=[WEATHER], tool_choice="auto").json()
    choice = asked["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "c"}
    answered = _chat(client, key, [*_user("What's the weather in Paris?"),
                                   {"role": "assistant", "content": None, "tool_calls": [call]},
                                   {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 18}'}],
                     tools=[WEATHER]).json()
    assert answered["choices"][0]["finish_reason"] == "stop"
    assert answered["choices"][0]["message"]["content"].startswith('Using the result of get_weather ({"temp": 18})')
    streamed = sse(_chat(client, key, _user("What's the weather in Paris?"), tools=[WEATHER], stream=True).text)
    deltas = [f["data"]["choices"][0] for f in streamed[:-1]]
    assert deltas[1]["delta"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert deltas[1]["delta"]["tool_calls"][0]["index"] == 0 and deltas[-1]["finish_reason"] == "tool_calls"


def test_tool_choice_none_required_and_named(client):
    key = theo_key()
    other = {"type": "function", "function": {"name": "get_time", "description": "The time"}}
    none = _chat(client, key, _user("weather in Paris"), tools=[WEATHER], tool_choice="none").json()
    assert none["choices"][0]["finish_reason"] == "stop"
    unrelated = _chat(client, key, _user("hello"), tools=[WEATHER]).json()
    assert unrelated["choices"][0]["finish_reason"] == "stop"
    required = _chat(client, key, _user("hello"), tools=[WEATHER, other], tool_choice="required").json()
    assert [c["function"]["name"] for c in required["choices"][0]["message"]["tool_calls"]] == ["get_weather"]
    named = _chat(client, key, _user("hello"), tools=[WEATHER, other],
                  tool_choice={"type": "function", "function": {"name": "get_time"}}).json()
    assert [c["function"]["name"] for c in named["choices"][0]["message"]["tool_calls"]] == ["get_time"]
    theo_error(_chat(client, key, _user("hello"), tools=[WEATHER],
                     tool_choice={"type": "function", "function": {"name": "nope"}}), 400, "validation_error")


def test_fixtures_script_tool_calls_and_answers_on_tool_results(client):
    key = theo_key()
    client.post("/_emu/fixtures", json={"key": key, "completions": [
        {"match": {"tool": "lookup", "toolResult": "found"}, "content": "The order shipped."},
        {"match": {"tool": "lookup"}, "toolCalls": [{"name": "lookup", "arguments": {"order": "A1"}}]}]})
    tool = {"type": "function", "function": {"name": "lookup", "description": "Look up an order"}}
    first = _chat(client, key, _user("Where is my order?"), tools=[tool]).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"order": "A1"}
    second = _chat(client, key, [*_user("Where is my order?"), {"role": "assistant", "tool_calls": [call]},
                                 {"role": "tool", "tool_call_id": call["id"], "content": "found: shipped"}],
                   tools=[tool]).json()
    assert second["choices"][0]["message"]["content"] == "The order shipped."


@pytest.mark.parametrize("body,status,code", [
    ({"messages": []}, 400, "validation_error"),
    ({}, 400, "validation_error"),
    ({"messages": "hi"}, 400, "validation_error"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, 400, "validation_error"),
    ({"messages": [{"role": "user", "content": 42}]}, 400, "validation_error"),
    ({"messages": [{"role": "system", "content": "Be nice."}]}, 400, "empty_prompt"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "c"}]}, 400, "empty_prompt"),
    ({"messages": [{"role": "user", "content": "  "}]}, 400, "empty_prompt"),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": 9}, 400, "validation_error"),
    ({"messages": [{"role": "user", "content": "hi"}], "stream": "true"}, 400, "validation_error"),
    ({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}, 400, "validation_error"),
    ({"messages": [{"role": "user", "content": "hi"}], "conversation_id": "conv_missing"}, 404, "not_found"),
])
def test_bad_chat_requests_get_theos_envelope_and_change_nothing(client, body, status, code):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post("/api/v1/chat/completions", headers=bearer(key), json=body), status, code)
    assert held(client, key) == before
