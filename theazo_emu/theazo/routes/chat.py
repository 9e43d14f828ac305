"""Session chat conversations (sdk-compat §3 "Chat"): create and list them in a session, and
get, update, archive, unarchive, delete one; its threads, its context window and handoffs.

Lists are `{data, hasMore, nextCursor, cursor}` for both clients (the SDK reads `data`).
Conversations are listed newest first; `status` is `active`, `archived`, `handed_off` or
`all` (the default). Messages, the reply stream and search are chat_messages.py's; the
rules are domain/chat.py's.
"""

from __future__ import annotations

from theazo_emu.core.http import Ctx, Where, api_route, query_choice
from theazo_emu.theazo.bodies.chat import CreateChat, CreateThread, Handoff, InjectContext, UpdateChat
from theazo_emu.theazo.domain import chat
from theazo_emu.theazo.domain.chat import (
    KIND,
    STATUSES,
    TABLE,
    THREADS,
    conversation_to_api,
    handoff_to_api,
    thread_to_api,
)
from theazo_emu.theazo.domain.chat_replies import inject, message_to_api
from theazo_emu.theazo.routes.sessions import load as load_session
from theazo_emu.theazo.surface import list_page, one_page


def load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["conversation_id"], KIND)


async def create_chat(ctx: Ctx) -> dict:
    """Start a conversation in the session with an agent (default `assistant`)."""
    session = load_session(ctx, ctx.params["session_id"])
    return conversation_to_api(ctx.t, chat.create(ctx.t, session, ctx.body))


async def list_chats(ctx: Ctx) -> dict:
    """The session's conversations, newest first (status active|archived|handed_off|all; limit, cursor)."""
    session = load_session(ctx, ctx.params["session_id"])
    status = query_choice(ctx, "status", (*STATUSES, "all"))
    where = Where(ctx).add("session_id = ?", session["id"])
    if status not in (None, "all"):
        where.add("status = ?", status)
    return list_page(ctx, TABLE, where, "conv", lambda row: conversation_to_api(ctx.t, row))


async def get_chat(ctx: Ctx) -> dict:
    """One conversation."""
    return conversation_to_api(ctx.t, load(ctx))


async def update_chat(ctx: Ctx) -> dict:
    """Change a conversation's title or metadata."""
    body: UpdateChat = ctx.body
    changes = {name: getattr(body, name) for name in ("title", "metadata") if name in body.model_fields_set}
    if changes.get("metadata") is None:
        changes.pop("metadata", None)
    return conversation_to_api(ctx.t, chat.update(ctx.t, load(ctx), changes))


async def archive_chat(ctx: Ctx) -> dict:
    """Archive a conversation: it keeps its messages and takes no new ones."""
    return conversation_to_api(ctx.t, chat.archive(ctx.t, load(ctx)))


async def unarchive_chat(ctx: Ctx) -> dict:
    """Make an archived conversation active again."""
    return conversation_to_api(ctx.t, chat.unarchive(ctx.t, load(ctx)))


async def delete_chat(ctx: Ctx) -> dict:
    """Delete a conversation with its messages, threads and handoffs."""
    row = load(ctx)
    chat.delete(ctx.t, row)
    return {"ok": True, "id": row["id"], "deleted": True}


async def get_context(ctx: Ctx) -> dict:
    """The conversation's context window: totals, tokens, summary, strategy."""
    return chat.context_state(ctx.t, load(ctx))


async def inject_context(ctx: Ctx) -> dict:
    """Add a system message to the conversation's context."""
    body: InjectContext = ctx.body
    return message_to_api(inject(ctx.t, load(ctx), body.content))


async def create_thread(ctx: Ctx) -> dict:
    """Branch a thread from one of the conversation's messages (post in it with `threadId`)."""
    body: CreateThread = ctx.body
    return thread_to_api(ctx.t, chat.create_thread(ctx.t, load(ctx), body.parentMessageId, body.title))


async def list_threads(ctx: Ctx) -> dict:
    """The conversation's threads, oldest first."""
    row = load(ctx)
    threads = ctx.store.rows(THREADS, "conversation_id = ?", [row["id"]], order="id")
    return one_page([thread_to_api(ctx.t, t) for t in threads])


async def hand_off(ctx: Ctx) -> dict:
    """Hand the conversation to a human (pending) or to another agent (`agent:<definition>`, at once)."""
    body: Handoff = ctx.body
    return handoff_to_api(chat.handoff(ctx.t, load(ctx), body.reason, body.to, body.metadata))


async def resolve_handoff(ctx: Ctx) -> dict:
    """Resolve the open handoff; a conversation handed to a human is active again."""
    return handoff_to_api(chat.resolve_handoff(ctx.t, load(ctx)))


routes = [
    api_route("/v1/sessions/{session_id}/chat", create_chat, "POST", body=CreateChat, status=201),
    api_route("/v1/sessions/{session_id}/chat", list_chats),
    api_route("/v1/chat/{conversation_id}", get_chat),
    api_route("/v1/chat/{conversation_id}", update_chat, "PUT", body=UpdateChat),
    api_route("/v1/chat/{conversation_id}", delete_chat, "DELETE"),
    api_route("/v1/chat/{conversation_id}/archive", archive_chat, "POST"),
    api_route("/v1/chat/{conversation_id}/unarchive", unarchive_chat, "POST"),
    api_route("/v1/chat/{conversation_id}/context", get_context),
    api_route("/v1/chat/{conversation_id}/context", inject_context, "POST", body=InjectContext, status=201),
    api_route("/v1/chat/{conversation_id}/threads", create_thread, "POST", body=CreateThread, status=201),
    api_route("/v1/chat/{conversation_id}/threads", list_threads),
    api_route("/v1/chat/{conversation_id}/handoff", hand_off, "POST", body=Handoff, status=201),
    api_route("/v1/chat/{conversation_id}/handoff/resolve", resolve_handoff, "POST"),
]
