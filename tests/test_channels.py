"""Channels over HTTP: the keyed CRUD (both body shapes), conversations and test, and the
public message routes, where the channel id is the only credential. The live stream needs
real sockets and is in test_orchestration_server.py.
"""

from __future__ import annotations

import pytest
from conftest import assert_error, make_session

SDK = {"X-SDK-Version": "0.1.0"}
CH_ID = "ch_01JT4J97000000024DT7WQJ49N"  # well-formed, never created
THR_ID = "thr_01JT4J97000000024DT7WQJ49N"


def _create(client, auth, **body) -> dict:
    body = body or {"name": "Support Chat", "instructions": "You are a helpful support agent for Acme Corp."}
    response = client.post("/v1/channels", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _post(client, channel_id: str, **body):
    return client.post(f"/v1/channels/{channel_id}/messages", json=body)


def _say(client, channel_id: str, **body) -> dict:
    response = _post(client, channel_id, **body)
    assert response.status_code == 200, response.text
    return response.json()


def _messages(client, channel_id: str, **query) -> dict:
    response = client.get(f"/v1/channels/{channel_id}/messages", params=query)
    assert response.status_code == 200, response.text
    return response.json()


# ---- keyed routes ----

def test_create_with_the_reference_body(client, auth):
    channel = _create(client, auth)
    assert channel["id"].startswith("ch_")
    assert (channel["name"], channel["type"], channel["enabled"]) == ("Support Chat", "chat_embed", True)
    assert channel["instructions"] == "You are a helpful support agent for Acme Corp."
    assert channel["conversationCount"] == 0
    assert channel["scriptTag"] == (f'<script src="http://testserver/embed.js" data-channel="{channel["id"]}" '
                                    'async></script>')


def test_create_with_the_sdk_slack_body(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "Helper"}, headers=auth).json()
    channel = _create(client, auth, type="slack", agent=definition["id"], workspace="acme",
                      channels=["#support"], botName="Acme Bot")
    assert (channel["type"], channel["agentDefinitionId"], channel["definitionId"]) == (
        "slack", definition["id"], definition["id"])
    assert channel["config"] == {"workspace": "acme", "channels": ["#support"], "botName": "Acme Bot"}
    assert channel["name"] == "slack channel"
    assert "scriptTag" not in channel


def test_create_chat_embed_keeps_the_theme_in_config(client, auth):
    channel = _create(client, auth, type="chat_embed", theme={"primaryColor": "#ff0000", "title": "Help"})
    assert channel["config"] == {"theme": {"primaryColor": "#ff0000", "title": "Help"}}


@pytest.mark.parametrize(("body", "field"), [
    ({"instructions": "no name, no type"}, "name"),
    ({"type": "slack", "workspace": "acme", "channels": ["#a"]}, "botName"),
    ({"type": "email"}, "address"),
    ({"type": "email", "address": "not-an-email"}, "address"),
    ({"type": "phone", "phoneNumber": "call me"}, "phoneNumber"),
    ({"type": "fax", "name": "x"}, "type"),
    ({"name": ""}, "name"),
    ({"name": "x", "enabled": "sometimes"}, "enabled"),
])
def test_bad_create_bodies_are_422_and_store_nothing(client, auth, body, field):
    response = client.post("/v1/channels", json=body, headers=auth)
    assert field in {d["field"] for d in assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"]}
    assert client.get("/v1/channels", headers=auth).json()["data"] == []


def test_an_unknown_definition_is_404(client, auth):
    response = client.post("/v1/channels", json={"name": "x", "definitionId": "adef_nope"}, headers=auth)
    assert_error(response, 404, "not_found")


def test_list_is_an_envelope_for_both_clients(client, auth):
    first, second = _create(client, auth), _create(client, auth)
    for headers in (auth, {**auth, **SDK}):
        listed = client.get("/v1/channels", headers=headers).json()["data"]
        assert [c["id"] for c in listed] == [second["id"], first["id"]]


def test_get_put_and_delete(client, auth):
    channel = _create(client, auth)
    assert client.get(f"/v1/channels/{channel['id']}", headers=auth).json() == channel
    updated = client.put(f"/v1/channels/{channel['id']}", json={"config": {"greeting": "Hi"}, "enabled": False},
                         headers=auth).json()
    assert (updated["config"], updated["enabled"]) == ({"greeting": "Hi"}, False)
    assert client.delete(f"/v1/channels/{channel['id']}", headers=auth).json() == {
        "ok": True, "id": channel["id"], "deleted": True}
    assert_error(client.get(f"/v1/channels/{channel['id']}", headers=auth), 404, "not_found")
    assert_error(_post(client, channel["id"], content="hello?"), 404, "not_found")


def test_another_tenant_gets_404_on_keyed_routes(client, auth):
    channel = _create(client, auth)
    other = {"Authorization": "Bearer th_test_intruder"}
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/conversations"), ("POST", "/test")):
        response = client.request(method, f"/v1/channels/{channel['id']}{suffix}", headers=other,
                                  json={"enabled": False} if method == "PUT" else None)
        assert_error(response, 404, "not_found")
    assert client.get(f"/v1/channels/{channel['id']}", headers=auth).json()["enabled"] is True


def test_the_test_route_reports_enabled_and_disabled(client, auth):
    channel = _create(client, auth)
    assert client.post(f"/v1/channels/{channel['id']}/test", headers=auth).json()["ok"] is True
    client.put(f"/v1/channels/{channel['id']}", json={"enabled": False}, headers=auth)
    result = client.post(f"/v1/channels/{channel['id']}/test", headers=auth).json()
    assert result["ok"] is False and "disabled" in result["message"]


# ---- public messages ----

def test_a_message_starts_a_thread_and_answers_the_agents_reply(client, auth):
    channel = _create(client, auth)
    reply = _say(client, channel["id"], content="How do I reset my password?")
    assert reply["role"] == "assistant" and reply["content"]
    assert reply["threadId"].startswith("thr_") and reply["id"].startswith("msg_")
    assert reply["channelId"] == channel["id"]
    [conversation] = client.get(f"/v1/channels/{channel['id']}/conversations", headers=auth).json()["data"]
    assert (conversation["id"], conversation["userId"]) == (reply["threadId"], "visitor")
    assert conversation["messageCount"] == 2
    agent = client.get(f"/v1/agents/{conversation['agentId']}", headers=auth).json()
    assert agent["instructions"] == "You are a helpful support agent for Acme Corp."


def test_a_thread_continues_with_its_thread_id(client, auth):
    channel = _create(client, auth)
    first = _say(client, channel["id"], content="Hello", visitorId="v_9")
    second = _say(client, channel["id"], text="And again", threadId=first["threadId"])
    assert second["threadId"] == first["threadId"]
    [conversation] = client.get(f"/v1/channels/{channel['id']}/conversations", headers=auth).json()["data"]
    assert (conversation["messageCount"], conversation["userId"]) == (4, "v_9")
    assert client.get(f"/v1/channels/{channel['id']}", headers=auth).json()["conversationCount"] == 1


def test_replies_are_deterministic_and_booked(client, auth):
    channel = _create(client, auth)
    one = _say(client, channel["id"], content="Same question")
    two = _say(client, channel["id"], content="Same question")
    assert one["content"] == two["content"] and one["threadId"] != two["threadId"]
    assert client.get("/v1/usage/summary", headers=auth).json()["totalCost"]["amount"] > 0


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "   \n"}, {"text": ""}, {"threadId": THR_ID}])
def test_an_empty_message_is_422_and_stores_nothing(client, auth, body):
    channel = _create(client, auth)
    error = assert_error(_post(client, channel["id"], **body), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "content"
    assert _messages(client, channel["id"])["data"] == []


def test_a_message_of_the_wrong_type_is_422(client, auth):
    channel = _create(client, auth)
    assert_error(_post(client, channel["id"], content=["hi"]), 422, "unprocessable_entity")


def test_an_unknown_thread_is_404_and_stores_nothing(client, auth):
    channel = _create(client, auth)
    assert THR_ID in assert_error(_post(client, channel["id"], content="hi", threadId=THR_ID),
                                  404, "not_found")["error"]["message"]
    assert _messages(client, channel["id"])["data"] == []


def test_a_thread_of_another_channel_is_404(client, auth):
    first, second = _create(client, auth), _create(client, auth)
    thread = _say(client, first["id"], content="hi")["threadId"]
    assert_error(_post(client, second["id"], content="hi", threadId=thread), 404, "not_found")


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_an_unknown_channel_is_404_without_a_hint(client, method):
    response = client.request(method, f"/v1/channels/{CH_ID}/messages",
                              json={"content": "hi"} if method == "POST" else None)
    assert assert_error(response, 404, "not_found")["error"]["message"] == f"No channel with id '{CH_ID}'."


@pytest.mark.parametrize("path", ["messages", "stream"])
def test_a_disabled_channel_refuses_public_requests_with_403(client, auth, path):
    channel = _create(client, auth)
    client.put(f"/v1/channels/{channel['id']}", json={"enabled": False}, headers=auth)
    assert_error(client.get(f"/v1/channels/{channel['id']}/{path}"), 403, "forbidden")


def test_a_disabled_channel_refuses_posts_with_403_and_stores_nothing(client, auth):
    channel = _create(client, auth, name="Off", enabled=False)
    assert "disabled" in assert_error(_post(client, channel["id"], content="hi"), 403, "forbidden")["error"]["message"]
    client.put(f"/v1/channels/{channel['id']}", json={"enabled": True}, headers=auth)
    assert _messages(client, channel["id"])["data"] == []


def test_messages_are_chronological_and_paged(client, auth):
    channel = _create(client, auth)
    thread = _say(client, channel["id"], content="one")["threadId"]
    _say(client, channel["id"], content="two", threadId=thread)
    _say(client, channel["id"], content="elsewhere")
    everything = _messages(client, channel["id"])["data"]
    assert [m["role"] for m in everything] == ["user", "assistant"] * 3
    assert [m["content"] for m in everything if m["role"] == "user"] == ["one", "two", "elsewhere"]
    page = _messages(client, channel["id"], threadId=thread, limit=3)
    assert [m["content"] for m in page["data"] if m["role"] == "user"] == ["one", "two"] and page["hasMore"]
    rest = _messages(client, channel["id"], threadId=thread, cursor=page["nextCursor"])
    assert [m["id"] for m in page["data"] + rest["data"]] == [m["id"] for m in everything[:4]]
    assert rest["hasMore"] is False


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "many"}, {"cursor": "cur_bogus"}])
def test_bad_message_queries_are_422(client, auth, query):
    channel = _create(client, auth)
    assert_error(client.get(f"/v1/channels/{channel['id']}/messages", params=query), 422, "unprocessable_entity")


def test_a_thread_filter_of_an_unknown_thread_is_404(client, auth):
    channel = _create(client, auth)
    assert_error(client.get(f"/v1/channels/{channel['id']}/messages", params={"threadId": THR_ID}), 404, "not_found")


def test_a_paused_visitor_session_refuses_the_message(client, auth):
    session = make_session(client, auth, userId="v_paused")
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    channel = _create(client, auth)
    assert_error(_post(client, channel["id"], content="hi", visitorId="v_paused"), 409, "conflict")
    assert _messages(client, channel["id"])["data"] == []


# ---- agents by name ----

@pytest.mark.parametrize(("kind", "extra"), [
    ("chat_embed", {}), ("slack", {"workspace": "acme", "channels": ["#help"], "botName": "Bot"}),
    ("email", {"address": "help@acme.test"}), ("phone", {"phoneNumber": "+14155550123"})])
def test_an_agent_name_no_definition_has_is_accepted_and_answers_as_a_default_agent(client, auth, kind, extra):
    channel = _create(client, auth, type=kind, agent="support_agent", **extra)
    assert (channel["agent"], channel["definitionId"], channel["agentDefinitionId"]) == (
        "support_agent", None, "support_agent")
    reply = _say(client, channel["id"], content="My order is late")
    conversation = client.get(f"/v1/channels/{channel['id']}/conversations", headers=auth).json()["data"][0]
    assert conversation["id"] == reply["threadId"]
    agent = client.get(f"/v1/agents/{conversation['agentId']}", headers=auth).json()
    assert agent["definitionId"] is None and "'support_agent' agent" in agent["instructions"]


def test_a_definition_name_resolves_when_a_conversation_starts(client, auth):
    channel = _create(client, auth, type="chat_embed", agent="helper")
    definition = client.post("/v1/agent-definitions", json={"name": "helper", "instructions": "Help."},
                             headers=auth).json()
    reply = _say(client, channel["id"], content="hi")
    conversation = client.get(f"/v1/channels/{channel['id']}/conversations", headers=auth).json()["data"][0]
    assert conversation["id"] == reply["threadId"]
    agent = client.get(f"/v1/agents/{conversation['agentId']}", headers=auth).json()
    assert (agent["definitionId"], agent["instructions"]) == (definition["id"], "Help.")


def test_putting_a_name_replaces_the_definition_id(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "Helper"}, headers=auth).json()
    channel = _create(client, auth, type="chat_embed", agent=definition["id"])
    response = client.put(f"/v1/channels/{channel['id']}", json={"agent": "concierge"}, headers=auth)
    assert response.status_code == 200, response.text
    assert (response.json()["agent"], response.json()["definitionId"]) == ("concierge", None)
