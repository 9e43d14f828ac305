"""Session chat: conversations, their lifecycle, threads, handoffs and context windows.

The SDK's `session.chat` (sdk-compat §3 "Chat"); the one writer of `chat_conversations`,
`chat_threads` and `chat_handoffs` (messages and replies are chat_replies.py's). A
conversation keeps the profile of the agent that answers it (instructions, tools, model,
from its reference as orchestration.agent_request resolves it; no agent row is made, so
conversations do not count against `maxAgents`). Status: `active`; `archived` (no new
messages until unarchived); `handed_off` while a handoff to a human is pending (no replies
until it is resolved). A handoff to `agent:<definition>` is `accepted` at once and that
agent answers from then on. The context window (`context_window`) is what a reply sees and
what GET /context reports: `full`, `sliding_window` (newest messages within `maxTokens`)
or `summarize` (newest `summarizeAfter` messages plus a summary of the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, NotFound
from theazo_emu.core.mock import shorten
from theazo_emu.theazo.domain import definitions, orchestration, pricing
from theazo_emu.theazo.domain.sessions import require_active
from theazo_emu.theazo.mock.chat import tokens

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, MESSAGES, THREADS, HANDOFFS = "chat_conversations", "chat_messages", "chat_threads", "chat_handoffs"
KIND = "conversation"
STATUSES = ("active", "archived", "handed_off")
DEFAULT_AGENT = "assistant"
DEFAULT_WINDOW_TOKENS = 8000
DEFAULT_SUMMARIZE_AFTER = 20
OPEN_HANDOFF = ("pending", "accepted")


def profile(t: "Tenant", ref: Any) -> dict[str, Any]:
    """What answers a conversation: the agent a reference names, as a profile (404/409/422
    as for any agent reference)."""
    body = orchestration.agent_request(t, ref)
    settings, shape = definitions.agent_settings(t, body), body.normalized()
    definition_id = settings.get("definition_id")
    found = t.store.find("agent_definitions", "id = ?", [definition_id], order=None, columns="name") \
        if definition_id else None
    name = found["name"] if found else None
    return {"definitionId": definition_id, "definitionName": name,
            "instructions": settings.get("instructions", body.instructions) or "",
            "tools": list(settings.get("tools", body.tools) or []),
            "model": settings.get("model") or shape["model"] or pricing.DEFAULT_MODEL}


def open_handoff(t: "Tenant", conversation_id: str) -> dict | None:
    return t.store.find(HANDOFFS, "conversation_id = ? AND status IN ('pending', 'accepted')", [conversation_id],
                        order="id DESC")


def handoff_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "conversationId": row["conversation_id"], "reason": row["reason"],
            "toTarget": row["to_target"], "to": row["to_target"], "status": row["status"],
            "metadata": row["metadata"] or {}, "requestedAt": row["requested_at"], "resolvedAt": row["resolved_at"]}


def conversation_to_api(t: "Tenant", row: dict) -> dict[str, Any]:
    """The SDK's ChatConversation, with the session, agent, settings and open handoff."""
    handoff = open_handoff(t, row["id"])
    context = row["context"] or {}
    return {
        "id": row["id"], "agentId": row["profile"]["definitionId"], "agent": row["agent_ref"],
        "title": row["title"], "status": row["status"], "messageCount": row["message_count"],
        "totalCost": pricing.cost(row["total_cents"]), "lastMessageAt": row["last_message_at"],
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "sessionId": row["session_id"],
        "userId": row["user_id"], "metadata": row["metadata"] or {},
        "context": {"strategy": context.get("strategy") or "full",
                    **{k: v for k, v in context.items() if k != "strategy" and v is not None}},
        "systemPrompt": row["system_prompt"], "knowledge": row["knowledge"],
        "handoff": handoff_to_api(handoff) if handoff else None,
    }


def thread_to_api(t: "Tenant", row: dict) -> dict[str, Any]:
    count = t.store.count(MESSAGES, "thread_id = ?", [row["id"]])
    return {"id": row["id"], "conversationId": row["conversation_id"], "parentMessageId": row["parent_message_id"],
            "title": row["title"], "messageCount": count, "createdAt": row["created_at"]}


def load(t: "Tenant", conversation_id: str) -> dict:
    return t.store.get(TABLE, conversation_id, KIND)


def message(t: "Tenant", conversation: dict, message_id: str) -> dict:
    """A message of this conversation (404 otherwise)."""
    return _child(t, "chat_messages", "message", conversation, message_id)


def thread(t: "Tenant", conversation: dict, thread_id: str) -> dict:
    """A thread of this conversation (404 otherwise)."""
    return _child(t, "chat_threads", "thread", conversation, thread_id)


def _child(t: "Tenant", table: str, kind: str, conversation: dict, ident: str) -> dict:
    row = t.store.find(table, "id = ? AND conversation_id = ?", [ident, conversation["id"]], order=None)
    if row is None:
        raise NotFound(kind, ident)
    return row


# ---- lifecycle ----

def create(t: "Tenant", session: dict, body: Any) -> dict:
    now = t.now_iso()
    require_active(session, t.now_ms())
    ref = body.agent if body.agent is not None else DEFAULT_AGENT
    orchestration.check_agent_ref(t, "agent", ref)
    answering = profile(t, ref)
    with t.store.atomic():
        return t.store.insert(TABLE, {
            "id": t.new_id("conv"), "tenant": t.name, "session_id": session["id"],
            "user_id": session["user_id"], "agent_ref": ref, "profile": answering, "title": body.title,
            "metadata": body.metadata or {},
            "context": body.context.model_dump(exclude_none=True) if body.context else {},
            "system_prompt": body.systemPrompt, "knowledge": body.knowledge, "status": "active",
            "message_count": 0, "total_cents": 0, "last_message_at": None, "created_at": now, "updated_at": now})


def update(t: "Tenant", row: dict, changes: dict[str, Any]) -> dict:
    if changes:
        t.store.update(TABLE, row["id"], changes | {"updated_at": t.now_iso()})
    return t.store.find(TABLE, "id = ?", [row["id"]], order=None)


def archive(t: "Tenant", row: dict) -> dict:
    if row["status"] == "archived":
        raise Conflict(f"Conversation {row['id']} is already archived.", {"status": row["status"]})
    if open_handoff(t, row["id"]) is not None:
        raise Conflict(f"Conversation {row['id']} has an open handoff; resolve it before archiving.",
                       {"status": row["status"]})
    return update(t, row, {"status": "archived"})


def unarchive(t: "Tenant", row: dict) -> dict:
    if row["status"] != "archived":
        raise Conflict(f"Conversation {row['id']} is {row['status']}, not archived.", {"status": row["status"]})
    return update(t, row, {"status": "active"})


def delete(t: "Tenant", row: dict) -> None:
    """The conversation goes, with its messages, threads and handoffs."""
    with t.store.atomic():
        for table in (MESSAGES, THREADS, HANDOFFS):
            t.store.delete(table, "conversation_id = ?", [row["id"]])
        t.store.delete(TABLE, "id = ?", [row["id"]])
    t.changes.notify()


def create_thread(t: "Tenant", row: dict, parent_id: str, title: str | None) -> dict:
    parent = message(t, row, parent_id)
    with t.store.atomic():
        return t.store.insert(THREADS, {
            "id": t.new_id("thr"), "tenant": t.name, "conversation_id": row["id"],
            "parent_message_id": parent["id"], "title": title, "created_at": t.now_iso()})


def handoff(t: "Tenant", row: dict, reason: str, to: str, metadata: dict | None) -> dict:
    """Hand the conversation to a human (pending until resolved) or to another agent (at once)."""
    if row["status"] == "archived":
        raise Conflict(f"Conversation {row['id']} is archived; unarchive it first.", {"status": row["status"]})
    current = open_handoff(t, row["id"])
    if current is not None:
        raise Conflict(f"Conversation {row['id']} already has an open handoff ({current['id']}); resolve it first.",
                       {"handoffId": current["id"], "status": current["status"]})
    target = to.removeprefix("agent:") if to.startswith("agent:") else None
    answering = None
    if target is not None:
        orchestration.check_agent_ref(t, "to", target)
        answering = profile(t, target)
    now = t.now_iso()
    with t.store.atomic():
        created = t.store.insert(HANDOFFS, {
            "id": t.new_id("hnd"), "tenant": t.name, "conversation_id": row["id"],
            "reason": reason, "to_target": to, "metadata": metadata or {},
            "status": "pending" if target is None else "accepted", "requested_at": now, "resolved_at": None})
        if target is None:
            update(t, row, {"status": "handed_off"})
        else:
            update(t, row, {"agent_ref": target, "profile": answering})
    return created


def resolve_handoff(t: "Tenant", row: dict) -> dict:
    current = open_handoff(t, row["id"])
    if current is None:
        raise Conflict(f"Conversation {row['id']} has no open handoff to resolve.", {"status": row["status"]})
    now = t.now_iso()
    with t.store.atomic():
        t.store.update(HANDOFFS, current["id"], {"status": "resolved", "resolved_at": now})
        if row["status"] == "handed_off":
            update(t, row, {"status": "active"})
    return t.store.find(HANDOFFS, "id = ?", [current["id"]], order=None)


# ---- the context window ----

class Window(NamedTuple):
    messages: list[dict]  # what a reply sees, oldest first
    summary: str | None
    total: int  # messages in the line (the conversation, or a thread with its parent's line)
    tokens: int


def message_tokens(row: dict) -> int:
    return row["token_count"] if row["token_count"] is not None else tokens(row["content"] or "")


def _line(t: "Tenant", row: dict, thread_id: str | None) -> list[dict]:
    """The messages a reply in the conversation (or in one of its threads) follows, oldest first."""
    if thread_id is None:
        return t.store.rows(MESSAGES, "conversation_id = ? AND thread_id IS NULL", [row["id"]])
    found = t.store.find(THREADS, "id = ?", [thread_id], order=None, columns="parent_message_id")
    parent = found["parent_message_id"] if found else None
    return t.store.rows(MESSAGES, "conversation_id = ? AND ((thread_id IS NULL AND id <= ?) OR thread_id = ?)",
                        [row["id"], parent, thread_id])


def context_window(t: "Tenant", row: dict, thread_id: str | None = None) -> Window:
    line, config = _line(t, row, thread_id), row["context"] or {}
    strategy, summary = config.get("strategy") or "full", None
    kept = line
    if strategy == "sliding_window":
        budget, used, kept = config.get("maxTokens") or DEFAULT_WINDOW_TOKENS, 0, []
        for item in reversed(line):
            used += message_tokens(item)
            if used > budget and kept:
                break
            kept.insert(0, item)
    elif strategy == "summarize":
        after = config.get("summarizeAfter") or DEFAULT_SUMMARIZE_AFTER
        if len(line) > after:
            older, kept = line[:-after], line[-after:]
            asked = [shorten(m["content"] or "", 60) for m in older if m["role"] == "user"]
            summary = (f"Summary of {len(older)} earlier messages"
                       + (f"; the user asked: {'; '.join(asked)}" if asked else "") + ".")
    count = sum(message_tokens(m) for m in kept) + (tokens(summary) if summary else 0)
    count += tokens(row["system_prompt"]) if row["system_prompt"] else 0
    return Window(kept, summary, len(line), count)


def context_state(t: "Tenant", row: dict) -> dict[str, Any]:
    """The SDK's ChatContextState (`strategy` always present: `full` unless configured)."""
    window = context_window(t, row)
    config = row["context"] or {}
    return {"totalMessages": window.total, "contextMessages": len(window.messages), "contextTokens": window.tokens,
            "summary": window.summary, "strategy": config.get("strategy") or "full",
            "maxTokens": config.get("maxTokens"), "summarizeAfter": config.get("summarizeAfter")}


def lines_of(history: list[dict], summary: str | None) -> tuple[tuple[str, str], ...]:
    """The window as (role, content) pairs for the mock engine, the summary first."""
    pairs = [("system", summary)] if summary else []
    return tuple(pairs + [(m["role"], m["content"] or "") for m in history])


def touched(t: "Tenant", row: dict, added: int, cents: int, at_ms: int) -> None:
    t.store.execute(f"UPDATE {TABLE} SET message_count = message_count + :added, total_cents = total_cents + :cents, "
                    "last_message_at = :at, updated_at = :at WHERE tenant = :tenant AND id = :id",
                    added=added, cents=cents, at=iso(at_ms), id=row["id"])
