"""Session chat over HTTP (sdk-compat §3 "Chat"): conversations and their lifecycle, messages
and replies from the mock engine (with memory, fixtures, tools), the reply stream in the SDK's
chat event shape, history, context windows, threads, handoffs, search, limits and refusals.
The real-socket stream tests are in test_chat_server.py.
"""

from __future__ import annotations

import pytest
from conftest import START, advance, assert_error, make_session
from sse_client import events
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

CONV_ID = "conv_01JT4J97000000012Y7ZM38QJT"
MSG_ID = "msg_01JT4J97000000012Y7ZM38QJT"


def _conversation(client, auth, session_id: str | None = None, **body) -> dict:
    session_id = session_id or make_session(client, auth)["id"]
    response = client.post(f"/v1/sessions/{session_id}/chat", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _send(client, auth, conversation_id: str, content: str, **body) -> dict:
    response = client.post(f"/v1/chat/{conversation_id}/messages", json={"content": content, **body}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _messages(client, auth, conversation_id: str, query: str = "") -> list[dict]:
    return client.get(f"/v1/chat/{conversation_id}/messages{query}", headers=auth).json()["data"]


# ---- conversations ----

def test_create_answers_the_sdks_conversation(client, auth):
    session = make_session(client, auth)
    conversation = _conversation(client, auth, session["id"], agent="assistant", title="Product Questions",
                                 systemPrompt="Be brief.", metadata={"source": "web"},
                                 context={"strategy": "sliding_window", "maxTokens": 4000})
    assert conversation["id"].startswith("conv_") and conversation["status"] == "active"
    assert (conversation["agentId"], conversation["agent"], conversation["title"]) == (None, "assistant",
                                                                                      "Product Questions")
    assert (conversation["messageCount"], conversation["totalCost"], conversation["lastMessageAt"]) == (
        0, {"amount": 0, "currency": "usd"}, None)
    assert conversation["context"] == {"strategy": "sliding_window", "maxTokens": 4000}
    assert (conversation["sessionId"], conversation["userId"], conversation["metadata"]) == (
        session["id"], "user_1", {"source": "web"})
    assert client.get(f"/v1/chat/{conversation['id']}", headers=auth).json() == conversation


def test_a_definition_agent_gives_the_agent_id_and_its_instructions(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "helper", "instructions": "Help.",
                                                            "tools": ["web_search"]}, headers=auth).json()
    for ref in (definition["id"], "helper"):
        assert _conversation(client, auth, agent=ref)["agentId"] == definition["id"]
    assert _conversation(client, auth)["agent"] == "assistant"  # the default


def test_update_list_archive_unarchive_delete(client, auth):
    session = make_session(client, auth)
    first, second = _conversation(client, auth, session["id"]), _conversation(client, auth, session["id"])
    updated = client.put(f"/v1/chat/{first['id']}", json={"title": "Geography", "metadata": {"k": "v"}},
                         headers=auth).json()
    assert (updated["title"], updated["metadata"]) == ("Geography", {"k": "v"})
    path = f"/v1/sessions/{session['id']}/chat"
    assert [c["id"] for c in client.get(path, headers=auth).json()["data"]] == [second["id"], first["id"]]
    assert client.post(f"/v1/chat/{first['id']}/archive", headers=auth).json()["status"] == "archived"
    assert [c["id"] for c in client.get(f"{path}?status=active", headers=auth).json()["data"]] == [second["id"]]
    assert [c["id"] for c in client.get(f"{path}?status=archived", headers=auth).json()["data"]] == [first["id"]]
    assert_error(client.post(f"/v1/chat/{first['id']}/archive", headers=auth), 409, "conflict")
    assert_error(client.post(f"/v1/chat/{first['id']}/messages", json={"content": "hi"}, headers=auth), 409, "conflict")
    assert client.post(f"/v1/chat/{first['id']}/unarchive", headers=auth).json()["status"] == "active"
    assert_error(client.post(f"/v1/chat/{first['id']}/unarchive", headers=auth), 409, "conflict")
    page = client.get(f"{path}?limit=1", headers=auth).json()
    assert page["hasMore"] and len(client.get(f"{path}?limit=1&cursor={page['cursor']}", headers=auth).json()["data"]) == 1
    _send(client, auth, first["id"], "hello")
    assert client.delete(f"/v1/chat/{first['id']}", headers=auth).json() == {"ok": True, "id": first["id"],
                                                                             "deleted": True}
    assert_error(client.get(f"/v1/chat/{first['id']}", headers=auth), 404, "not_found")
    assert client.post("/v1/chat/search", json={"query": "hello"}, headers=auth).json()["data"] == []
    assert_error(client.get(f"{path}?status=gone", headers=auth), 422, "unprocessable_entity")


# ---- messages ----

def test_send_answers_the_reply_and_stores_both_messages(client, auth):
    conversation = _conversation(client, auth)
    reply = _send(client, auth, conversation["id"], "What is the capital of France?", attachments=["file_1"])
    assert reply["role"] == "assistant" and "capital of France" in reply["content"]
    assert reply["cost"]["amount"] >= 1 and reply["tokenCount"] > 0 and reply["toolCalls"] is None
    history = _messages(client, auth, conversation["id"])
    assert [(m["role"], m["attachments"]) for m in history] == [("user", ["file_1"]), ("assistant", [])]
    assert history[0]["cost"]["amount"] == 0 and history[1] == reply
    after = client.get(f"/v1/chat/{conversation['id']}", headers=auth).json()
    assert (after["messageCount"], after["totalCost"], after["lastMessageAt"]) == (2, reply["cost"], reply["createdAt"])
    assert client.get("/v1/usage/summary", headers=auth).json()["total"] == reply["cost"]


def test_the_default_reply_remembers_the_conversation(client, auth):
    conversation = _conversation(client, auth)
    for question in ("What is the capital of France?", "What about Germany?"):
        _send(client, auth, conversation["id"], question)
    reply = _send(client, auth, conversation["id"], "What was the first country I asked about?")
    assert "France" in reply["content"] and "Germany" in reply["content"]


def test_a_sliding_window_forgets_what_falls_out_of_it(client, auth):
    conversation = _conversation(client, auth, context={"strategy": "sliding_window", "maxTokens": 40})
    _send(client, auth, conversation["id"], "What is the capital of France?")
    _send(client, auth, conversation["id"], "What about Germany and its neighbours to the east?")
    reply = _send(client, auth, conversation["id"], "What was the first country I asked about?")
    assert "France" not in reply["content"]
    state = client.get(f"/v1/chat/{conversation['id']}/context", headers=auth).json()
    assert state["strategy"] == "sliding_window" and state["totalMessages"] == 6
    assert state["contextMessages"] < 6 and 0 < state["contextTokens"] and state["summary"] is None


def test_context_state_defaults_to_full_and_summarize_summarises(client, auth):
    full = _conversation(client, auth)
    assert client.get(f"/v1/chat/{full['id']}/context", headers=auth).json() == {
        "totalMessages": 0, "contextMessages": 0, "contextTokens": 0, "summary": None, "strategy": "full",
        "maxTokens": None, "summarizeAfter": None}
    summarized = _conversation(client, auth, context={"strategy": "summarize", "summarizeAfter": 2},
                               systemPrompt="Be brief.")
    _send(client, auth, summarized["id"], "What is the capital of France?")
    _send(client, auth, summarized["id"], "And Spain?")
    state = client.get(f"/v1/chat/{summarized['id']}/context", headers=auth).json()
    assert (state["totalMessages"], state["contextMessages"]) == (4, 2)
    assert state["summary"].startswith("Summary of 2 earlier messages") and "France" in state["summary"]


def test_injected_context_is_a_system_message(client, auth):
    conversation = _conversation(client, auth)
    response = client.post(f"/v1/chat/{conversation['id']}/context",
                           json={"content": "The user is on the Pro plan.", "role": "system"}, headers=auth)
    assert response.status_code == 201 and response.json()["role"] == "system"
    assert [m["role"] for m in _messages(client, auth, conversation["id"])] == ["system"]
    assert client.get(f"/v1/chat/{conversation['id']}/context", headers=auth).json()["contextMessages"] == 1
    for body in ({"content": "x", "role": "user"}, {"content": ""}, {}):
        assert_error(client.post(f"/v1/chat/{conversation['id']}/context", json=body, headers=auth), 422,
                     "unprocessable_entity")


def test_messages_page_in_either_order(client, auth):
    conversation = _conversation(client, auth)
    for n in range(3):
        _send(client, auth, conversation["id"], f"message {n}")
    ids = [m["id"] for m in _messages(client, auth, conversation["id"])]
    assert ids == sorted(ids) and len(ids) == 6
    assert [m["id"] for m in _messages(client, auth, conversation["id"], "?order=desc")] == ids[::-1]
    page = client.get(f"/v1/chat/{conversation['id']}/messages?limit=4", headers=auth).json()
    rest = client.get(f"/v1/chat/{conversation['id']}/messages?limit=4&cursor={page['cursor']}", headers=auth).json()
    assert [m["id"] for m in page["data"] + rest["data"]] == ids and page["hasMore"] and not rest["hasMore"]
    back = client.get(f"/v1/chat/{conversation['id']}/messages?order=desc&limit=4", headers=auth).json()
    tail = client.get(f"/v1/chat/{conversation['id']}/messages?order=desc&limit=4&cursor={back['cursor']}",
                      headers=auth).json()
    assert [m["id"] for m in back["data"] + tail["data"]] == ids[::-1]
    for query in ("?order=sideways", "?limit=0", "?cursor=bogus"):
        assert_error(client.get(f"/v1/chat/{conversation['id']}/messages{query}", headers=auth), 422,
                     "unprocessable_entity")


def test_a_fixture_scripts_the_reply_with_its_tool_calls(client, auth):
    document = {"chat": [{"match": {"message": "weather", "agent": "forecaster"}, "reply": "Sunny all week.",
                          "toolCalls": [{"name": "web_search", "input": {"q": "weather"}, "output": "sun"}],
                          "usage": {"inputTokens": 10, "outputTokens": 4}, "cost": 3}]}
    assert client.post("/_emu/fixtures", json=document).status_code == 201
    forecaster = _conversation(client, auth, agent="forecaster")
    reply = _send(client, auth, forecaster["id"], "What's the weather?")
    assert (reply["content"], reply["cost"]["amount"], reply["tokenCount"]) == ("Sunny all week.", 3, 4)
    assert reply["toolCalls"] == [{"name": "web_search", "input": {"q": "weather"}, "output": "sun"}]
    other = _conversation(client, auth, agent="assistant")
    assert _send(client, auth, other["id"], "What's the weather?")["content"] != "Sunny all week."


def test_an_agent_with_tools_may_call_them_in_a_reply(client, auth):
    conversation = _conversation(client, auth, agent={"tools": ["web_search"]})
    replies = [_send(client, auth, conversation["id"], f"question {n}") for n in range(6)]
    called = [r for r in replies if r["toolCalls"]]
    assert called and all(c["name"] == "web_search" for r in called for c in r["toolCalls"])


# ---- the reply stream ----

def _stream(client, auth, conversation_id: str, content: str) -> tuple[str, list[dict]]:
    with client.stream("POST", f"/v1/chat/{conversation_id}/messages/stream", json={"content": content},
                       headers={**auth, "Accept": "text/event-stream"}) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        advance(client, 60)
        lines = list(stream.iter_lines())
    return "\n".join(lines), events(lines)


def test_the_stream_sends_text_chunks_then_done_and_closes(client, auth):
    conversation = _conversation(client, auth)
    raw, frames = _stream(client, auth, conversation["id"], "Write a haiku about AI agents")
    kinds = [f["data"]["type"] for f in frames]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"text"} and len(kinds) > 2
    assert [f["event"] for f in frames] == kinds
    text = "".join(f["data"]["text"] for f in frames[:-1])
    done = frames[-1]["data"]
    stored = _messages(client, auth, conversation["id"])
    assert text == stored[-1]["content"] and done["messageId"] == stored[-1]["id"]
    assert done["cost"] == stored[-1]["cost"] and done["tokenCount"] == stored[-1]["tokenCount"]
    assert "\ndata: {" in raw and all(line.startswith(("data: ", "event: ", "id: ", ": ")) or not line
                                       for line in raw.split("\n"))


def test_stream_tool_events_use_name(client, auth):
    client.post("/_emu/fixtures", json={"chat": [{"match": {"message": "look it up"}, "reply": "Found it.",
                                                  "toolCalls": [{"name": "web_search", "input": {"q": "x"},
                                                                 "output": "result"}]}]})
    conversation = _conversation(client, auth)
    _, frames = _stream(client, auth, conversation["id"], "look it up")
    assert [f["data"]["type"] for f in frames] == ["tool_call", "tool_result", "text", "done"]
    assert frames[0]["data"] == {"type": "tool_call", "name": "web_search", "input": {"q": "x"}}
    assert frames[1]["data"] == {"type": "tool_result", "name": "web_search", "output": "result"}


def test_a_refused_stream_is_a_json_error():
    app = create_app(Settings(clock=START, seed=0))
    auth = {"Authorization": "Bearer th_test_chat_stream"}
    with TestClient(app) as client:
        conversation = _conversation(client, auth)
        client.post(f"/v1/chat/{conversation['id']}/archive", headers=auth)
        response = client.post(f"/v1/chat/{conversation['id']}/messages/stream", json={"content": "hi"}, headers=auth)
        assert_error(response, 409, "conflict")
        assert_error(client.post(f"/v1/chat/{conversation['id']}/messages/stream", json={}, headers=auth), 422,
                     "unprocessable_entity")


# ---- threads, handoffs, search ----

def test_threads_branch_from_a_message_and_take_messages(client, auth):
    conversation = _conversation(client, auth)
    reply = _send(client, auth, conversation["id"], "Name three languages")
    response = client.post(f"/v1/chat/{conversation['id']}/threads",
                           json={"parentMessageId": reply["id"], "title": "Follow-up"}, headers=auth)
    assert response.status_code == 201
    thread = response.json()
    assert (thread["parentMessageId"], thread["title"], thread["messageCount"]) == (reply["id"], "Follow-up", 0)
    answer = _send(client, auth, conversation["id"], "Which is oldest?", threadId=thread["id"])
    assert answer["threadId"] == thread["id"]
    (listed,) = client.get(f"/v1/chat/{conversation['id']}/threads", headers=auth).json()["data"]
    assert listed["messageCount"] == 2
    assert len(_messages(client, auth, conversation["id"], f"?threadId={thread['id']}")) == 2
    assert_error(client.post(f"/v1/chat/{conversation['id']}/threads", json={"parentMessageId": MSG_ID},
                             headers=auth), 404, "not_found")
    assert_error(client.post(f"/v1/chat/{conversation['id']}/messages",
                             json={"content": "x", "threadId": "thr_01JT4J97000000012Y7ZM38QJT"}, headers=auth),
                 404, "not_found")


def test_a_human_handoff_holds_the_conversation_until_resolved(client, auth):
    conversation = _conversation(client, auth)
    response = client.post(f"/v1/chat/{conversation['id']}/handoff",
                           json={"reason": "Wants a human", "to": "human"}, headers=auth)
    assert response.status_code == 201
    handoff = response.json()
    assert handoff["id"].startswith("hnd_") and (handoff["status"], handoff["toTarget"]) == ("pending", "human")
    assert handoff["resolvedAt"] is None
    held = client.get(f"/v1/chat/{conversation['id']}", headers=auth).json()
    assert held["status"] == "handed_off" and held["handoff"]["id"] == handoff["id"]
    assert_error(client.post(f"/v1/chat/{conversation['id']}/messages", json={"content": "hi"}, headers=auth),
                 409, "conflict")
    assert_error(client.post(f"/v1/chat/{conversation['id']}/handoff", json={"reason": "r", "to": "human"},
                             headers=auth), 409, "conflict")
    resolved = client.post(f"/v1/chat/{conversation['id']}/handoff/resolve", headers=auth).json()
    assert resolved["status"] == "resolved" and resolved["resolvedAt"]
    assert client.get(f"/v1/chat/{conversation['id']}", headers=auth).json()["status"] == "active"
    assert_error(client.post(f"/v1/chat/{conversation['id']}/handoff/resolve", headers=auth), 409, "conflict")


def test_an_agent_handoff_switches_the_answering_agent(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "billing", "instructions": "Billing."},
                             headers=auth).json()
    client.post("/_emu/fixtures", json={"chat": [{"match": {"instructions": "Billing."}, "reply": "Billing here."}]})
    conversation = _conversation(client, auth)
    handoff = client.post(f"/v1/chat/{conversation['id']}/handoff",
                          json={"reason": "billing question", "to": f"agent:{definition['id']}"}, headers=auth).json()
    assert handoff["status"] == "accepted"
    after = client.get(f"/v1/chat/{conversation['id']}", headers=auth).json()
    assert (after["status"], after["agentId"]) == ("active", definition["id"])
    assert _send(client, auth, conversation["id"], "my invoice")["content"] == "Billing here."


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"reason": "r", "to": "robot"}, 422, "unprocessable_entity"), ({"to": "human"}, 422, "unprocessable_entity"),
    ({"reason": "r", "to": "agent:adef_01JT4J97000000012Y7ZM38QJT"}, 422, "unprocessable_entity"),
])
def test_bad_handoffs_change_nothing(client, auth, body, status, code):
    conversation = _conversation(client, auth)
    assert_error(client.post(f"/v1/chat/{conversation['id']}/handoff", json=body, headers=auth), status, code)
    assert client.get(f"/v1/chat/{conversation['id']}", headers=auth).json() == conversation


def test_search_ranks_messages_by_their_words_and_narrows(client, auth):
    session = make_session(client, auth)
    first, second = _conversation(client, auth, session["id"]), _conversation(client, auth, session["id"])
    _send(client, auth, first["id"], "France France France")
    _send(client, auth, second["id"], "Is France big?")
    results = client.post("/v1/chat/search", json={"query": "France"}, headers=auth).json()["data"]
    assert results[0]["content"] == "France France France"
    assert all("France" in r["content"] for r in results) and results[0]["score"] > results[-1]["score"] > 0
    assert set(results[0]) >= {"conversationId", "messageId", "content", "score", "createdAt"}
    narrowed = client.post("/v1/chat/search", json={"query": "france", "conversationId": second["id"], "limit": 1},
                           headers=auth).json()["data"]
    assert len(narrowed) == 1 and narrowed[0]["conversationId"] == second["id"]
    assert client.post("/v1/chat/search", json={"query": "France", "userId": "nobody"}, headers=auth).json() == {
        "data": []}
    for body in ({}, {"query": " "}, {"query": "x", "limit": 0}):
        assert_error(client.post("/v1/chat/search", json=body, headers=auth), 422, "unprocessable_entity")


# ---- limits, sessions, refusals, tenants ----

def test_a_paused_session_and_a_reached_cost_limit_refuse_messages(client, auth):
    session = make_session(client, auth, limits={"maxCost": {"amount": 1, "currency": "usd", "period": "day"}})
    conversation = _conversation(client, auth, session["id"])
    _send(client, auth, conversation["id"], "hi")
    assert_error(client.post(f"/v1/chat/{conversation['id']}/messages", json={"content": "again"}, headers=auth),
                 402, "session_limit_exceeded")
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    assert_error(client.post(f"/v1/chat/{conversation['id']}/messages", json={"content": "again"}, headers=auth),
                 409, "conflict")
    assert_error(client.post(f"/v1/sessions/{session['id']}/chat", json={}, headers=auth), 409, "conflict")
    assert len(_messages(client, auth, conversation["id"])) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"agent": ""}, "agent"), ({"agent": 5}, "agent"), ({"title": ["t"]}, "title"), ({"metadata": "m"}, "metadata"),
    ({"context": {"strategy": "everything"}}, "context.strategy"), ({"context": {"maxTokens": 0}}, "context.maxTokens"),
    ({"agent": "adef_01JT4J97000000012Y7ZM38QJT"}, "agent"), ({"systemPrompt": 1}, "systemPrompt"),
])
def test_bad_conversation_bodies_are_422_and_store_nothing(client, auth, body, field):
    session = make_session(client, auth)
    error = assert_error(client.post(f"/v1/sessions/{session['id']}/chat", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get(f"/v1/sessions/{session['id']}/chat", headers=auth).json()["data"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({}, "content"), ({"content": ""}, "content"), ({"content": "   "}, "content"), ({"content": 5}, "content"),
    ({"content": "x", "attachments": "a"}, "attachments"), ({"content": "x", "attachments": [""]}, "attachments"),
])
def test_bad_message_bodies_are_422_and_store_nothing(client, auth, body, field):
    conversation = _conversation(client, auth)
    for suffix in ("", "/stream"):
        error = assert_error(client.post(f"/v1/chat/{conversation['id']}/messages{suffix}", json=body, headers=auth),
                             422, "unprocessable_entity")["error"]
        assert field in {d["field"] for d in error["details"]["fields"]}
    assert _messages(client, auth, conversation["id"]) == []
    assert client.put(f"/v1/chat/{conversation['id']}", json={"title": 5}, headers=auth).status_code == 422


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("GET", "", None), ("PUT", "", {"title": "t"}), ("DELETE", "", None), ("POST", "/archive", None),
    ("POST", "/unarchive", None), ("GET", "/context", None), ("POST", "/context", {"content": "c"}),
    ("GET", "/messages", None), ("POST", "/messages", {"content": "c"}), ("POST", "/messages/stream", {"content": "c"}),
    ("GET", "/threads", None), ("POST", "/threads", {"parentMessageId": MSG_ID}),
    ("POST", "/handoff", {"reason": "r", "to": "human"}), ("POST", "/handoff/resolve", None),
])
def test_unknown_and_other_tenants_conversations_are_404_and_untouched(client, auth, method, suffix, body):
    conversation = _conversation(client, auth)
    other = {"Authorization": "Bearer th_test_chat_other"}
    for ident, headers in ((conversation["id"], other), (CONV_ID, auth)):
        assert_error(client.request(method, f"/v1/chat/{ident}{suffix}", json=body, headers=headers), 404,
                     "not_found")
    assert client.get(f"/v1/chat/{conversation['id']}", headers=auth).json() == conversation
    assert client.post("/v1/chat/search", json={"query": "c"}, headers=other).json() == {"data": []}


def test_another_tenants_session_is_404_for_chat(client, auth):
    session = make_session(client, auth)
    other = {"Authorization": "Bearer th_test_chat_other2"}
    assert_error(client.post(f"/v1/sessions/{session['id']}/chat", json={}, headers=other), 404, "not_found")
    assert_error(client.get(f"/v1/sessions/{session['id']}/chat", headers=other), 404, "not_found")


def test_the_example_fixture_directory_scripts_the_seeded_keys_chat():
    from pathlib import Path

    app = create_app(Settings(clock=START, seed=0, fixtures=Path(__file__).resolve().parent.parent / "fixtures"))
    seeded = {"Authorization": "Bearer th_test_seeded"}
    with TestClient(app) as client:
        conversation = _conversation(client, seeded)
        reply = _send(client, seeded, conversation["id"], "What is the capital of France?")
        assert (reply["content"], reply["cost"]["amount"], reply["tokenCount"]) == (
            "The capital of France is Paris.", 1, 9)
        assert reply["toolCalls"][0]["name"] == "web_search"
        other = {"Authorization": "Bearer th_test_not_seeded"}
        assert _send(client, other, _conversation(client, other)["id"], "capital of France?")["content"] != \
            reply["content"]
