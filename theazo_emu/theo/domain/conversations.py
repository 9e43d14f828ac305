"""Conversations: the messages of completions that carry a conversation, oldest first.

A completion without `conversation_id` (and without an inline `conversation`) starts a new
conversation (the docs: "the first request creates a new conversation automatically");
with one it appends to it (404 `not_found` when the tenant has no such conversation).
Each completion adds the user's message and the assistant's. Listing is newest first,
paged with has_more/next_cursor; deleting removes the messages too. Owns the
theo_conversations and theo_messages tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.theo.domain.engines import cents

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE, MESSAGES, KIND = "theo_conversations", "theo_messages", "conversation"
TITLE_LENGTH, PREVIEW_LENGTH = 60, 200


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def require(store: "Scoped", ident: str) -> dict[str, Any]:
    """The tenant's conversation, or 404 `not_found`."""
    return store.get(TABLE, ident, KIND)


def history(store: "Scoped", ident: str) -> list[tuple[str, str]]:
    """(role, content) of the conversation's messages, oldest first."""
    rows = store.rows(MESSAGES, "conversation_id = ?", [ident], columns="role, content")
    return [(row["role"], row["content"]) for row in rows]


def start(t: "Tenant", title: str) -> dict[str, Any]:
    now = t.now_iso()
    row = {"id": t.new_id("conv"), "title": _shorten(title, TITLE_LENGTH) or None,
           "message_count": 0, "last_message": None, "created_at": now, "updated_at": now}
    t.store.insert(TABLE, row)
    return row


def add_messages(t: "Tenant", conversation: dict[str, Any], *messages: dict[str, Any]) -> None:
    """Append messages ({role, content, mode?, resolved_mode?, model?, tools?, artifacts?,
    follow_ups?, status?, error_message?, cost_units?}) and update the conversation."""
    now = t.now_iso()
    base = {"mode": None, "resolved_mode": None, "model": None, "tools": None, "artifacts": None, "follow_ups": None,
            "status": None, "error_message": None, "cost_units": None}
    for message in messages:
        t.store.insert(MESSAGES, {**base, **message, "id": t.new_id("msg"),
                                "conversation_id": conversation["id"], "created_at": now})
    t.store.update(TABLE, conversation["id"], {
        "message_count": conversation["message_count"] + len(messages), "updated_at": now,
        "last_message": _shorten(messages[-1]["content"], PREVIEW_LENGTH) if messages else None})


def delete(store: "Scoped", ident: str) -> None:
    require(store, ident)
    with store.atomic():
        store.delete(MESSAGES, "conversation_id = ?", [ident])
        store.delete(TABLE, "id = ?", [ident])


def conversation_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "title": row["title"], "createdAt": row["created_at"], "updatedAt": row["updated_at"],
            "messageCount": row["message_count"], "lastMessage": row["last_message"]}


def message_to_api(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], "role": row["role"], "content": row["content"],
                           "createdAt": row["created_at"]}
    if row["role"] == "assistant":
        out.update({"mode": row["mode"], "resolvedMode": row["resolved_mode"], "model": row["model"],
                    "tools": row["tools"] or [], "artifacts": row["artifacts"] or [],
                    "followUps": row["follow_ups"] or [], "status": row["status"],
                    "errorMessage": row["error_message"],
                    "costCents": cents(row["cost_units"]) if row["cost_units"] is not None else None})
    return out


def detail(store: "Scoped", ident: str) -> dict[str, Any]:
    row = require(store, ident)
    messages = store.rows(MESSAGES, "conversation_id = ?", [ident])
    return {**conversation_to_api(row), "messages": [message_to_api(m) for m in messages]}
