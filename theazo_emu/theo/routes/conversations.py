"""Conversations: GET /api/v1/conversations, GET and DELETE /api/v1/conversations/:id.

The list is newest first, `{conversations, has_more, next_cursor}` (`limit` 1-100, default
25; `cursor` from the previous page). A conversation's detail is `{conversation}` with its
messages oldest first; DELETE removes it and its messages. Another tenant's id is 404.
"""

from __future__ import annotations

from theazo_emu.core.http import PAGE, Ctx, api_route, rows_page
from theazo_emu.theo.domain import conversations
from theazo_emu.theo.surface import page_body


async def list_conversations(ctx: Ctx) -> dict:
    """This tenant's conversations, newest first."""
    return page_body("conversations", rows_page(ctx, conversations.TABLE, None, "conv"),
                     conversations.conversation_to_api)


async def get_conversation(ctx: Ctx) -> dict:
    """One conversation with its messages."""
    return {"conversation": conversations.detail(ctx.store, ctx.params["conversation_id"])}


async def delete_conversation(ctx: Ctx) -> dict:
    """Delete a conversation and its messages."""
    ident = ctx.params["conversation_id"]
    conversations.delete(ctx.store, ident)
    return {"id": ident, "deleted": True}


routes = [
    api_route("/api/v1/conversations", list_conversations, query=PAGE),
    api_route("/api/v1/conversations/{conversation_id}", get_conversation),
    api_route("/api/v1/conversations/{conversation_id}", delete_conversation, "DELETE"),
]
