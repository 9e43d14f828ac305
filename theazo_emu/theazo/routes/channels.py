"""Channels: chat interfaces backed by agents (reference "Channels", sdk-compat "Channels").

Owns the channels table, the keyed CRUD routes and the public ones: POST/GET
/v1/channels/:id/messages and the SSE /v1/channels/:id/stream, where the channel id is the
only credential (unknown ids are 404 with no hint; a disabled channel is 403). Threads,
messages, replies and the stream are domain/channels.py's. The stream sends messages posted
after it opened (or after `Last-Event-ID`), with heartbeats, until the channel is deleted
or disabled.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Forbidden, invalid
from theazo_emu.core.http import LAST_EVENT, PAGE, Ctx, PageParams, Where, api_route, public_row
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.bodies.orchestration import ChannelMessage, CreateChannel, UpdateChannel
from theazo_emu.theazo.domain import channels
from theazo_emu.theazo.domain.channels import KIND, TABLE, THREADS, MessageFollower, message_to_api
from theazo_emu.theazo.domain.definitions import resolve_definition
from theazo_emu.theazo.surface import list_page, page_body

_VARIANT_FIELDS = {"chat_embed": ("theme",), "slack": ("workspace", "channels", "botName"), "email": ("address",),
                   "phone": ("phoneNumber", "voice")}
_REQUIRED = {"slack": ("workspace", "channels", "botName"), "email": ("address",), "phone": ("phoneNumber",)}


def channel_to_api(ctx: Ctx, row: dict, base_url: str) -> dict[str, Any]:
    """The union of the reference's Channel and the SDK's (`agentDefinitionId`, `type`, `config`, ...)."""
    count = ctx.store.count(THREADS, "channel_id = ?", [row["id"]])
    body = {
        "id": row["id"], "name": row["name"], "type": row["type"], "definitionId": row["definition_id"],
        # The SDK types agentDefinitionId a string: the agent as named (an id or a name), or "".
        "agentDefinitionId": row["definition_id"] or row["agent"] or "", "agent": row["agent"] or row["definition_id"],
        "instructions": row["instructions"],
        "metadata": row["metadata"] or {}, "config": row["config"] or {}, "enabled": bool(row["enabled"]),
        "conversationCount": count, "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }
    if row["type"] == "chat_embed":
        body["scriptTag"] = f'<script src="{base_url}/embed.js" data-channel="{row["id"]}" async></script>'
    return body


def thread_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "channelId": row["channel_id"], "userId": row["user_id"], "agentId": row["agent_id"],
            "sessionId": row["session_id"], "messageCount": row["message_count"], "startedAt": row["started_at"],
            "lastMessageAt": row["last_message_at"]}


def _base_url(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["channel_id"], KIND)


def _public_channel(ctx: Ctx) -> dict:
    """The channel a public request names: 404 if unknown (whatever the tenant), 403 if disabled."""
    channel_id = ctx.params["channel_id"]
    row = public_row(ctx, TABLE, channel_id, KIND)
    if not row["enabled"]:
        raise Forbidden(f"Channel {channel_id} is disabled.", {"channelId": channel_id})
    return row


def _config(body: CreateChannel, kind: str) -> dict[str, Any]:
    """The variant's fields (theme; workspace, channels, botName; address; phoneNumber, voice) as config."""
    for name in _REQUIRED.get(kind, ()):
        if getattr(body, name) is None:
            raise invalid(name, f"is required for a {kind} channel")
    config = dict(body.config or {})
    for name in _VARIANT_FIELDS[kind]:
        value = getattr(body, name)
        if value is not None:
            config[name] = value.model_dump(exclude_none=True) if name == "theme" else value
    return config


def _agent_columns(ctx: Ctx, body: CreateChannel | UpdateChannel) -> dict[str, Any]:
    """The agent the body names: the reference's `definitionId` (a definition id) or the
    SDK's `agent` (an id or a name, resolved when a thread starts: domain/channels.py).
    An id must exist (404) and be live (409); a name is accepted whether or not a
    definition has it. {} when the body names none."""
    ref = body.agent or body.definitionId
    if not ref:
        return {}
    if body.agent is None or ref.startswith("adef_"):
        resolve_definition(ctx.t, ref)  # 404 unknown, 409 archived
        return {"definition_id": ref, "agent": body.agent}
    return {"definition_id": None, "agent": ref}


async def create_channel(ctx: Ctx) -> dict:
    """Create a channel (reference `{name, definitionId, instructions}` or SDK `{type, agent, ...}`)."""
    body: CreateChannel = ctx.body
    kind = body.type or "chat_embed"
    agent = _agent_columns(ctx, body) or {"definition_id": None, "agent": None}
    config, now = _config(body, kind), ctx.now_iso()
    with ctx.store.atomic():
        row = ctx.store.insert(TABLE, {
            "id": ctx.emu.new_id("ch", ctx.tenant), "name": body.name or f"{kind} channel",
            "type": kind, **agent, "instructions": body.instructions,
            "metadata": body.metadata or {}, "config": config, "enabled": int(body.enabled),
            "created_at": now, "updated_at": now,
        })
    return channel_to_api(ctx, row, _base_url(ctx))


async def list_channels(ctx: Ctx) -> dict:
    """List channels, newest first (`{data}` for both clients)."""
    base = _base_url(ctx)
    return list_page(ctx, TABLE, None, "ch", lambda r: channel_to_api(ctx, r, base))


async def get_channel(ctx: Ctx) -> dict:
    """Get one channel."""
    return channel_to_api(ctx, _load(ctx), _base_url(ctx))


async def update_channel(ctx: Ctx) -> dict:
    """Replace `config`, enable or disable, or change name, definition, instructions, metadata."""
    body: UpdateChannel = ctx.body
    row = _load(ctx)
    changes: dict[str, Any] = _agent_columns(ctx, body)
    for field, column in (("config", "config"), ("name", "name"), ("instructions", "instructions"),
                          ("metadata", "metadata")):
        if getattr(body, field) is not None:
            changes[column] = getattr(body, field)
    if body.enabled is not None:
        changes["enabled"] = int(body.enabled)
    if changes:
        ctx.store.update(TABLE, row["id"], changes | {"updated_at": ctx.now_iso()})
        ctx.emu.changes.notify()  # open streams of a disabled channel close
    return channel_to_api(ctx, ctx.store.get(TABLE, row["id"], KIND), _base_url(ctx))


async def delete_channel(ctx: Ctx) -> dict:
    """Delete a channel with its threads and messages; its public routes answer 404."""
    row = _load(ctx)
    channels.delete(ctx.t, row)
    return {"ok": True, "id": row["id"], "deleted": True}


async def list_conversations(ctx: Ctx) -> dict:
    """The channel's threads, newest first."""
    row = _load(ctx)
    return list_page(ctx, THREADS, Where(ctx).add("channel_id = ?", row["id"]), "thr", thread_to_api)


async def test_channel(ctx: Ctx) -> dict:
    """Check the channel: ok unless it is disabled."""
    row = _load(ctx)
    if not row["enabled"]:
        return {"ok": False, "message": f"Channel {row['id']} is disabled; enable it to accept messages."}
    return {"ok": True, "message": f"Channel {row['id']} ({row['type']}) is reachable and accepting messages."}


async def post_message(ctx: Ctx) -> dict:
    """Public: post a user message; answers the agent's reply (a new thread when threadId is absent)."""
    body: ChannelMessage = ctx.body
    channel = _public_channel(ctx)
    content = body.content if body.content is not None else body.text
    if content is None or not content.strip():
        raise invalid("content", "is required: the user's message text (or 'text')")
    message = channels.post(ctx.emu.tenant(channel["tenant"]), channel, body.threadId, body.visitorId, content)
    return message_to_api(message)


def _thread_filter(ctx: Ctx, channel: dict) -> str | None:
    thread_id = ctx.query.get("threadId") or None
    if thread_id is not None:
        channels.thread(ctx.emu.tenant(channel["tenant"]), channel, thread_id)  # 404 unless it is this channel's
    return thread_id


async def list_messages(ctx: Ctx) -> dict:
    """Public: the channel's messages in chronological order (threadId, limit default 50, cursor)."""
    channel = _public_channel(ctx)
    thread_id = _thread_filter(ctx, channel)
    params = PageParams.from_query(ctx, "msg", default=50)
    rows = channels.messages_after(ctx.emu.tenant(channel["tenant"]), channel["id"], thread_id, params.after or "", params.limit + 1)
    return page_body(params.cut(rows), message_to_api)


async def stream_channel(ctx: Ctx) -> Any:
    """Public SSE: `message` events as they are posted (per thread with ?threadId=), heartbeats while idle."""
    channel = _public_channel(ctx)
    last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId") or ""
    follower = MessageFollower(ctx.emu.tenant(channel["tenant"]), channel, _thread_filter(ctx, channel), last)
    return stream_response(ctx.emu, follower.poll)


routes = [
    api_route("/v1/channels", create_channel, "POST", body=CreateChannel, status=201),
    api_route("/v1/channels", list_channels, query=PAGE),
    api_route("/v1/channels/{channel_id}", get_channel),
    api_route("/v1/channels/{channel_id}", update_channel, "PUT", body=UpdateChannel),
    api_route("/v1/channels/{channel_id}", delete_channel, "DELETE"),
    api_route("/v1/channels/{channel_id}/conversations", list_conversations, query=PAGE),
    api_route("/v1/channels/{channel_id}/test", test_channel, "POST"),
    api_route("/v1/channels/{channel_id}/messages", post_message, "POST", body=ChannelMessage, public=True),
    api_route("/v1/channels/{channel_id}/messages", list_messages, public=True, query=("threadId", *PAGE)),
    api_route("/v1/channels/{channel_id}/stream", stream_channel, public=True,
              query=("threadId", *LAST_EVENT)),
]
