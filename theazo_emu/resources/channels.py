"""Channels: chat interfaces backed by agents (reference "Channels", sdk-compat "Channels").

Owns channels, channel_threads and channel_messages, the keyed CRUD routes and the public
ones: POST/GET /v1/channels/:id/messages and the SSE /v1/channels/:id/stream, where the
channel id is the only credential (unknown ids are 404 with no hint; a disabled channel
is 403). A thread (`thr_`) belongs to a visitor (`visitorId`, default `visitor`): its first
message creates an agent in that visitor's session; each message is answered at once by the
mock engine (so fixtures apply) and its model tokens are booked to the ledger. The stream
sends messages posted after it opened (or after `Last-Event-ID`), with heartbeats, until
the channel is deleted or disabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..domain import ledger, limits, pricing
from ..errors import Forbidden, NotFound, invalid
from ..http import Ctx, PageParams, api_route, page_body
from ..ids import is_id
from ..mock import RunRequest
from ..models.core import CreateAgent
from ..models.orchestration import ChannelMessage, CreateChannel, UpdateChannel
from ..sse import Frame, stream_response
from .agent_definitions import resolve_definition
from .agents import new_agent
from .sessions import require_active, user_session

if TYPE_CHECKING:
    from ..emulator import Emulator

TABLE, KIND = "channels", "channel"
DEFAULT_VISITOR = "visitor"
_VARIANT_FIELDS = {"chat_embed": ("theme",), "slack": ("workspace", "channels", "botName"), "email": ("address",),
                   "phone": ("phoneNumber", "voice")}
_REQUIRED = {"slack": ("workspace", "channels", "botName"), "email": ("address",), "phone": ("phoneNumber",)}


def channel_to_api(emu: "Emulator", row: dict, base_url: str) -> dict[str, Any]:
    """The union of the reference's Channel and the SDK's (`agentDefinitionId`, `type`, `config`, ...)."""
    count = emu.store.scalar("SELECT COUNT(*) FROM channel_threads WHERE channel_id = ?", [row["id"]])
    body = {
        "id": row["id"], "name": row["name"], "type": row["type"], "definitionId": row["definition_id"],
        "agentDefinitionId": row["definition_id"], "agent": row["definition_id"], "instructions": row["instructions"],
        "metadata": row["metadata"] or {}, "config": row["config"] or {}, "enabled": bool(row["enabled"]),
        "conversationCount": count, "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }
    if row["type"] == "chat_embed":
        body["scriptTag"] = f'<script src="{base_url}/embed.js" data-channel="{row["id"]}" async></script>'
    return body


def message_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "role": row["role"], "content": row["content"], "threadId": row["thread_id"],
            "channelId": row["channel_id"], "createdAt": row["created_at"]}


def thread_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "channelId": row["channel_id"], "userId": row["user_id"], "agentId": row["agent_id"],
            "sessionId": row["session_id"], "messageCount": row["message_count"], "startedAt": row["started_at"],
            "lastMessageAt": row["last_message_at"]}


def _base_url(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _load(ctx: Ctx) -> dict:
    return ctx.emu.store.get(TABLE, ctx.tenant, ctx.params["channel_id"], KIND)


def _public_channel(ctx: Ctx) -> dict:
    """The channel a public request names: 404 if unknown (whatever the tenant), 403 if disabled."""
    channel_id = ctx.params["channel_id"]
    row = ctx.emu.store.one("SELECT * FROM channels WHERE id = ?", [channel_id])
    if row is None:
        raise NotFound(KIND, channel_id)
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


async def create_channel(ctx: Ctx) -> dict:
    """Create a channel (reference `{name, definitionId, instructions}` or SDK `{type, agent, ...}`)."""
    body: CreateChannel = ctx.body
    kind = body.type or "chat_embed"
    definition = body.definitionId or body.agent
    if definition:
        resolve_definition(ctx.emu, ctx.tenant, definition)  # 404 unknown, 409 archived
    config, now = _config(body, kind), ctx.now_iso()
    with ctx.emu.store.atomic():
        row = ctx.emu.store.insert(TABLE, {
            "id": ctx.emu.new_id("ch", ctx.tenant), "tenant": ctx.tenant, "name": body.name or f"{kind} channel",
            "type": kind, "definition_id": definition, "instructions": body.instructions,
            "metadata": body.metadata or {}, "config": config, "enabled": int(body.enabled),
            "created_at": now, "updated_at": now,
        })
    return channel_to_api(ctx.emu, row, _base_url(ctx))


async def list_channels(ctx: Ctx) -> dict:
    """List channels, newest first (`{data}` for both clients)."""
    page, base = PageParams.from_query(ctx, "ch"), _base_url(ctx)
    rows = ctx.emu.store.page(TABLE, "tenant = ?", [ctx.tenant], page.limit, page.after)
    return page_body(rows, page, lambda r: channel_to_api(ctx.emu, r, base))


async def get_channel(ctx: Ctx) -> dict:
    """Get one channel."""
    return channel_to_api(ctx.emu, _load(ctx), _base_url(ctx))


async def update_channel(ctx: Ctx) -> dict:
    """Replace `config`, enable or disable, or change name, definition, instructions, metadata."""
    body: UpdateChannel = ctx.body
    row = _load(ctx)
    changes: dict[str, Any] = {}
    definition = body.definitionId or body.agent
    if definition:
        resolve_definition(ctx.emu, ctx.tenant, definition)
        changes["definition_id"] = definition
    for field, column in (("config", "config"), ("name", "name"), ("instructions", "instructions"),
                          ("metadata", "metadata")):
        if getattr(body, field) is not None:
            changes[column] = getattr(body, field)
    if body.enabled is not None:
        changes["enabled"] = int(body.enabled)
    if changes:
        ctx.emu.store.update(TABLE, row["id"], changes | {"updated_at": ctx.now_iso()})
        ctx.emu.changes.notify()  # open streams of a disabled channel close
    return channel_to_api(ctx.emu, ctx.emu.store.get(TABLE, ctx.tenant, row["id"], KIND), _base_url(ctx))


async def delete_channel(ctx: Ctx) -> dict:
    """Delete a channel with its threads and messages; its public routes answer 404."""
    row = _load(ctx)
    with ctx.emu.store.atomic():
        for table in ("channel_messages", "channel_threads"):
            ctx.emu.store.db.execute(f"DELETE FROM {table} WHERE channel_id = ?", [row["id"]])
        ctx.emu.store.db.execute("DELETE FROM channels WHERE id = ?", [row["id"]])
    ctx.emu.changes.notify()
    return {"ok": True, "id": row["id"], "deleted": True}


async def list_conversations(ctx: Ctx) -> dict:
    """The channel's threads, newest first."""
    row, page = _load(ctx), PageParams.from_query(ctx, "thr")
    rows = ctx.emu.store.page("channel_threads", "tenant = ? AND channel_id = ?", [ctx.tenant, row["id"]],
                              page.limit, page.after)
    return page_body(rows, page, thread_to_api)


async def test_channel(ctx: Ctx) -> dict:
    """Check the channel: ok unless it is disabled."""
    row = _load(ctx)
    if not row["enabled"]:
        return {"ok": False, "message": f"Channel {row['id']} is disabled; enable it to accept messages."}
    return {"ok": True, "message": f"Channel {row['id']} ({row['type']}) is reachable and accepting messages."}


def _thread(ctx: Ctx, channel: dict, thread_id: str | None, visitor: str | None) -> dict:
    """The named thread of this channel (404 otherwise), or a new one with its agent."""
    emu, tenant = ctx.emu, channel["tenant"]
    if thread_id is not None:
        row = emu.store.one("SELECT * FROM channel_threads WHERE id = ? AND channel_id = ?", [thread_id, channel["id"]])
        if row is None:
            raise NotFound("thread", thread_id)
        return row
    user_id = visitor or DEFAULT_VISITOR
    session, _ = user_session(emu, tenant, user_id)
    fields = {"definition": channel["definition_id"], "instructions": channel["instructions"]}
    agent = new_agent(emu, session, CreateAgent(**{k: v for k, v in fields.items() if v is not None}))
    now = ctx.now_iso()
    return emu.store.insert("channel_threads", {
        "id": emu.new_id("thr", tenant), "tenant": tenant, "channel_id": channel["id"], "user_id": user_id,
        "agent_id": agent["id"], "session_id": session["id"], "message_count": 0, "started_at": now,
        "last_message_at": None,
    })


async def post_message(ctx: Ctx) -> dict:
    """Public: post a user message; answers the agent's reply (a new thread when threadId is absent)."""
    body: ChannelMessage = ctx.body
    channel = _public_channel(ctx)
    content = body.content if body.content is not None else body.text
    if content is None or not content.strip():
        raise invalid("content", "is required: the user's message text (or 'text')")
    emu, tenant = ctx.emu, channel["tenant"]
    with emu.store.atomic():
        thread = _thread(ctx, channel, body.threadId, body.visitorId)
        agent = emu.store.get("agents", tenant, thread["agent_id"], "agent")
        session = emu.store.get("sessions", tenant, thread["session_id"], "session")
        require_active(session, ctx.now_ms())
        limits.check(emu, session, ("maxCost",))
        reply = _reply(emu, agent, content)
        now_ms = ctx.now_ms()
        now = iso(now_ms)
        for role, text in (("user", content), ("assistant", reply.output)):
            message = emu.store.insert("channel_messages", {
                "id": emu.new_id("msg", tenant), "tenant": tenant, "channel_id": channel["id"],
                "thread_id": thread["id"], "role": role, "content": text, "created_at": now})
        emu.store.db.execute("UPDATE channel_threads SET message_count = message_count + 2, last_message_at = ? "
                             "WHERE id = ?", [now, thread["id"]])
        ledger.book(emu.store, ledger.charge(
            tenant, now_ms, "model", pricing.model_cents(agent["model"], reply.input_tokens, reply.output_tokens),
            input_tokens=reply.input_tokens, output_tokens=reply.output_tokens, calls=1, user_id=thread["user_id"],
            session_id=session["id"], agent_id=agent["id"], model=pricing.model_key(agent["model"]),
            provider=agent["provider"]))
    emu.changes.notify()
    return message_to_api(message)


def _reply(emu: "Emulator", agent: dict, content: str):  # noqa: ANN202 - the engine's RunPlan
    return emu.engine.plan_run(RunRequest(
        task=content, instructions=agent["instructions"] or "", tools=tuple(agent["tools"] or ()),
        model=agent["model"], definition_id=agent["definition_id"], timeout_s=agent["timeout_s"]))


def _thread_filter(ctx: Ctx, channel: dict) -> str | None:
    thread_id = ctx.query.get("threadId") or None
    if thread_id is not None and ctx.emu.store.one(
            "SELECT id FROM channel_threads WHERE id = ? AND channel_id = ?", [thread_id, channel["id"]]) is None:
        raise NotFound("thread", thread_id)
    return thread_id


def _messages_after(emu: "Emulator", channel_id: str, thread_id: str | None, after: str, limit: int) -> list[dict]:
    where, params = "channel_id = ? AND id > ?", [channel_id, after]
    if thread_id is not None:
        where += " AND thread_id = ?"
        params.append(thread_id)
    return emu.store.all(f"SELECT * FROM channel_messages WHERE {where} ORDER BY id LIMIT ?", [*params, limit])


async def list_messages(ctx: Ctx) -> dict:
    """Public: the channel's messages in chronological order (threadId, limit default 50, cursor)."""
    channel = _public_channel(ctx)
    thread_id = _thread_filter(ctx, channel)
    page = PageParams.from_query(ctx, "msg", default=50)
    rows = _messages_after(ctx.emu, channel["id"], thread_id, page.after or "", page.limit + 1)
    return page_body(rows, page, message_to_api)


async def stream_channel(ctx: Ctx) -> Any:
    """Public SSE: `message` events as they are posted (per thread with ?threadId=), heartbeats while idle."""
    channel = _public_channel(ctx)
    follower = _MessageFollower(ctx, channel, _thread_filter(ctx, channel))
    return stream_response(ctx.emu, follower.poll)


class _MessageFollower:
    """Hands out messages newer than the last one sent; ends when the channel goes away or is disabled."""

    def __init__(self, ctx: Ctx, channel: dict, thread_id: str | None) -> None:
        self.emu, self.channel_id, self.thread_id = ctx.emu, channel["id"], thread_id
        last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId") or ""
        if is_id(last, "msg"):
            self.after = last
        else:
            where, params = "channel_id = ?", [self.channel_id]
            if thread_id is not None:
                where, params = where + " AND thread_id = ?", [*params, thread_id]
            self.after = self.emu.store.scalar(f"SELECT MAX(id) FROM channel_messages WHERE {where}", params) or ""

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        rows = _messages_after(self.emu, self.channel_id, self.thread_id, self.after, 500)
        frames = [Frame("message", {"type": "message", **message_to_api(r)}, r["id"]) for r in rows]
        if rows:
            self.after = rows[-1]["id"]
        channel = self.emu.store.one("SELECT enabled FROM channels WHERE id = ?", [self.channel_id])
        return frames, channel is None or not channel["enabled"], None


routes = [
    api_route("/v1/channels", create_channel, "POST", body=CreateChannel, status=201),
    api_route("/v1/channels", list_channels),
    api_route("/v1/channels/{channel_id}", get_channel),
    api_route("/v1/channels/{channel_id}", update_channel, "PUT", body=UpdateChannel),
    api_route("/v1/channels/{channel_id}", delete_channel, "DELETE"),
    api_route("/v1/channels/{channel_id}/conversations", list_conversations),
    api_route("/v1/channels/{channel_id}/test", test_channel, "POST"),
    api_route("/v1/channels/{channel_id}/messages", post_message, "POST", body=ChannelMessage, public=True),
    api_route("/v1/channels/{channel_id}/messages", list_messages, public=True),
    api_route("/v1/channels/{channel_id}/stream", stream_channel, public=True),
]
