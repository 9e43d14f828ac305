"""MCP: `theazo.mcp` (connections, their tools, health, refresh, per-user credentials, and
the tenant's own MCP server configuration).

Owns mcp_connections, mcp_credentials and mcp_server_configs. What a connection's server
offers is decided offline by domain/mcp.py; the answer's `discoveredTools` is always an
array. Connection `headers` and users' credential headers are sealed with emu.cipher
(tenant, connection and user bound as associated data) and never answered: a connection
says only `hasHeaders` and `usersWithCredentials`. Names are unique per tenant (409
`mcp_name_conflict`). Users' credentials may be set on any connection.
"""

from __future__ import annotations

import json
from typing import Any

from theazo_emu.core.crypto import associated_data
from theazo_emu.core.errors import Conflict, NotFound, invalid
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies.core import check_user_id
from theazo_emu.theazo.bodies.mcp import ConnectMcp, ServerConfig, UpdateMcp, UserCredentials
from theazo_emu.theazo.domain import mcp
from theazo_emu.theazo.surface import one_page

TABLE, KIND = mcp.TABLE, "MCP connection"
CREDENTIALS, CONFIGS = "mcp_credentials", "mcp_server_configs"


class McpNameConflict(Conflict):
    code = "mcp_name_conflict"


def connection_to_api(row: dict, users: int) -> dict[str, Any]:
    """The SDK's MCPConnection (never the headers)."""
    return {
        "id": row["id"], "name": row["name"], "transport": row["transport"], "url": row["url"],
        "command": row["command"], "args": row["args"], "status": "connected",
        "credentialsType": row["credentials_type"], "toolFilter": row["tool_filter"],
        "requiresApproval": row["requires_approval"], "toolCount": len(row["discovered"]),
        "discoveredTools": row["discovered"], "lastHealthCheck": row["last_health_check"], "error": None,
        "hasHeaders": row["headers_sealed"] is not None, "usersWithCredentials": users,
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }


def _answer(ctx: Ctx, row: dict) -> dict[str, Any]:
    return connection_to_api(row, ctx.store.count(CREDENTIALS, "connection_id = ?", [row["id"]]))


def _seal_headers(ctx: Ctx, connection_id: str, headers: dict[str, str] | None) -> str | None:
    if not headers:
        return None
    aad = associated_data("mcp-headers", ctx.tenant, connection_id)
    return ctx.emu.cipher.seal(json.dumps(headers, sort_keys=True).encode(), aad)


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["connection_id"], KIND)


async def connect_mcp(ctx: Ctx) -> dict:
    """Connect an MCP server; its tools are discovered at once (`discoveredTools`)."""
    body: ConnectMcp = ctx.body
    if ctx.store.find(TABLE, "name = ?", [body.name]) is not None:
        raise McpNameConflict(f"An MCP connection named '{body.name}' exists already.", {"name": body.name})
    declared = [tool.model_dump() for tool in body.tools] if body.tools is not None else None
    catalogue = mcp.catalogue(body.name, declared, body.toolFilter, body.requiresApproval)
    emu, now = ctx.emu, ctx.now_iso()
    with ctx.store.atomic():
        connection_id = emu.new_id("mcp", ctx.tenant)
        row = ctx.store.insert(TABLE, {
            "id": connection_id, "name": body.name, "transport": body.transport, "url": body.url,
            "command": body.command, "args": body.args,
            "headers_sealed": _seal_headers(ctx, connection_id, body.headers),
            "credentials_type": body.credentialsType, "tool_filter": body.toolFilter,
            "requires_approval": body.requiresApproval, "catalogue": catalogue,
            "discovered": mcp.discover(connection_id, body.name, catalogue, body.toolFilter, body.requiresApproval),
            "last_health_check": None, "created_at": now, "updated_at": now,
        })
    return connection_to_api(row, 0)


async def list_mcp_connections(ctx: Ctx) -> dict:
    """Every connection, oldest first (`{data}`, as the SDK reads it)."""
    rows = ctx.store.rows(TABLE)
    users = {row["connection_id"]: row["n"] for row in ctx.store.rows(
        CREDENTIALS, order=None, columns="connection_id, COUNT(*) AS n", group="connection_id")}
    return one_page([connection_to_api(row, users.get(row["id"], 0)) for row in rows])


async def get_mcp_connection(ctx: Ctx) -> dict:
    """One connection."""
    return _answer(ctx, _load(ctx))


async def update_mcp_connection(ctx: Ctx) -> dict:
    """Change headers, toolFilter (null removes the filter; absent keeps it) or requiresApproval."""
    body: UpdateMcp = ctx.body
    row = _load(ctx)
    given = body.model_fields_set
    changes: dict[str, Any] = {"updated_at": ctx.now_iso()}
    if "headers" in given:
        changes["headers_sealed"] = _seal_headers(ctx, row["id"], body.headers)
    if "toolFilter" in given:
        changes["tool_filter"] = body.toolFilter
    if "requiresApproval" in given:
        changes["requires_approval"] = body.requiresApproval or []
    row = {**row, **changes}
    row["discovered"] = changes["discovered"] = mcp.discover(row["id"], row["name"], row["catalogue"],
                                                             row["tool_filter"], row["requires_approval"])
    ctx.store.update(TABLE, row["id"], changes)
    return _answer(ctx, row)


async def delete_mcp_connection(ctx: Ctx) -> dict:
    """Disconnect a server (its users' credentials go with it)."""
    row = _load(ctx)
    with ctx.store.atomic():
        ctx.store.delete(CREDENTIALS, "connection_id = ?", [row["id"]])
        ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"id": row["id"], "deleted": True}


async def list_mcp_tools(ctx: Ctx) -> dict:
    """The tools the connection exposes (`{data}`)."""
    return one_page(_load(ctx)["discovered"])


async def refresh_mcp_tools(ctx: Ctx) -> dict:
    """Discover the server's tools again (`{data}`)."""
    row = _load(ctx)
    discovered = mcp.discover(row["id"], row["name"], row["catalogue"], row["tool_filter"], row["requires_approval"])
    ctx.store.update(TABLE, row["id"], {"discovered": discovered, "updated_at": ctx.now_iso()})
    return one_page(discovered)


async def mcp_health(ctx: Ctx) -> dict:
    """Ping the server (mocked): status, latency and when; recorded as `lastHealthCheck`."""
    row = _load(ctx)
    now_ms, now = ctx.now_ms(), ctx.now_iso()
    ctx.store.update(TABLE, row["id"], {"last_health_check": now})
    return {"status": "connected", "latencyMs": mcp.latency_ms(ctx.emu.settings.seed, row["id"], now_ms),
            "lastPingAt": now}


def _user(ctx: Ctx) -> str:
    try:
        return check_user_id(ctx.params["user_id"])
    except ValueError as exc:
        raise invalid("userId", str(exc)) from None


async def set_mcp_user_credentials(ctx: Ctx) -> dict:
    """Store a user's headers for a connection (sealed; never answered; on a platform connection
    they stand in for its headers in that user's runs)."""
    body: UserCredentials = ctx.body
    row, user_id = _load(ctx), _user(ctx)
    aad = associated_data("mcp-credentials", ctx.tenant, row["id"], user_id)
    sealed, now = ctx.emu.cipher.seal(json.dumps(body.headers, sort_keys=True).encode(), aad), ctx.now_iso()
    with ctx.store.atomic():
        existing = ctx.store.find(CREDENTIALS, "connection_id = ? AND user_id = ?", [row["id"], user_id], order=None)
        ctx.store.delete(CREDENTIALS, "connection_id = ? AND user_id = ?", [row["id"], user_id])
        ctx.store.insert(CREDENTIALS, {"connection_id": row["id"], "user_id": user_id, "sealed": sealed,
                                       "created_at": existing["created_at"] if existing else now, "updated_at": now})
    return {"connectionId": row["id"], "userId": user_id, "configured": True, "updatedAt": now}


async def delete_mcp_user_credentials(ctx: Ctx) -> dict:
    """Forget a user's credentials for a connection."""
    row, user_id = _load(ctx), _user(ctx)
    if not ctx.store.delete(CREDENTIALS, "connection_id = ? AND user_id = ?", [row["id"], user_id]):
        raise NotFound("MCP credentials", f"{row['id']}/{user_id}")
    return {"connectionId": row["id"], "userId": user_id, "deleted": True}


def _server_url(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/") + "/v1/mcp/server"


async def set_mcp_server_config(ctx: Ctx) -> dict:
    """Choose what this tenant exposes as an MCP server."""
    body: ServerConfig = ctx.body
    now = ctx.now_iso()
    with ctx.store.atomic():
        ctx.store.delete(CONFIGS, "1")
        ctx.store.insert(CONFIGS, {"expose": body.expose, "auth": body.auth, "updated_at": now})
    return {"expose": body.expose, "auth": body.auth, "url": _server_url(ctx), "updatedAt": now}


async def get_mcp_server_config(ctx: Ctx) -> dict:
    """What this tenant exposes as an MCP server (nothing until configured)."""
    row = ctx.store.find(CONFIGS, order=None)
    expose, auth, updated = (row["expose"], row["auth"], row["updated_at"]) if row else ([], "api_key", None)
    return {"expose": expose, "auth": auth, "url": _server_url(ctx), "updatedAt": updated}


routes = [
    api_route("/v1/mcp/connections", connect_mcp, "POST", body=ConnectMcp, status=201),
    api_route("/v1/mcp/connections", list_mcp_connections),
    api_route("/v1/mcp/connections/{connection_id}", get_mcp_connection),
    api_route("/v1/mcp/connections/{connection_id}", update_mcp_connection, "PUT", body=UpdateMcp),
    api_route("/v1/mcp/connections/{connection_id}", delete_mcp_connection, "DELETE"),
    api_route("/v1/mcp/connections/{connection_id}/tools", list_mcp_tools),
    api_route("/v1/mcp/connections/{connection_id}/refresh", refresh_mcp_tools, "POST"),
    api_route("/v1/mcp/connections/{connection_id}/health", mcp_health),
    api_route("/v1/mcp/connections/{connection_id}/users/{user_id:path}/credentials", set_mcp_user_credentials,
              "PUT", body=UserCredentials),
    api_route("/v1/mcp/connections/{connection_id}/users/{user_id:path}/credentials",
              delete_mcp_user_credentials, "DELETE"),
    api_route("/v1/mcp/server/config", set_mcp_server_config, "PUT", body=ServerConfig),
    api_route("/v1/mcp/server/config", get_mcp_server_config),
]
