"""MCP servers, offline: what a connection's server offers, what it exposes, and what agents call.

Nothing connects to a real server. A connection's catalogue is the `tools` it declared
(an emulator extension), else the built-in catalogue of a well-known server named like
the connection (github, slack, linear, notion, jira, postgres, filesystem, google_drive),
else tools named by its `toolFilter` and `requiresApproval`, else three generic ones
(`<name>_search`, `<name>_get`, `<name>_list`). Its discovered tools are the catalogue
narrowed by `toolFilter` (null: all of it), in catalogue order. Every run of a tenant's
agents may call the discovered tools of its connections (`tools_for_runs`), as the real
service lets agents use connected servers. Health is a mock ping whose latency is a pure
function of seed, connection and instant.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "mcp_connections"


def _tool(name: str, description: str, **properties: str) -> dict[str, Any]:
    return {"name": name, "description": description,
            "inputSchema": {"type": "object", "properties": {k: {"type": v} for k, v in properties.items()},
                            "required": list(properties)[:1]}}


KNOWN: dict[str, list[dict[str, Any]]] = {
    "github": [_tool("github_search_repos", "Search repositories.", query="string"),
               _tool("github_list_issues", "List the issues of a repository.", repo="string", state="string"),
               _tool("github_get_file", "Read a file of a repository.", repo="string", path="string"),
               _tool("github_create_issue", "Open an issue.", repo="string", title="string", body="string"),
               _tool("github_create_pull_request", "Open a pull request.", repo="string", head="string",
                     base="string", title="string")],
    "slack": [_tool("slack_post_message", "Post a message to a channel.", channel="string", text="string"),
              _tool("slack_list_channels", "List the channels of the workspace.", cursor="string"),
              _tool("slack_search_messages", "Search messages.", query="string"),
              _tool("slack_get_thread", "Read a thread.", channel="string", ts="string")],
    "linear": [_tool("linear_search_issues", "Search issues.", query="string"),
               _tool("linear_create_issue", "Create an issue.", title="string", teamId="string"),
               _tool("linear_update_issue", "Update an issue.", id="string", state="string")],
    "notion": [_tool("notion_search", "Search pages and databases.", query="string"),
               _tool("notion_get_page", "Read a page.", pageId="string"),
               _tool("notion_query_database", "Query a database.", databaseId="string")],
    "jira": [_tool("jira_search", "Search issues with JQL.", jql="string"),
             _tool("jira_get_issue", "Read an issue.", key="string"),
             _tool("jira_create_issue", "Create an issue.", project="string", summary="string")],
    "postgres": [_tool("postgres_query", "Run a read-only SQL query.", sql="string"),
                 _tool("postgres_list_tables", "List the tables.", schema="string")],
    "filesystem": [_tool("read_file", "Read a file.", path="string"),
                   _tool("list_directory", "List a directory.", path="string"),
                   _tool("write_file", "Write a file.", path="string", content="string")],
    "google_drive": [_tool("gdrive_search", "Search files.", query="string"),
                     _tool("gdrive_read_file", "Read a file.", fileId="string")],
}


def catalogue(name: str, declared: list[dict] | None, tool_filter: list[str] | None,
              requires_approval: list[str]) -> list[dict[str, Any]]:
    """The tools the connection's (mock) server offers, in its order."""
    if declared is not None:
        return [dict(tool) for tool in declared]
    key = name.lower().replace("-", "_")
    known = next((tools for server, tools in KNOWN.items() if key == server or key.startswith(server + "_")), None)
    if known is not None:
        return [dict(tool) for tool in known]
    named = list(dict.fromkeys([*(tool_filter or []), *requires_approval]))
    if named:
        return [_tool(tool, f"The '{tool}' tool of the {name} server.", input="string") for tool in named]
    return [_tool(f"{key}_{verb}", f"{verb.capitalize()} on the {name} server.", query="string")
            for verb in ("search", "get", "list")]


def discover(connection_id: str, name: str, catalogue_tools: list[dict], tool_filter: list[str] | None,
             requires_approval: list[str]) -> list[dict[str, Any]]:
    """The SDK's MCPTool list: the catalogue narrowed by the filter (None: no filter)."""
    allowed = None if tool_filter is None else set(tool_filter)
    return [{"name": tool["name"], "description": tool.get("description", ""),
             "inputSchema": tool.get("inputSchema") or {"type": "object", "properties": {}},
             "serverId": connection_id, "serverName": name, "requiresApproval": tool["name"] in requires_approval}
            for tool in catalogue_tools if allowed is None or tool["name"] in allowed]


def latency_ms(seed: int, connection_id: str, at_ms: int) -> int:
    """A ping's latency: 20 to 119 ms, the same for the same seed, connection and instant."""
    digest = hashlib.blake2b(f"{seed}|{connection_id}|{at_ms}".encode(), digest_size=4).digest()
    return 20 + int.from_bytes(digest, "big") % 100


def tools_for_runs(t: "Tenant") -> tuple[str, ...]:
    """The names of the tools a tenant's connections expose to its agents' runs, sorted."""
    rows = t.store.rows("mcp_connections", order=None, columns="discovered")  # on configured runs
    return tuple(sorted({tool["name"] for row in rows for tool in row["discovered"]}))
