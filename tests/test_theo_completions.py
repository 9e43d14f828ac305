"""POST /api/v1/completions: every field, every mode, the stream, conversations, fixtures,
faults and determinism, in process (the stream over a socket: test_theo_server.py)."""

from __future__ import annotations

import re

import pytest
from conftest import START
from starlette.testclient import TestClient
from theo_support import bearer, complete, held, sse, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings
from theazo_emu.theo.domain.engines import BY_MODE, MODES

ID = re.compile(r"^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$")


def _stream(client, key, **body) -> list[dict]:  # noqa: ANN001
    response = client.post("/api/v1/completions", headers=bearer(key), json={"stream": True, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    return sse(response.text)


def test_the_native_envelope_has_every_documented_field(client):
    key = theo_key()
    response = client.post("/api/v1/completions", headers=bearer(key),
                           json={"prompt": "Explain DNS", "metadata": {"ticket": "T-1", "n": [1, 2]}})
    body = response.json()
    assert list(body) == ["id", "object", "created", "content", "mode", "resolved_mode", "model", "tools_used",
                          "artifacts", "follow_ups", "usage", "metadata", "conversation_id", "request_id"]
    assert body["id"].startswith("cmpl_") and ID.match(body["id"])
    assert body["object"] == "completion" and body["created"] == START.replace("Z", ".000Z")
    assert body["mode"] == "auto" and body["resolved_mode"] == "think"
    assert body["model"] == {"id": "theo-1-reason", "label": "Theo Reason", "engine": "theo-core"}
    assert body["tools_used"][0]["name"] == "Intent classifier"
    assert [set(f) for f in body["follow_ups"]] == [{"label", "prompt"}] * 2
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert isinstance(usage["cost_cents"], (int, float)) and usage["cost_cents"] > 0
    assert body["metadata"] == {"ticket": "T-1", "n": [1, 2]}
    assert body["conversation_id"].startswith("conv_")
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Explain DNS" in body["content"]


@pytest.mark.parametrize("prompt,mode", [("Draw me a logo", "image"), ("Write a React component", "code"),
                                         ("Research the latest AI news", "research"),
                                         ("Why is the sky blue?", "think"), ("hello there", "fast")])
def test_auto_is_classified_to_a_resolved_mode(client, prompt, mode):
    body = complete(client, theo_key(), prompt)
    assert body["mode"] == "auto" and body["resolved_mode"] == mode
    assert body["model"]["id"] == BY_MODE[mode].id


@pytest.mark.parametrize("mode", [m for m in MODES if m != "auto"])
def test_every_mode_runs_on_its_engine_and_skips_classification(client, mode):
    body = complete(client, theo_key(), "Draw a bug in python", mode=mode)
    assert body["mode"] == body["resolved_mode"] == mode
    assert body["model"]["id"] == BY_MODE[mode].id
    assert all(t["name"] != "Intent classifier" for t in body["tools_used"])
    if BY_MODE[mode].cents_each:  # media: no tokens, a price per item, an artifact with its URL
        assert body["usage"]["prompt_tokens"] == body["usage"]["completion_tokens"] == 0
        assert body["usage"]["cost_cents"] == BY_MODE[mode].cents_each
        url = body["artifacts"][0].get("imageUrl") or body["artifacts"][0].get("videoUrl")
        assert url.startswith("https://cdn.hitheo.invalid/artifacts/art_")
    else:
        assert body["usage"]["prompt_tokens"] > 0


def test_code_image_genui_and_research_modes_carry_their_outputs(client):
    key = theo_key()
    code = complete(client, key, "Write a TypeScript function", mode="code")
    artifact = code["artifacts"][0]
    assert artifact["type"] == "code" and artifact["language"] == "typescript" and artifact["id"].startswith("art_")
    assert artifact["code"] in code["content"]
    image = complete(client, key, "A red circle", mode="image", image_model="theo-1-photo", image_quality="hd")
    assert image["artifacts"][0]["modelId"] == "theo-1-photo" and image["artifacts"][0]["type"] == "image"
    genui = complete(client, key, "A card", mode="genui", component_library="acme")
    assert genui["genui_code"] == genui["content"] and genui["content"].startswith("<Card")
    research = complete(client, key, "Solar panels", mode="research")
    assert research["artifacts"][0]["type"] == "document" and "[1]" in research["content"]


def test_persona_branding_skills_tools_and_overrides_shape_the_answer(client):
    key = theo_key()
    assert complete(client, key, "hi")["content"].endswith("— Theo")
    assert not complete(client, key, "hi", persona="none")["content"].endswith("— Theo")
    assert not complete(client, key, "hi", theo_branding=False)["content"].endswith("— Theo")
    atlas = complete(client, key, "hi", persona={"system_prompt": "You are Atlas, an operations assistant."})
    assert atlas["content"].startswith("Atlas here.")
    skilled = complete(client, key, "hi", skills=["inventory-check", "inventory-check"])
    assert [s["slug"] for s in skilled["skills_active"]] == ["inventory-check"]
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-", skilled["skills_active"][0]["id"])
    tools = [{"name": "check_stock", "description": "Look up stock by SKU",
              "input_schema": {"type": "object", "properties": {"sku": {"type": "string"}}}},
             {"name": "create_reorder", "description": "Reorder"}]
    used = complete(client, key, "Check stock levels for SKU-1234", tools=tools)
    assert {"name": "check_stock", "status": "success", "description": "Look up stock by SKU"} in used["tools_used"]
    assert all(t["name"] != "create_reorder" for t in used["tools_used"])
    assert "I called check_stock" in used["content"]
    override = complete(client, key, "Why?", model_overrides={"think": "theo-1-flash"})
    assert override["resolved_mode"] == "think" and override["model"]["id"] == "theo-1-flash"


def test_conversations_start_continue_list_read_and_delete(client):
    key = theo_key()
    first = complete(client, key, "I am planning a trip to Lisbon")
    conversation = first["conversation_id"]
    second = complete(client, key, "What should I pack?", conversation_id=conversation)
    assert second["conversation_id"] == conversation
    assert second["content"].startswith("Continuing our conversation (turn 2).")
    assert {"name": "memory", "status": "success", "description": "Recalled 2 earlier messages"} in \
        second["tools_used"]
    others = [complete(client, key, f"other {n}")["conversation_id"] for n in range(3)]
    page = client.get("/api/v1/conversations?limit=2", headers=bearer(key)).json()
    assert [c["id"] for c in page["conversations"]] == others[::-1][:2] and page["has_more"] is True
    rest = client.get(f"/api/v1/conversations?limit=2&cursor={page['next_cursor']}", headers=bearer(key)).json()
    assert [c["id"] for c in rest["conversations"]] == [others[0], conversation] and rest["has_more"] is False
    summary = rest["conversations"][1]
    assert summary["title"] == "I am planning a trip to Lisbon" and summary["messageCount"] == 4
    flat = " ".join(second["content"].split())
    assert summary["lastMessage"] == (flat if len(flat) <= 200 else flat[:199] + "…")
    detail = client.get(f"/api/v1/conversations/{conversation}", headers=bearer(key)).json()["conversation"]
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    assert detail["messages"][3]["content"] == second["content"]
    assert detail["messages"][3]["resolvedMode"] == "fast" and detail["messages"][3]["model"]["id"] == "theo-1-flash"
    assert detail["messages"][3]["costCents"] == second["usage"]["cost_cents"]
    deleted = client.delete(f"/api/v1/conversations/{conversation}", headers=bearer(key))
    assert deleted.json() == {"id": conversation, "deleted": True}
    theo_error(client.get(f"/api/v1/conversations/{conversation}", headers=bearer(key)), 404, "not_found")
    theo_error(client.get("/api/v1/conversations?cursor=nonsense", headers=bearer(key)), 400, "validation_error")


def test_an_unknown_conversation_is_404_and_changes_nothing(client):
    key = theo_key()
    before = held(client, key)
    for stream in (False, True):
        theo_error(client.post("/api/v1/completions", headers=bearer(key),
                               json={"prompt": "hi", "conversation_id": "conv_nope", "stream": stream}), 404, "not_found")
    assert held(client, key) == before


def test_an_inline_conversation_is_stateless(client):
    key = theo_key()
    body = complete(client, key, "And then?", conversation={"title": "t", "messages": [
        {"role": "user", "content": "Tell me a story", "createdAt": "2025-01-01T00:00:00Z"},
        {"role": "assistant", "content": "Once upon a time"}]})
    assert body["conversation_id"] is None and body["content"].startswith("Continuing our conversation (turn 2).")
    assert client.get("/api/v1/conversations", headers=bearer(key)).json()["conversations"] == []


def test_the_stream_sends_every_event_in_order_and_its_tokens_join_to_the_content(client):
    key = theo_key()
    plain = complete(client, theo_key(), "Write a python parser", mode="code", skills=["lint"])
    frames = _stream(client, key, prompt="Write a python parser", mode="code", skills=["lint"])
    names = [f["event"] for f in frames]
    assert names[:3] == ["thinking", "meta", "skills"]
    assert names[-1] == "done" and names.count("done") == 1
    assert names == ["thinking", "meta", "skills", *["tool"] * 1, "artifact", *["token"] * (len(names) - 6), "done"]
    assert frames[0]["data"] == ""  # the heartbeat carries no JSON
    meta, done = frames[1]["data"], frames[-1]["data"]
    assert meta["id"] == done["id"] and meta["id"].startswith("cmpl_")
    assert meta["resolved_mode"] == "code" and meta["model"]["id"] == "theo-1-code"
    assert meta["conversation_id"] == done["conversation_id"] and meta["request_id"] == done["request_id"]
    assert meta["routing"] == done["routing"] == {"mode": "code", "resolved_mode": "code", "classified": False,
                                                  "model": "theo-1-code", "engine": "theo-core", "pinned": False,
                                                  "failover": False}
    pinned = _stream(client, key, prompt="hi", model_overrides={"fast": "theo-1-reason"})[-1]["data"]["routing"]
    assert pinned["classified"] and pinned["pinned"] and pinned["model"] == "theo-1-reason"
    tokens = "".join(f["data"]["token"] for f in frames if f["event"] == "token")
    assert tokens == done["content"] == plain["content"]
    assert done["usage"] == plain["usage"] and done["follow_ups"] == plain["follow_ups"]
    assert done["billing"] == {"cost_cents": plain["usage"]["cost_cents"], "currency": "usd", "balance_cents": None}
    assert done["skills_active"][0]["slug"] == "lint"
    assert frames[2]["data"]["active"][0]["slug"] == "lint"
    assert next(f for f in frames if f["event"] == "artifact")["data"]["type"] == "code"


def test_a_genui_stream_has_genui_meta(client):
    frames = _stream(client, theo_key(), prompt="A card", mode="genui", component_library="acme-ui")
    assert [f["event"] for f in frames][:3] == ["thinking", "meta", "genui_meta"]
    assert frames[2]["data"] == {"library": "acme-ui", "tools": []}
    assert frames[-1]["data"]["genui_code"] == frames[-1]["data"]["content"]


def test_format_openai_gives_the_chat_completion_envelope_and_its_chunk_stream(client):
    key = theo_key()
    body = complete(client, key, "hello", format="openai")
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl_")
    assert isinstance(body["created"], int) and body["model"] == "theo-1-flash"
    assert body["choices"][0]["message"]["role"] == "assistant" and body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert body["theo_metadata"]["resolved_mode"] == "fast" and body["theo_metadata"]["engine"] == "theo-core"
    # another user's: the same request by the same user would be a semantic-cache hit at zero tokens
    frames = _stream(client, theo_key(), prompt="hello", format="openai", stream_options={"include_usage": True})
    assert all(f["event"] is None for f in frames) and frames[-1]["data"] == "[DONE]"
    assert frames[-2]["data"]["choices"] == [] and frames[-2]["data"]["usage"] == body["usage"]
    text = "".join(f["data"]["choices"][0]["delta"].get("content", "") for f in frames[:-2])
    assert text == body["choices"][0]["message"]["content"]


def test_the_same_request_gives_the_same_bytes_on_a_fresh_emulator():
    answers = []
    for _ in range(2):
        with TestClient(create_app(Settings(clock=START, seed=3))) as client:
            key = "theo_sk_test_same"
            first = client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "Compare Go and Rust"})
            streamed = client.post("/api/v1/completions", headers=bearer(key),
                                   json={"prompt": "Write SQL", "stream": True})
            answers.append((first.content, first.headers["x-request-id"], streamed.content))
    assert answers[0] == answers[1]
    with TestClient(create_app(Settings(clock=START, seed=4))) as client:
        other = client.post("/api/v1/completions", headers=bearer("theo_sk_test_same"),
                            json={"prompt": "Compare Go and Rust"})
    assert other.content != answers[0][0]


# ---- bad input ----

NASTY = [
    ({}, "validation_error"),
    ({"prompt": None}, "validation_error"),
    ({"prompt": ""}, "validation_error"),
    ({"prompt": "   \n\t"}, "validation_error"),
    ({"prompt": 123}, "validation_error"),
    ({"prompt": ["hi"]}, "validation_error"),
    ({"prompt": "hi", "mode": "turbo"}, "validation_error"),
    ({"prompt": "hi", "stream": "yes"}, "validation_error"),
    ({"prompt": "hi", "stream": 1}, "validation_error"),
    ({"prompt": "hi", "temperature": 3}, "validation_error"),
    ({"prompt": "hi", "temperature": "hot"}, "validation_error"),
    ({"prompt": "hi", "max_iterations": 0}, "validation_error"),
    ({"prompt": "hi", "max_iterations": 2.5}, "validation_error"),
    ({"prompt": "hi", "format": "xml"}, "validation_error"),
    ({"prompt": "hi", "persona": "pirate"}, "validation_error"),
    ({"prompt": "hi", "persona": {"system_prompt": ""}}, "validation_error"),
    ({"prompt": "hi", "model_overrides": {"think": "gpt-4o"}}, "validation_error"),
    ({"prompt": "hi", "model_overrides": {"warp": "theo-1-flash"}}, "validation_error"),
    ({"prompt": "hi", "tools": [{"name": "bad name!", "description": "x"}]}, "validation_error"),
    ({"prompt": "hi", "tools": [{"name": "ok"}]}, "validation_error"),
    ({"prompt": "hi", "skills": ["Not A Slug"]}, "validation_error"),
    ({"prompt": "hi", "attachments": [{"type": "image_base64", "data": "AAAA"}]}, "validation_error"),
    ({"prompt": "hi", "attachments": [{"type": "image_base64", "data": "AA", "mime_type": "image/bmp"}]},
     "validation_error"),
    ({"prompt": "hi", "metadata": "not an object"}, "validation_error"),
    ({"prompt": "hi", "conversation": {"messages": [{"role": "system", "content": "x"}]}}, "validation_error"),
    ({"prompt": "x" * 100_001}, "validation_error"),
]


@pytest.mark.parametrize("body,code", NASTY, ids=[str(i) for i in range(len(NASTY))])
def test_bad_bodies_get_theos_400_and_change_nothing(client, body, code):
    key = theo_key()
    before = held(client, key)
    for stream in (False, True):
        theo_error(client.post("/api/v1/completions", headers=bearer(key),
                               json={**body, "stream": stream} if "stream" not in body else body), 400, code)
    assert held(client, key) == before


@pytest.mark.parametrize("raw", [b'{"prompt": "hi", "temperature": NaN}', b'{"prompt": "hi", "temperature": Infinity}',
                                 b'{"prompt": "hi", "temperature": 1e999}', b'{"prompt": "\\ud800"}',
                                 b'{"prompt": "hi", "max_iterations": 99999999999999999999999}', b'{"prompt": "hi"',
                                 b'["prompt"]', b'"hi"', b'\xff\xfe', b'{"prompt": "hi", "metadata": ' + b'[' * 80
                                 + b']' * 80 + b'}'])
def test_hostile_json_is_400_validation_error_and_changes_nothing(client, raw):
    key = theo_key()
    before = held(client, key)
    response = client.post("/api/v1/completions", headers={**bearer(key), "Content-Type": "application/json"},
                           content=raw)
    theo_error(response, 400, "validation_error")
    assert held(client, key) == before


def test_a_400_says_what_to_change(client):
    """The message names the field, its allowed values, an unknown field and where JSON broke."""
    def message(**kwargs):
        response = client.post("/api/v1/completions", headers={**bearer(theo_key()), "Content-Type": "application/json"},
                               **kwargs)
        return theo_error(response, 400, "validation_error")["message"]

    assert message(json={"prompt": ""}) == "prompt: must be a non-empty string."
    turbo = message(json={"prompt": "hi", "mode": "turbo"})
    assert "mode: Input should be 'auto', 'fast', 'think'" in turbo and "'vision'" in turbo
    assert "promt: Unknown field" in message(json={"promt": "hi"})
    assert "line 3 column 1" in message(content=b'{\n "prompt": "hi",\n}')


def test_an_oversized_body_is_413_and_changes_nothing(client):
    key = theo_key()
    before = held(client, key)
    response = client.post("/api/v1/completions", headers=bearer(key),
                           json={"prompt": "hi", "metadata": {"blob": "x" * (1024 * 1024)}})
    theo_error(response, 413, "payload_too_large")
    assert held(client, key) == before


# ---- fixtures and faults ----

def _script(client, key, *completions, **document) -> None:  # noqa: ANN001
    response = client.post("/_emu/fixtures", json={"key": key, "completions": list(completions), **document})
    assert response.status_code == 201, response.text


def test_fixtures_script_completions_by_prompt_mode_and_turn(client):
    key = theo_key()
    _script(client, key,
            {"match": {"prompt": {"regex": "^refund", "ignoreCase": True}, "mode": "fast"},
             "content": "Refunds take 5 days.", "chunks": ["Refunds", " take 5 days."],
             "followUps": [{"label": "Track it", "prompt": "Track my refund"}],
             "usage": {"promptTokens": 11, "completionTokens": 7}, "cost": 1.5},
            {"match": {"prompt": "pack", "turn": 2}, "content": "Pack light.", "resolvedMode": "think"},
            {"match": {"prompt": "image please"}, "content": "Here.", "artifacts": [
                {"type": "image", "title": "cat", "imageUrl": "https://example.com/cat.png"}]})
    refund = complete(client, key, "Refund status?", mode="fast")
    assert refund["content"] == "Refunds take 5 days." and refund["follow_ups"][0]["label"] == "Track it"
    assert refund["usage"] == {"cost_cents": 1.5, "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    frames = _stream(client, key, prompt="refund?", mode="fast")
    assert [f["data"]["token"] for f in frames if f["event"] == "token"] == ["Refunds", " take 5 days."]
    assert complete(client, key, "refund?", mode="think")["content"] != "Refunds take 5 days."  # mode must match
    first = complete(client, key, "what to pack")
    assert first["content"] != "Pack light."  # turn 1
    second = complete(client, key, "what to pack", conversation_id=first["conversation_id"])
    assert second["content"] == "Pack light." and second["resolved_mode"] == "think"
    assert second["model"]["id"] == "theo-1-reason"
    image = complete(client, key, "image please")
    assert image["artifacts"][0]["imageUrl"] == "https://example.com/cat.png"
    assert image["artifacts"][0]["id"].startswith("art_")
    # Another key does not see this key's scripts.
    assert complete(client, theo_key(), "Refund status?", mode="fast")["content"] != "Refunds take 5 days."


def test_a_scripted_error_is_json_before_a_stream_and_an_error_event_after_its_tokens(client):
    key = theo_key()
    _script(client, key,
            {"match": {"prompt": "forbidden topic"}, "error": "guardrail_violation"},
            {"match": {"prompt": "flaky"}, "content": "one two three four",
             "chunks": ["one", " two", " three", " four"],
             "error": {"code": "server_error", "message": "Engine crashed.", "afterTokens": 2}})
    for stream in (False, True):
        error = theo_error(client.post("/api/v1/completions", headers=bearer(key),
                                       json={"prompt": "a forbidden topic", "stream": stream}), 422,
                           "guardrail_violation")
        assert "scripted" in error["message"]
    theo_error(client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "flaky"}), 500, "server_error")
    frames = _stream(client, key, prompt="flaky")
    assert [f["event"] for f in frames] == ["thinking", "meta", "tool", "token", "token", "error"]
    assert frames[-1]["data"]["error"]["code"] == "server_error"
    assert frames[-1]["data"]["error"]["request_id"] == frames[1]["data"]["request_id"]
    audit = client.get("/api/v1/audit", headers=bearer(key)).json()["events"]
    assert [(e["action"], e["status"]) for e in audit][:4] == [
        ("completion.created", 500), ("completion.failed", 500), ("completion.failed", 422),
        ("completion.failed", 422)]


def test_injected_faults_answer_in_theos_envelope_and_a_stream_can_be_cut(client):
    key = theo_key()
    before = held(client, key)
    for fault, status in (("provider_error", 502), ("timeout", 504), ("internal_error", 500)):
        response = client.post("/api/v1/completions", headers={**bearer(key), "X-Theazo-Emu-Fault": fault},
                               json={"prompt": "hi"})
        theo_error(response, status, "server_error")
    limited = client.post("/api/v1/completions", headers={**bearer(key), "X-Theazo-Emu-Fault": "rate_limited=7"},
                          json={"prompt": "hi"})
    theo_error(limited, 429, "rate_limit_exceeded")
    assert limited.headers["retry-after"] == "7"
    assert held(client, key) == before
    cut = client.post("/api/v1/completions", headers={**bearer(key), "X-Theazo-Emu-Fault": "stream_cut=4"},
                      json={"prompt": "hi", "stream": True})
    assert [f["event"] for f in sse(cut.text)] == ["thinking", "meta", "tool", "token"]
    rule = client.post("/_emu/faults", json={"fault": "provider_error", "times": 1,
                                             "match": {"path": "/api/v1/completions", "key": key}})
    assert rule.status_code == 201
    theo_error(client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "hi"}), 502, "server_error")
    assert client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "hi"}).status_code == 200
