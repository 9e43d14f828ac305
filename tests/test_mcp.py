"""MCP over HTTP: connections (discovery, filters, update with null vs absent), tools, refresh,
health, per-user credentials (sealed, never answered), server config, runs calling MCP tools."""

from __future__ import annotations

import pytest
from conftest import assert_error, make_agent

OTHER = {"Authorization": "Bearer th_test_another_tenant"}
GITHUB = {"name": "github", "transport": "sse", "url": "https://mcp-github.example.com/sse",
          "credentialsType": "platform", "toolFilter": ["github_search_repos", "github_list_issues", "github_get_file"],
          "requiresApproval": ["github_create_issue"], "headers": {"Authorization": "Bearer ghp_SECRET"}}
SLACK = {"name": "slack", "transport": "streamable-http", "url": "https://mcp-slack.example.com/mcp",
         "credentialsType": "per_user"}


def connect(client, auth, body=None) -> dict:
    response = client.post("/v1/mcp/connections", json=body or GITHUB, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_connect_discovers_the_filtered_tools(client, auth):
    body = connect(client, auth)
    assert body["id"].startswith("mcp_") and body["status"] == "connected"
    assert [t["name"] for t in body["discoveredTools"]] == ["github_search_repos", "github_list_issues",
                                                            "github_get_file"]
    tool = body["discoveredTools"][0]
    assert tool["serverId"] == body["id"] and tool["serverName"] == "github" and tool["inputSchema"]["type"] == "object"
    assert body["toolCount"] == 3 and body["toolFilter"] == GITHUB["toolFilter"]
    assert body["requiresApproval"] == ["github_create_issue"]
    assert body["url"] == GITHUB["url"] and body["command"] is None and body["args"] is None
    assert body["lastHealthCheck"] is None and body["error"] is None and body["hasHeaders"] is True
    assert "headers" not in body and "ghp_SECRET" not in str(body)


def test_an_unknown_server_without_filter_gets_generic_tools_and_a_declared_one_its_own(client, auth):
    generic = connect(client, auth, {"name": "acme", "transport": "stdio", "command": "acme-mcp", "args": ["--x"]})
    assert [t["name"] for t in generic["discoveredTools"]] == ["acme_search", "acme_get", "acme_list"]
    assert generic["args"] == ["--x"] and generic["url"] is None
    declared = connect(client, auth, {"name": "inventory", "transport": "sse", "url": "https://inv.example.com",
                                      "tools": [{"name": "count_stock", "description": "Units in stock."}]})
    assert declared["discoveredTools"] == [{"name": "count_stock", "description": "Units in stock.",
                                            "inputSchema": {"type": "object", "properties": {}},
                                            "serverId": declared["id"], "serverName": "inventory",
                                            "requiresApproval": False}]
    named = connect(client, auth, {"name": "crm", "transport": "sse", "url": "https://crm.example.com",
                                   "toolFilter": ["crm_find"], "requiresApproval": ["crm_delete"]})
    assert [t["name"] for t in named["discoveredTools"]] == ["crm_find"]  # the filter still narrows


def test_list_get_tools_refresh_and_health(client, auth):
    github, slack = connect(client, auth), connect(client, auth, SLACK)
    listed = client.get("/v1/mcp/connections", headers={**auth, "X-SDK-Version": "0.1.0"}).json()
    assert [c["name"] for c in listed["data"]] == ["github", "slack"]  # {data}, as the SDK reads it
    assert client.get(f"/v1/mcp/connections/{github['id']}", headers=auth).json() == github
    tools = client.get(f"/v1/mcp/connections/{github['id']}/tools", headers=auth).json()["data"]
    assert tools == github["discoveredTools"]
    refreshed = client.post(f"/v1/mcp/connections/{github['id']}/refresh", headers=auth).json()["data"]
    assert refreshed == tools
    health = client.get(f"/v1/mcp/connections/{github['id']}/health", headers=auth).json()
    assert health["status"] == "connected" and 20 <= health["latencyMs"] < 120
    assert health["lastPingAt"] == "2025-05-01T00:00:00.000Z"
    assert client.get(f"/v1/mcp/connections/{github['id']}/health", headers=auth).json() == health  # deterministic
    assert client.get(f"/v1/mcp/connections/{github['id']}", headers=auth).json()["lastHealthCheck"] == \
        health["lastPingAt"]
    assert slack["discoveredTools"][0]["name"] == "slack_post_message"


def test_update_tells_a_null_filter_from_an_absent_one(client, auth):
    github = connect(client, auth)
    path = f"/v1/mcp/connections/{github['id']}"
    kept = client.put(path, json={"requiresApproval": []}, headers=auth).json()
    assert kept["toolFilter"] == GITHUB["toolFilter"] and kept["toolCount"] == 3 and kept["requiresApproval"] == []
    opened = client.put(path, json={"toolFilter": None}, headers=auth).json()
    assert opened["toolFilter"] is None and opened["toolCount"] == 5
    assert "github_create_issue" in [t["name"] for t in opened["discoveredTools"]]
    narrowed = client.put(path, json={"toolFilter": ["github_get_file"]}, headers=auth).json()
    assert [t["name"] for t in narrowed["discoveredTools"]] == ["github_get_file"]
    cleared = client.put(path, json={"headers": None}, headers=auth).json()
    assert cleared["hasHeaders"] is False
    assert client.get(path, headers=auth).json()["toolCount"] == 1


def test_a_second_connection_of_the_same_name_is_409(client, auth):
    connect(client, auth)
    assert_error(client.post("/v1/mcp/connections", json=GITHUB, headers=auth), 409, "mcp_name_conflict")
    assert len(client.get("/v1/mcp/connections", headers=auth).json()["data"]) == 1
    assert connect(client, OTHER)["name"] == "github"  # another tenant has its own names


def test_per_user_credentials_are_sealed_and_never_answered(client, auth, emu):
    slack = connect(client, auth, SLACK)
    path = f"/v1/mcp/connections/{slack['id']}/users/user%2F123/credentials"
    response = client.put(path, json={"headers": {"Authorization": "Bearer xoxb-user-123-token"}}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"connectionId": slack["id"], "userId": "user/123", "configured": True,
                               "updatedAt": "2025-05-01T00:00:00.000Z"}
    assert client.get(f"/v1/mcp/connections/{slack['id']}", headers=auth).json()["usersWithCredentials"] == 1
    stored = emu.store.all("SELECT sealed FROM mcp_credentials")
    assert stored and all("xoxb" not in row["sealed"] for row in stored)
    assert "xoxb" not in str(emu.store.all("SELECT * FROM mcp_connections"))
    journal = client.get("/_emu/requests", params={"path": "/v1/mcp"}).json()["data"]
    assert "xoxb" not in str(journal) and "[REDACTED]" in str(journal)
    assert client.delete(path, headers=auth).json()["deleted"] is True
    assert_error(client.delete(path, headers=auth), 404, "not_found")


def test_platform_connections_take_user_credentials_too(client, auth):
    github = connect(client, auth)
    response = client.put(f"/v1/mcp/connections/{github['id']}/users/u1/credentials",
                          json={"headers": {"X-Token": "t"}}, headers=auth)
    assert response.status_code == 200
    assert client.get(f"/v1/mcp/connections/{github['id']}", headers=auth).json()["usersWithCredentials"] == 1


def test_disconnect_forgets_the_connection_and_its_credentials(client, auth, emu):
    slack = connect(client, auth, SLACK)
    client.put(f"/v1/mcp/connections/{slack['id']}/users/u1/credentials", json={"headers": {"X-T": "t"}}, headers=auth)
    assert client.delete(f"/v1/mcp/connections/{slack['id']}", headers=auth).json() == {"id": slack["id"],
                                                                                        "deleted": True}
    assert_error(client.get(f"/v1/mcp/connections/{slack['id']}", headers=auth), 404, "not_found")
    assert emu.store.all("SELECT * FROM mcp_credentials") == []


def test_another_tenants_connections_are_404(client, auth):
    github = connect(client, auth)
    base = f"/v1/mcp/connections/{github['id']}"
    for method, path, body in (("GET", base, None), ("PUT", base, {}), ("DELETE", base, None),
                               ("GET", f"{base}/tools", None), ("POST", f"{base}/refresh", None),
                               ("GET", f"{base}/health", None),
                               ("PUT", f"{base}/users/u1/credentials", {"headers": {"A": "b"}}),
                               ("DELETE", f"{base}/users/u1/credentials", None)):
        assert_error(client.request(method, path, json=body, headers=OTHER), 404, "not_found")
    assert client.get(base, headers=auth).json() == github


def test_server_config_round_trip(client, auth):
    before = client.get("/v1/mcp/server/config", headers=auth).json()
    assert before == {"expose": [], "auth": "api_key", "url": "http://testserver/v1/mcp/server", "updatedAt": None}
    response = client.put("/v1/mcp/server/config", json={"expose": ["web_search", "code_review"], "auth": "api_key"},
                          headers=auth)
    assert response.status_code == 200
    after = client.get("/v1/mcp/server/config", headers=auth).json()
    assert after["expose"] == ["web_search", "code_review"] and after["url"].endswith("/v1/mcp/server")
    client.put("/v1/mcp/server/config", json={"expose": "*"}, headers=auth)
    assert client.get("/v1/mcp/server/config", headers=auth).json()["expose"] == "*"
    assert client.get("/v1/mcp/server/config", headers=OTHER).json()["expose"] == []


def test_runs_may_call_the_connected_servers_tools(client, auth):
    agent = make_agent(client, auth)
    plain = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Find open bugs"}, headers=auth).json()
    assert plain["toolCalls"] == []
    connect(client, auth)
    other = make_agent(client, auth)
    result = client.post(f"/v1/agents/{other['id']}/run", json={"task": "Find open bugs"}, headers=auth).json()
    assert result["toolCalls"] and {c["tool"] for c in result["toolCalls"]} <= set(GITHUB["toolFilter"])


BAD = [
    ({"transport": "sse", "url": "https://x.example"}, "name"),
    ({"name": "x y", "transport": "sse", "url": "https://x.example"}, "name"),
    ({"name": "x", "transport": "carrier-pigeon", "url": "https://x.example"}, "transport"),
    ({"name": "x", "transport": "sse"}, "body"),
    ({"name": "x", "transport": "stdio"}, "body"),
    ({"name": "x", "transport": "sse", "url": "ftp://x"}, "url"),
    ({"name": "x", "transport": "sse", "url": "https://x.example", "headers": {"Bad Name": "v"}}, "headers"),
    ({"name": "x", "transport": "sse", "url": "https://x.example", "headers": {"A": "line\nbreak"}}, "headers"),
    ({"name": "x", "transport": "sse", "url": "https://x.example", "toolFilter": ["ok", "not ok"]}, "toolFilter"),
    ({"name": "x", "transport": "sse", "url": "https://x.example", "credentialsType": "shared"}, "credentialsType"),
    ({"name": "x", "transport": "sse", "url": "https://x.example", "tools": [{"description": "no name"}]},
     "tools.0.name"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_connections_are_422_and_store_nothing(client, auth, body, field):
    error = assert_error(client.post("/v1/mcp/connections", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get("/v1/mcp/connections", headers=auth).json()["data"] == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/mcp/connections/{id}", {"toolFilter": "all"}, "toolFilter"),
    ("/v1/mcp/connections/{id}", {"headers": {"x-a": 5}}, "headers.x-a"),
    ("/v1/mcp/connections/{id}/users/u1/credentials", {"headers": {}}, "headers"),
    ("/v1/mcp/connections/{id}/users/u1/credentials", {}, "headers"),
    ("/v1/mcp/server/config", {"expose": "some"}, "expose"),
    ("/v1/mcp/server/config", {"expose": ["a"], "auth": "oauth"}, "auth"),
])
def test_bad_updates_are_422_and_change_nothing(client, auth, path, body, field):
    slack = connect(client, auth, SLACK)
    before = client.get(f"/v1/mcp/connections/{slack['id']}", headers=auth).json()
    response = client.put(path.format(id=slack["id"]), json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get(f"/v1/mcp/connections/{slack['id']}", headers=auth).json() == before
    assert client.get("/v1/mcp/server/config", headers=auth).json()["expose"] == []
