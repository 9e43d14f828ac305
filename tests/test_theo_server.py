"""The Theo surface over real sockets: SSE frames written whole and the connection closed
after the last, the `openai` client end to end, headers on the wire, a concurrent
Idempotency-Key duplicate, determinism across fresh servers, and record/replay."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from click.testing import CliRunner
from conftest import START, serve_process
from theo_support import bearer, sse

from theazo_emu.cli.main import main

pytestmark = pytest.mark.server
KEY = "theo_sk_test_server"


def _raw_stream(url: str, body: dict, key: str = KEY) -> tuple[bytes, list[bytes]]:
    """POST over a raw socket: (the head, the payload of every HTTP chunk, i.e. of every write)."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Authorization: Bearer {key}\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload)
        data = b""
        while chunk := sock.recv(65536):  # returns b"" once the server closes: the stream must end by itself
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    writes = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        writes.append(rest[:size])
        rest = rest[size + 2:]
    assert writes[-1] == b""  # the terminating chunk: the response is complete
    return head, writes[:-1]


def test_every_stream_frame_is_one_write_and_the_server_closes_after_done(server_url):
    for body, last in (({"prompt": "Write a python parser", "mode": "code", "stream": True}, b"event: done\n"),
                       ({"prompt": "hi", "stream": True, "format": "openai"}, b"data: [DONE]\n")):
        head, writes = _raw_stream(server_url, body)
        assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
        frames = [w for w in writes if not w.startswith(b":")]  # comments aside
        assert frames and all(w.endswith(b"\n\n") and w.count(b"\n\n") == 1 for w in frames), frames
        assert frames[-1].startswith(last)
    _, writes = _raw_stream(server_url, {"prompt": "hi", "stream": True})
    assert writes[0] == b"event: thinking\ndata: \n\n"  # the first write


def _openai(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/api/v1", api_key=key, max_retries=0)


def test_the_openai_client_plain_and_streamed_with_usage(server_url):
    with _openai(server_url) as client:
        _plain_and_streamed(client)


def _plain_and_streamed(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="theo-1-auto", messages=[{"role": "system", "content": "You are Kai."},
                                       {"role": "user", "content": "Say hello in three words."}])
    assert raw.headers["theo-version"] == "2026-03-28" and raw.headers["x-request-id"].startswith("req_")
    completion = raw.parse()
    assert completion.object == "chat.completion" and completion.model == "theo-1-flash"
    assert completion.choices[0].message.content.startswith("Kai here.")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.model_extra["theo_metadata"]["resolved_mode"] == "fast"
    chunks = list(client.chat.completions.create(
        model="theo-1-auto", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "You are Kai."}, {"role": "user", "content": "Say hello in three words."}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == completion.usage.total_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert [m.id for m in client.models.list()][:2] == ["theo-1-auto", "theo-1-flash"]


def test_the_openai_client_at_the_docs_base_url_is_theos(server_url):
    """openai-compat.mdx points clients at `<host>/v1`: with a Theo key, Theazo's prefix serves
    Theo's chat completions and models; a Theazo key there keeps Theazo's answer."""
    with openai.OpenAI(base_url=f"{server_url}/v1", api_key=KEY, max_retries=0) as client:
        _plain_and_streamed(client)
        _tools(client)
        with pytest.raises(openai.BadRequestError) as bad:
            client.chat.completions.create(model="theo-1-auto", messages=[])
        assert bad.value.body["code"] == "validation_error"  # Theo's envelope
    theazo = httpx.post(f"{server_url}/v1/chat/completions", headers=bearer("th_test_server"), json={})
    assert theazo.status_code == 405 and "type" not in theazo.json()["error"]
    assert httpx.get(f"{server_url}/v1/models", headers=bearer("th_test_server")).status_code == 404


def test_the_openai_client_round_trips_tools(server_url):
    with _openai(server_url) as client:
        _tools(client)


def _tools(client: openai.OpenAI) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                               "parameters": {"type": "object", "required": ["city"],
                                                              "properties": {"city": {"type": "string"}}}}}]
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model="theo-1-flash", messages=messages, tools=tools, tool_choice="auto")
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "18C, sunny"}]
    second = client.chat.completions.create(model="theo-1-flash", messages=messages, tools=tools)
    assert second.choices[0].message.content.startswith("Using the result of get_weather (18C, sunny)")
    streamed = list(client.chat.completions.create(model="theo-1-flash", messages=messages[:1], tools=tools,
                                                   stream=True))
    calls = [tc for c in streamed if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert [tc.function.name for tc in calls] == ["get_weather"]


def test_the_openai_client_raises_its_own_exception_types(server_url):
    scoped = httpx.post(f"{server_url}/api/v1/keys", headers=bearer(KEY), json={"scopes": ["billing"]}).json()
    with _openai(server_url) as good, _openai(server_url, "sk-not-theo") as bad_key, \
            _openai(server_url, scoped["secret"]) as billing_only:
        _exceptions(server_url, good, bad_key, billing_only)


def _exceptions(server_url: str, good: openai.OpenAI, bad_key: openai.OpenAI, billing_only: openai.OpenAI) -> None:
    user = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.AuthenticationError) as auth:
        bad_key.chat.completions.create(model="theo-1-auto", messages=user)
    assert auth.value.code == "invalid_api_key" and auth.value.request_id.startswith("req_")
    for messages in ([], [{"role": "system", "content": "only a system message"}]):
        with pytest.raises(openai.BadRequestError) as bad:
            good.chat.completions.create(model="theo-1-auto", messages=messages)
        assert bad.value.code in ("validation_error", "empty_prompt") and bad.value.type == "invalid_request_error"
    for stream in (False, True):
        with pytest.raises(openai.NotFoundError):
            good.chat.completions.create(model="theo-1-auto", messages=user, stream=stream,
                                         extra_body={"conversation_id": "conv_missing"})
    with pytest.raises(openai.PermissionDeniedError) as denied:
        billing_only.chat.completions.create(model="theo-1-auto", messages=user)
    assert denied.value.code == "insufficient_scope"
    with pytest.raises(openai.RateLimitError) as limited:
        good.chat.completions.create(model="theo-1-auto", messages=user,
                                     extra_headers={"X-Theazo-Emu-Fault": "rate_limited=1"})
    assert limited.value.code == "rate_limit_exceeded"
    httpx.post(f"{server_url}/_emu/fixtures", json={"key": KEY, "completions": [
        {"match": {"prompt": "crash"}, "content": "a b c d", "error": {"code": "server_error", "afterTokens": 2}}]})
    with pytest.raises(openai.APIError) as mid:  # an error chunk mid-stream
        list(good.chat.completions.create(model="theo-1-auto", messages=[{"role": "user", "content": "crash"}],
                                          stream=True))
    assert mid.value.code == "server_error"


def test_headers_on_the_wire(server_url):
    response = httpx.get(f"{server_url}/api/v1/models", headers={**bearer(KEY), "Theo-Api-Version": "2026-01-01",
                                                                  "Origin": "https://hitheo.ai"})
    assert response.headers["theo-version"] == "2026-03-28"
    assert response.headers["theo-deprecation"] == 'version="2026-01-01"; current="2026-03-28"'
    assert response.headers["access-control-allow-origin"] == "https://hitheo.ai"
    assert httpx.get(f"{server_url}/api/v1/health").headers["access-control-allow-origin"] == "*"


def test_preflight_health_cache_openapi_and_refusals_over_the_wire(server_url):
    preflight = httpx.options(f"{server_url}/api/v1/chat/completions", headers={
        "Origin": "https://api.hitheo.ai", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "https://api.hitheo.ai"
    refused = httpx.post(f"{server_url}/api/v1/completions", json={"prompt": "x"},
                         headers={**bearer(KEY), "Origin": "https://elsewhere.example"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert httpx.post(f"{server_url}/api/v1/completions", json={"prompt": "x"},
                      headers={**bearer(KEY), "Theo-Api-Version": "soon"}).json()["error"]["code"] == "validation_error"
    caches = [httpx.get(f"{server_url}/api/v1/health").headers["x-cache"] for _ in range(2)]
    assert caches[1] == "HIT"
    assert httpx.get(f"{server_url}/api/v1/openapi.json").json()["openapi"] == "3.1.0"
    big = httpx.post(f"{server_url}/api/v1/completions", headers=bearer(KEY),
                     content=b'{"prompt": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"


def test_rate_limit_headers_over_the_wire():
    with serve_process("--clock", START, "--theo-rate-limit", "free") as url:
        response = httpx.get(f"{url}/api/v1/models", headers=bearer(KEY))
        assert response.headers["x-ratelimit-limit-requests"] == "60"
        assert response.headers["x-ratelimit-remaining-requests"] == "59"
        assert response.headers["x-ratelimit-limit-tokens"] == "100000"
        assert response.headers["x-ratelimit-reset-tokens"] == "0s"
    with serve_process("--clock", START) as url:  # unenforced by default, and the headers say so
        for path in ("/api/v1/models", "/v1/models"):
            response = httpx.get(f"{url}{path}", headers=bearer(KEY))
            assert response.headers["x-ratelimit-limit-requests"] == "unlimited"
            assert response.headers["x-ratelimit-remaining-tokens"] == "unlimited"


def test_a_concurrent_duplicate_never_runs_twice(server_url):
    key = "theo_sk_test_concurrent"
    body = {"prompt": "only once"}
    answers: dict[str, httpx.Response] = {}

    def first() -> None:  # held in the emulator for 1.5 s by an injected latency, holding its key's lock
        answers["first"] = httpx.post(f"{server_url}/api/v1/completions", json=body, timeout=10,
                                      headers={**bearer(key), "Idempotency-Key": "once", "X-Theazo-Emu-Fault": "latency=1500ms"})

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.5)
    duplicate = httpx.post(f"{server_url}/api/v1/completions", json=body, headers={**bearer(key), "Idempotency-Key": "once"})
    thread.join()
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    assert answers["first"].status_code == 200
    replay = httpx.post(f"{server_url}/api/v1/completions", json=body, headers={**bearer(key), "Idempotency-Key": "once"})
    assert replay.headers["x-idempotent-replay"] == "true" and replay.content == answers["first"].content
    usage = httpx.get(f"{server_url}/api/v1/usage", headers=bearer(key)).json()
    assert usage["totals"]["requests"] == 1


def theo_scenario(url: str) -> list[tuple[int, str, bytes]]:
    """A Theo scenario: keys, completions in several modes, streams, chat, tools, conversations,
    idempotency, errors, usage and the audit log; (status, request id, body) per answer."""
    out = []
    key, other = bearer("theo_sk_test_scenario"), bearer("theo_sk_test_scenario_other")

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
        response = httpx.request(method, url + path, json=body, headers=headers or key, timeout=10)
        out.append((response.status_code, response.headers["x-request-id"], response.content))
        return response

    made = call("POST", "/api/v1/keys", {"name": "ci", "scopes": ["completions", "memory"]}).json()
    first = call("POST", "/api/v1/completions", {"prompt": "Plan a trip to Lisbon", "metadata": {"t": 1}}).json()
    call("POST", "/api/v1/completions", {"prompt": "What to pack?", "conversation_id": first["conversation_id"],
                                         "stream": True})
    call("POST", "/api/v1/completions", {"prompt": "Write a SQL query", "mode": "code", "skills": ["sql"],
                                         "stream": True})
    call("POST", "/api/v1/completions", {"prompt": "A red circle", "mode": "image", "format": "openai"})
    call("POST", "/api/v1/completions", {"prompt": "hi", "stream": True},
         headers={**key, "Idempotency-Key": "scenario-1"})
    call("POST", "/api/v1/completions", {"prompt": "hi", "stream": True},
         headers={**key, "Idempotency-Key": "scenario-1"})
    call("POST", "/api/v1/chat/completions", {"messages": [{"role": "user", "content": "weather in Oslo"}],
                                              "tools": [{"type": "function", "function": {
                                                  "name": "get_weather", "description": "weather",
                                                  "parameters": {"type": "object", "properties": {
                                                      "city": {"type": "string"}}}}}]})
    call("POST", "/api/v1/chat/completions", {"messages": [{"role": "user", "content": "Stream"}], "stream": True,
                                              "stream_options": {"include_usage": True}})
    call("POST", "/api/v1/completions", {"prompt": "as the new key"}, headers=bearer(made["secret"]))
    call("POST", "/api/v1/completions", {"prompt": ""})
    call("POST", "/api/v1/completions", {"prompt": "x", "conversation_id": "conv_nope"})
    call("GET", f"/api/v1/conversations/{first['conversation_id']}", headers=other)
    call("GET", "/api/v1/conversations?limit=2")
    call("GET", f"/api/v1/conversations/{first['conversation_id']}")
    call("DELETE", f"/api/v1/keys/{made['id']}")
    call("GET", "/api/v1/models", headers=bearer(made["secret"]))
    call("GET", "/api/v1/usage")
    call("GET", "/api/v1/audit?limit=5")
    call("GET", "/api/v1/audit/export")
    return out


def test_a_theo_scenario_gives_the_same_bytes_on_fresh_servers_and_other_seeds_differ():
    with serve_process("--clock", START, "--seed", "5") as one_url:
        one = theo_scenario(one_url)
    with serve_process("--clock", START, "--seed", "5") as two_url:
        two = theo_scenario(two_url)
    assert len(one) == len(two) == 20
    for index, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    with serve_process("--clock", START, "--seed", "6") as three_url:
        three = theo_scenario(three_url)
    assert [s for s, _, _ in three] == [s for s, _, _ in one] and three != one


def test_a_recorded_theo_scenario_keeps_its_frames_and_verifies_green(tmp_path: Path):
    cassette = tmp_path / "theo.jsonl"
    with serve_process("--clock", START, "--record", str(cassette)) as url:
        recorded = theo_scenario(url)
    lines = [json.loads(line) for line in cassette.read_text().splitlines()]
    interactions = [line for line in lines if "request" in line]
    assert len(interactions) == len(recorded)
    streamed = interactions[2]["response"]
    names = [e.get("event") for e in streamed["events"]]
    assert names[:2] == ["thinking", "meta"] and names[-1] == "done"
    tokens = "".join(e["data"]["token"] for e in streamed["events"] if e.get("event") == "token")
    assert tokens == streamed["events"][-1]["data"]["content"]  # token text is kept, not redacted
    chat = interactions[8]["response"]["events"]
    assert chat[-1] == {"data": "[DONE]"} and all("event" not in e for e in chat)
    assert "theo_sk_test_scenario" not in cassette.read_text()
    assert interactions[0]["response"]["body"]["secret"] == "[REDACTED]"
    result = CliRunner().invoke(main, ["replay", str(cassette), "--verify"])
    assert result.exit_code == 0, result.output
    with serve_process("--replay", str(cassette)) as url:
        replayed = httpx.post(f"{url}/api/v1/completions", headers=bearer("theo_sk_test_scenario"),
                              json={"prompt": "Write a SQL query", "mode": "code", "skills": ["sql"], "stream": True})
        assert [f["event"] for f in sse(replayed.text)] == [f["event"] for f in sse(recorded[3][2].decode())]
        assert sse(replayed.text) == sse(recorded[3][2].decode())


@pytest.fixture(scope="module")
def server_url():
    with serve_process("--clock", START) as url:
        yield url
