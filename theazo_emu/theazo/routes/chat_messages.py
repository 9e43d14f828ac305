"""Chat messages (sdk-compat §3 "Chat"): post one and get the agent's reply, post one and
stream the reply (SSE), list a conversation's messages, and search them.

`POST /v1/chat/:cid/messages` answers the reply (a ChatMessage, 201). The stream is an SSE
answer to a POST: `text` (`{type, text}`), `tool_call` and `tool_result` (`{type, name, input
| output}`: chat events say `name` where agent events say `tool`), then `done` (`{type,
messageId, cost, tokenCount}`), after which the server closes the stream (the SDK's reader
stops only then). Frames are released along the reply's timeline on the virtual clock. The
message list is chronological unless `order=desc` (`limit` default 50, `cursor`,
`threadId`); search answers `{data}` ranked by score. Posting is domain/chat_replies.py's.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.http import Ctx, PageParams, api_route, query_choice
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.bodies.chat import SearchChat, SendMessage
from theazo_emu.theazo.domain import chat_replies
from theazo_emu.theazo.domain.chat import MESSAGES
from theazo_emu.theazo.domain.chat_replies import message_to_api
from theazo_emu.theazo.routes.chat import load
from theazo_emu.theazo.surface import page_body


async def send_message(ctx: Ctx) -> dict:
    """Post a user message; answers the agent's reply."""
    body: SendMessage = ctx.body
    reply = chat_replies.post(ctx.t, load(ctx), body.content, body.attachments, body.threadId)
    return message_to_api(reply)


async def stream_message(ctx: Ctx) -> Any:
    """Post a user message; the reply as SSE (text, tool_call, tool_result, done), then the stream closes."""
    body: SendMessage = ctx.body
    reply = chat_replies.post(ctx.t, load(ctx), body.content, body.attachments, body.threadId)
    return stream_response(ctx.emu, chat_replies.ReplyFollower(ctx.t, reply).poll)


async def list_messages(ctx: Ctx) -> dict:
    """The conversation's messages, oldest first (order asc|desc, threadId; limit, cursor)."""
    row = load(ctx)
    descending = query_choice(ctx, "order", ("asc", "desc")) == "desc"
    params = PageParams.from_query(ctx, "msg", default=50)
    where, values = "conversation_id = ?", [row["id"]]
    thread_id = ctx.query.get("threadId") or None
    if thread_id is not None:
        where, values = where + " AND thread_id = ?", [*values, thread_id]
    if params.after is not None:
        where, values = where + (" AND id < ?" if descending else " AND id > ?"), [*values, params.after]
    rows = ctx.store.rows(MESSAGES, where, values, order="id DESC" if descending else "id",
                          limit=params.limit + 1)
    return page_body(params.cut(rows), message_to_api)


async def search_messages(ctx: Ctx) -> dict:
    """Search the messages of every conversation (or one user's, or one conversation's), best first."""
    body: SearchChat = ctx.body
    return {"data": chat_replies.search(ctx.t, body.query, body.userId, body.conversationId,
                                        body.limit)}


routes = [
    api_route("/v1/chat/search", search_messages, "POST", body=SearchChat),
    api_route("/v1/chat/{conversation_id}/messages", send_message, "POST", body=SendMessage, status=201),
    api_route("/v1/chat/{conversation_id}/messages", list_messages),
    api_route("/v1/chat/{conversation_id}/messages/stream", stream_message, "POST", body=SendMessage),
]
