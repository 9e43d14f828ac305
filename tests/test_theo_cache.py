"""Theo's semantic cache (docs/guides/semantic-caching.mdx) and the stream fields the SDK
types that a request asks for: `meta.brand` and `done.structured_output`. In process, and
over real `theazo-emu serve` processes (a cached entry survives a restart on `--db`;
THEAZO_EMU_THEO_CACHE=off)."""

from __future__ import annotations

import httpx
import pytest
from conftest import START, serve_process
from starlette.testclient import TestClient
from theo_support import bearer, complete, sse, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings

TOOL = {"name": "get_weather", "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
BASE = {"prompt": "What is DNS?", "mode": "fast"}


def _post(client, key, **body):  # noqa: ANN001, ANN202
    response = client.post("/api/v1/completions", headers=bearer(key), json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _usage(client, key):  # noqa: ANN001, ANN202
    return client.get("/api/v1/usage?from=1970-01-01", headers=bearer(key)).json()["totals"]


def _advance(client, seconds: float) -> None:  # noqa: ANN001
    assert client.post("/_emu/clock/advance", json={"seconds": seconds}).status_code == 200


def test_an_identical_request_answers_cached_at_zero_cost(client):
    key = theo_key()
    first = _post(client, key, **BASE)
    assert "_cached" not in first and first["usage"]["cost_cents"] > 0 and "cached" not in first["usage"]
    second = _post(client, key, **BASE)
    assert second["_cached"] is True
    assert second["usage"] == {"cost_cents": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                               "cached": True}
    assert second["id"] != first["id"] and second["request_id"] != first["request_id"]
    same = ("content", "mode", "resolved_mode", "model", "tools_used", "artifacts", "follow_ups", "conversation_id")
    assert {k: second[k] for k in same} == {k: first[k] for k in same}
    totals = _usage(client, key)
    assert totals["requests"] == 2 and totals["cache_hits"] == 1
    assert totals["cost_cents"] == first["usage"]["cost_cents"]
    assert totals["total_tokens"] == first["usage"]["total_tokens"]
    # A hit starts no conversation and adds no messages to the first one.
    conversations = client.get("/api/v1/conversations", headers=bearer(key)).json()["conversations"]
    assert [c["id"] for c in conversations] == [first["conversation_id"]]
    assert conversations[0]["messageCount"] == 2


def test_a_hit_charges_no_credits(client):
    key = theo_key()
    assert client.put("/_emu/theo/account", json={"key": key, "credits": 100}).status_code == 200
    _post(client, key, **BASE)
    after_first = client.get("/_emu/theo/account", params={"key": key}).json()["balanceCents"]
    assert after_first < 100
    assert _post(client, key, **BASE)["_cached"] is True
    assert client.get("/_emu/theo/account", params={"key": key}).json()["balanceCents"] == after_first


@pytest.mark.parametrize("first,then", [
    ({}, {"prompt": "What is DNS ?"}), ({}, {"mode": "think"}), ({}, {"skills": ["web-research"]}),
    ({"skills": ["web-research"]}, {"skills": ["code-review"]}), ({}, {"tools": [TOOL]}),
    ({"tools": [TOOL]}, {"tools": [{**TOOL, "description": "Forecast for a city"}]}),
    ({"tools": [TOOL]}, {"tools": [{**TOOL, "input_schema": {"type": "object"}}]}), ({}, {"persona": "none"}),
])
def test_a_request_that_differs_in_any_part_misses(client, first, then):
    key = theo_key()
    _post(client, key, **{**BASE, **first})
    assert "_cached" not in _post(client, key, **{**BASE, **then})
    assert _post(client, key, **{**BASE, **then})["_cached"] is True  # and is cached in turn


def test_skill_slug_order_is_not_part_of_the_key(client):
    key = theo_key()
    _post(client, key, **BASE, skills=["web-research", "code-review"])
    assert _post(client, key, **BASE, skills=["code-review", "web-research"])["_cached"] is True


def test_the_cache_is_per_user_and_per_org_key(client):
    owner, other = theo_key(), theo_key()
    _post(client, owner, **BASE)
    assert "_cached" not in _post(client, other, **BASE)  # another user
    org = client.post("/api/v1/orgs", headers=bearer(owner), json={"name": "Acme"}).json()
    keys = [client.post("/api/v1/keys", headers=bearer(owner), json={"org_id": org["id"]}).json()["secret"]
            for _ in range(2)]
    personal = client.post("/api/v1/keys", headers=bearer(owner), json={"name": "p"}).json()["secret"]
    assert _post(client, personal, **BASE)["_cached"] is True  # a personal key shares its user's cache
    assert "_cached" not in _post(client, keys[0], **BASE)  # an org key has its own
    assert _post(client, keys[0], **BASE)["_cached"] is True
    assert "_cached" not in _post(client, keys[1], **BASE)


@pytest.mark.parametrize("body", [{"conversation": {"messages": [{"role": "user", "content": "hi"}]}},
                                  {"mode": "research"}, {"mode": "image"}, {"mode": "video"},
                                  {"mode": "auto", "prompt": "Draw me a logo"},
                                  {"attachments": [{"type": "image_url", "url": "https://example.com/a.png"}]}])
def test_never_cached(client, body):
    key = theo_key()
    for _ in range(2):
        assert "_cached" not in _post(client, key, **{**BASE, **body})


def test_never_with_a_conversation_id(client):
    key = theo_key()
    conversation = _post(client, key, **BASE)["conversation_id"]
    for _ in range(2):
        answer = _post(client, key, **BASE, conversation_id=conversation)
        assert "_cached" not in answer and answer["usage"]["cost_cents"] > 0


@pytest.mark.parametrize("mode,ttl_s", [("fast", 300), ("auto", 300), ("think", 3600), ("code", 3600)])
def test_entries_expire_after_the_modes_ttl_on_the_virtual_clock(client, mode, ttl_s):
    key = theo_key()
    body = {**BASE, "mode": mode}
    _post(client, key, **body)
    _advance(client, ttl_s - 1)
    assert _post(client, key, **body)["_cached"] is True  # a hit does not extend the entry
    _advance(client, 1)
    fresh = _post(client, key, **body)
    assert "_cached" not in fresh and fresh["usage"]["cost_cents"] > 0
    assert _post(client, key, **body)["_cached"] is True  # stored again


def test_a_cached_answer_streams_the_same_frames(client):
    key = theo_key()
    first = sse(client.post("/api/v1/completions", headers=bearer(key), json={**BASE, "stream": True}).text)
    again = sse(client.post("/api/v1/completions", headers=bearer(key), json={**BASE, "stream": True}).text)
    assert [f.get("event") for f in again] == [f.get("event") for f in first]
    assert [f["data"] for f in again if f["event"] == "token"] == [f["data"] for f in first if f["event"] == "token"]
    done = again[-1]["data"]
    assert done["_cached"] is True and done["usage"]["cached"] is True and done["usage"]["cost_cents"] == 0
    assert done["billing"]["cost_cents"] == 0 and done["content"] == first[-1]["data"]["content"]
    # A JSON request after a streamed one hits the same entry.
    assert _post(client, key, **BASE)["_cached"] is True


def test_format_openai_is_cached_too(client):
    key = theo_key()
    _post(client, key, **BASE)
    body = _post(client, key, **BASE, format="openai")
    assert body["object"] == "chat.completion" and body["_cached"] is True and body["usage"]["total_tokens"] == 0


def test_chat_completions_are_not_cached(client):
    key = theo_key()
    for _ in range(2):
        response = client.post("/api/v1/chat/completions", headers=bearer(key),
                               json={"model": "theo-1-flash", "messages": [{"role": "user", "content": "What is DNS?"}]})
        assert response.status_code == 200 and "_cached" not in response.json()


def test_fixture_scripts_win_over_the_cache(client):
    key = theo_key()
    _post(client, key, **BASE)
    added = client.post("/_emu/fixtures", json={"key": key, "completions": [
        {"match": {"prompt": "What is DNS"}, "content": "Scripted DNS"}]})
    assert added.status_code in (200, 201), added.text
    for _ in range(2):
        answer = _post(client, key, **BASE)
        assert answer["content"] == "Scripted DNS" and "_cached" not in answer


def test_switched_off_every_request_is_answered_and_charged():
    with TestClient(create_app(Settings(clock=START, theo_cache=False))) as client:
        key = theo_key()
        first, second = _post(client, key, **BASE), _post(client, key, **BASE)
        assert "_cached" not in second and second["usage"] == first["usage"]
        assert second["content"] == first["content"]  # deterministic either way
        assert _usage(client, key)["cache_hits"] == 0


def test_entries_are_the_tenants_own_and_go_with_a_reset(client):
    key = theo_key()
    _post(client, key, **BASE)
    assert client.post("/_emu/reset", json={"tenant": key}).json()["scope"] == "tenant"
    assert "_cached" not in _post(client, key, **BASE)


def test_entries_travel_with_an_exported_state(client):
    key = theo_key()
    _post(client, key, **BASE)
    document = client.get("/_emu/state/export", params={"key": key}).json()
    assert client.post("/_emu/reset", json={}).status_code == 200
    assert client.post("/_emu/state/import", json=document).status_code == 200
    assert _post(client, key, **BASE)["_cached"] is True


def test_the_key_is_a_digest_never_the_prompt(app, client):
    key = theo_key()
    _post(client, key, prompt="my secret prompt 12345", mode="fast")
    rows = app.state.emu.store.all("SELECT cache_key, scope, mode FROM theo_cache")
    assert rows and all(len(r["cache_key"]) == 64 and "secret" not in r["cache_key"] for r in rows)


@pytest.mark.server
def test_a_real_server_answers_cached_and_keeps_its_entries_on_db(tmp_path):
    db, auth = str(tmp_path / "emu.db"), bearer("theo_sk_test_cache_server")
    with serve_process("--clock", START, "--db", db) as url:
        first = httpx.post(f"{url}/api/v1/completions", headers=auth, json=BASE, timeout=30).json()
        assert "_cached" not in first and first["usage"]["cost_cents"] > 0
    with serve_process("--clock", START, "--db", db) as url:
        second = httpx.post(f"{url}/api/v1/completions", headers=auth, json=BASE, timeout=30).json()
        assert second["_cached"] is True and second["usage"]["cost_cents"] == 0
        assert second["content"] == first["content"]
    with serve_process("--clock", START, env={"THEAZO_EMU_THEO_CACHE": "off"}) as url:
        answers = [httpx.post(f"{url}/api/v1/completions", headers=auth, json=BASE, timeout=30).json()
                   for _ in range(2)]
        assert all("_cached" not in a for a in answers) and answers[1]["usage"] == first["usage"]


# ---- meta.brand and done.structured_output ----

def _frames(client, key, **body):  # noqa: ANN001, ANN202
    frames = sse(client.post("/api/v1/completions", headers=bearer(key), json={**body, "stream": True}).text)
    return next(f["data"] for f in frames if f["event"] == "meta"), frames[-1]["data"]


def test_meta_brand_only_when_the_request_asks_for_another_voice(client):
    key = theo_key()
    meta, _ = _frames(client, key, prompt="hello")
    assert "brand" not in meta
    meta, _ = _frames(client, key, prompt="hello", persona={"system_prompt": "You are Ava, the Acme assistant."})
    assert meta["brand"] == {"name": "Ava", "persona": "custom", "theo_branding": True}
    meta, _ = _frames(client, key, prompt="hello", persona="none")
    assert meta["brand"] == {"name": None, "persona": "none", "theo_branding": True}
    meta, _ = _frames(client, key, prompt="hello", theo_branding=False)
    assert meta["brand"] == {"name": "Theo", "persona": "theo", "theo_branding": False}


@pytest.mark.parametrize("prompt,output", [
    ("Extract: name: Ada Lovelace, email: ada@example.com; Born on: 1815",
     {"type": "json", "data": {"name": "Ada Lovelace", "email": "ada@example.com", "born_on": "1815"}}),
    ('Extract from {"invoice": 7, "items": [1, 2]} please', {"type": "json", "data": {"invoice": 7, "items": [1, 2]}}),
    ("Pull the total out of this", {"type": "json", "data": {"text": "Pull the total out of this"}}),
])
def test_data_extraction_streams_structured_output(client, prompt, output):
    _, done = _frames(client, theo_key(), prompt=prompt, mode="data_extraction")
    assert done["structured_output"] == output


def test_structured_output_names_a_parse_error_and_only_data_extraction_has_it(client):
    key = theo_key()
    _, done = _frames(client, key, prompt='Extract {"a": 1,', mode="data_extraction")
    assert done["structured_output"]["data"] is None
    assert "line 1 column" in done["structured_output"]["parse_error"]
    _, done = _frames(client, key, prompt='Extract {"a": 1}', mode="fast")
    assert "structured_output" not in done


@pytest.mark.parametrize("prompt,error", [("[" * 50_000, "nested too deeply"), ('{"a": NaN}', "NaN is not JSON"),
                                          ('{"a": -Infinity}', "-Infinity is not JSON"),
                                          ('{"a": 1e999}', "out of range")])
def test_structured_output_refuses_what_json_cannot_carry(client, prompt, error):
    _, done = _frames(client, theo_key(), prompt=prompt, mode="data_extraction")
    assert done["structured_output"]["data"] is None and error in done["structured_output"]["parse_error"]
