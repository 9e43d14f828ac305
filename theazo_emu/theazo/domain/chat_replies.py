"""Chat messages: posting one and its reply, the reply's stream, system context, and search.

The one writer of `chat_messages`. Posting checks the conversation (409 unless active),
its session (409 unless active; 402 once `maxCost` is reached), the message (guardrails),
then settles the reply at once with the mock engine (`Engine.plan_chat`: fixtures' `chat`
entries, else the default reply, which sees the context window), screens it (guardrails),
and writes both messages, the model tokens to the ledger (chat replies are not agent runs:
no compute) and the conversation's counters in one transaction; a refusal stores nothing.
The reply keeps its stream's frames with the virtual instant each is released at (from
the post, or all at once under `--pace instant`); `ReplyFollower` sends them and ends the
stream after `done`, so the SDK's reader, which stops only when the server closes, ends.
Search ranks messages with BM25 over the words of the query (case-insensitive; the newest
SEARCH_SCAN messages in scope), ties newest first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict
from theazo_emu.core.sse import Frame
from theazo_emu.theazo.domain import chat, guardrails, ledger, limits, pricing
from theazo_emu.theazo.domain.sessions import require_active
from theazo_emu.theazo.mock.chat import ChatRequest, tokens

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

_WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_SCAN = 5000  # messages a search reads at most (the newest first)
BM25_K1, BM25_B = 1.2, 0.75


def message_to_api(row: dict) -> dict[str, Any]:
    """The SDK's ChatMessage, with its conversation and thread."""
    return {"id": row["id"], "role": row["role"], "content": row["content"], "toolCalls": row["tool_calls"],
            "attachments": row["attachments"] or [], "cost": pricing.cost(row["cost_cents"]),
            "tokenCount": row["token_count"], "createdAt": row["created_at"],
            "conversationId": row["conversation_id"], "threadId": row["thread_id"]}


def _writable(t: "Tenant", row: dict) -> dict:
    """The conversation's session, after refusing a post that cannot be answered now."""
    if row["status"] == "archived":
        raise Conflict(f"Conversation {row['id']} is archived; unarchive it to post.", {"status": row["status"]})
    if row["status"] == "handed_off":
        raise Conflict(f"Conversation {row['id']} is handed off to a human; resolve the handoff to post.",
                       {"status": row["status"]})
    session = t.store.get("sessions", row["session_id"], "session")
    require_active(session, t.now_ms())
    return session


def post(t: "Tenant", row: dict, content: str, attachments: list[str], thread_id: str | None) -> dict:
    """The user's message and the agent's reply; returns the reply's row."""
    tenant = t.name
    if thread_id is not None:
        chat.thread(t, row, thread_id)  # 404 unless it is this conversation's
    session = _writable(t, row)
    limits.check(t, session, ("maxCost",))
    who = {"session_id": session["id"], "conversation_id": row["id"]}
    guardrails.check_input(t, content, field="content", source="chat", **who)
    window = chat.context_window(t, row, thread_id)
    agent = row["profile"]
    system = "\n\n".join(part for part in (row["system_prompt"], agent["instructions"]) if part)
    plan = t.engine.plan_chat(ChatRequest(
        message=content, history=chat.lines_of(window.messages, window.summary), system=system,
        tools=tuple(agent["tools"]), model=agent["model"],
        agent=agent["definitionName"] or (row["agent_ref"] if isinstance(row["agent_ref"], str) else ""),
        tenant=tenant))
    steps = [guardrails.Step(e.offset_ms, e.type, e.data.get("input") if e.type == "tool_call" else e.data["output"])
             for e in plan.events if e.type in ("tool_call", "tool_result")]
    guardrails.screen_chat(t, [*steps, guardrails.Step(plan.duration_ms, "output", plan.reply)],
                           plan.output_tokens, **who)
    cents = (pricing.model_cents(agent["model"], plan.input_tokens, plan.output_tokens)
             if plan.cost_cents is None else plan.cost_cents)
    now = t.now_ms()
    instant = t.settings.pace == "instant"
    with t.store.atomic():
        t.store.insert(chat.MESSAGES, _message(t, row, thread_id, "user", content, now, attachments=attachments,
                                               token_count=tokens(content)))
        reply = _message(t, row, thread_id, "assistant", plan.reply, now, cost_cents=cents,
                         token_count=plan.output_tokens, tool_calls=list(plan.tool_calls) or None)
        done = {"type": "done", "messageId": reply["id"], "cost": pricing.cost(cents),
                "tokenCount": plan.output_tokens, "conversationId": row["id"], "content": plan.reply}
        reply["events"] = [{"at": now if instant else now + e.offset_ms, "event": e.type, "data": e.data}
                           for e in plan.events] + [{"at": now if instant else now + plan.duration_ms,
                                                     "event": "done", "data": done}]
        reply["stream_ms"] = now
        t.store.insert(chat.MESSAGES, reply)
        chat.touched(t, row, 2, cents, now)
        ledger.book(t.store, ledger.charge(
            tenant, now, "model", cents, input_tokens=plan.input_tokens, output_tokens=plan.output_tokens, calls=1,
            user_id=row["user_id"], session_id=session["id"], agent_id=None, model=pricing.model_key(agent["model"]),
            provider=None))
    t.changes.notify()
    return reply


def _message(t: "Tenant", row: dict, thread_id: str | None, role: str, content: str, now: int, *,
             attachments: list[str] | None = None, cost_cents: int = 0, token_count: int | None = None,
             tool_calls: list | None = None) -> dict[str, Any]:
    return {"id": t.new_id("msg"), "tenant": t.name, "conversation_id": row["id"],
            "thread_id": thread_id, "role": role, "content": content, "tool_calls": tool_calls,
            "attachments": attachments or [], "cost_cents": cost_cents, "token_count": token_count,
            "events": None, "stream_ms": None, "created_at": iso(now)}


def inject(t: "Tenant", row: dict, content: str) -> dict:
    """A system message in the conversation: part of the context of the replies after it."""
    if row["status"] == "archived":
        raise Conflict(f"Conversation {row['id']} is archived; unarchive it first.", {"status": row["status"]})
    now = t.now_ms()
    with t.store.atomic():
        message = t.store.insert(chat.MESSAGES, _message(t, row, None, "system", content, now,
                                                         token_count=tokens(content)))
        chat.touched(t, row, 1, 0, now)
    return message


class ReplyFollower:
    """Hands out a reply's stream frames as the clock releases them; finished after `done`."""

    def __init__(self, t: "Tenant", reply: dict) -> None:
        self.t, self.id, self.events, self.sent = t, reply["id"], reply["events"] or [], 0

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        now, frames = self.t.now_ms(), []
        while self.sent < len(self.events) and self.events[self.sent]["at"] <= now:
            event = self.events[self.sent]
            self.sent += 1
            frames.append(Frame(event["event"], event["data"], f"{self.id}:{self.sent}"))
        finished = self.sent >= len(self.events)
        return frames, finished, None if finished else self.events[self.sent]["at"]


def search(t: "Tenant", query: str, user_id: str | None, conversation_id: str | None,
           limit: int) -> list[dict[str, Any]]:
    """The tenant's messages that share words with the query, best first (ties: newest first)."""
    terms = set(_WORD.findall(query.casefold()))
    where = "m.tenant = :tenant AND m.content IS NOT NULL"
    if user_id is not None:
        where += " AND c.user_id = :user"
    if conversation_id is not None:
        where += " AND m.conversation_id = :conversation"
    rows = t.store.select("SELECT m.* FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id "
                          f"AND c.tenant = :tenant WHERE {where} ORDER BY m.id DESC LIMIT :scan", user=user_id,
                          conversation=conversation_id, scan=SEARCH_SCAN)
    counted = [(row, Counter(_WORD.findall(row["content"].casefold()))) for row in rows]
    frequency = Counter(term for _, words in counted for term in terms if term in words)
    average = sum(sum(words.values()) for _, words in counted) / len(counted) if counted else 1
    scored = []
    for row, words in counted:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(words.values()) / (average or 1))
        score = sum(math.log(1 + (len(counted) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                    * words[term] * (BM25_K1 + 1) / (words[term] + norm) for term in terms if words[term])
        if score > 0:
            scored.append((round(score, 4), row))
    scored.sort(key=lambda pair: -pair[0])  # stable: among equal scores the newest stays first
    return [{"conversationId": row["conversation_id"], "messageId": row["id"], "content": row["content"],
             "score": score, "createdAt": row["created_at"], "role": row["role"]} for score, row in scored[:limit]]
