"""Channels as conversations: threads, messages and their replies, and the message stream.

Reference "Channels". The one writer of `channel_threads` and `channel_messages` (the
channel rows and routes are theazo/routes/channels.py). A thread (`thr_`) belongs to a visitor
(`visitorId`, default `visitor`): its first message creates an agent in that visitor's
session, from the channel's agent reference as it resolves then (orchestration.resolve_agent); each message is answered at once by the mock engine (so fixtures apply) and its
model tokens are booked to the ledger. `MessageFollower` streams messages posted after it
opened (or after `Last-Event-ID`) until the channel is deleted or disabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import NotFound
from theazo_emu.core.ids import is_id
from theazo_emu.core.sse import Frame
from theazo_emu.theazo.domain import ledger, limits, pricing
from theazo_emu.theazo.domain.agent_config import AgentConfig
from theazo_emu.theazo.domain.agents import new_agent
from theazo_emu.theazo.domain.orchestration import resolve_agent
from theazo_emu.theazo.domain.sessions import require_active, user_session
from theazo_emu.theazo.mock import RunRequest

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, KIND, THREADS, MESSAGES = "channels", "channel", "channel_threads", "channel_messages"


DEFAULT_VISITOR = "visitor"


def message_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "role": row["role"], "content": row["content"], "threadId": row["thread_id"],
            "channelId": row["channel_id"], "createdAt": row["created_at"]}


def _reply(t: "Tenant", agent: dict, content: str):  # noqa: ANN202 - the engine's RunPlan
    return t.engine.plan_run(RunRequest(
        task=content, instructions=agent["instructions"] or "", tools=tuple(agent["tools"] or ()),
        model=agent["model"], definition_id=agent["definition_id"], timeout_s=agent["timeout_s"]))


def messages_after(t: "Tenant", channel_id: str, thread_id: str | None, after: str, limit: int) -> list[dict]:
    where, params = "channel_id = ? AND id > ?", [channel_id, after]
    if thread_id is not None:
        where += " AND thread_id = ?"
        params.append(thread_id)
    return t.store.rows(MESSAGES, where, params, limit=limit)


class MessageFollower:
    """Hands out messages newer than the last one sent; ends when the channel goes away or is disabled."""

    def __init__(self, t: "Tenant", channel: dict, thread_id: str | None, last: str) -> None:
        self.t, self.channel_id, self.thread_id = t, channel["id"], thread_id
        if is_id(last, "msg"):
            self.after = last
        else:
            where, params = "channel_id = ?", [self.channel_id]
            if thread_id is not None:
                where, params = where + " AND thread_id = ?", [*params, thread_id]
            self.after = self.t.store.value(MESSAGES, "MAX(id)", where, params) or ""

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        rows = messages_after(self.t, self.channel_id, self.thread_id, self.after, 500)
        frames = [Frame("message", {"type": "message", **message_to_api(r)}, r["id"]) for r in rows]
        if rows:
            self.after = rows[-1]["id"]
        channel = self.t.store.find(TABLE, "id = ?", [self.channel_id], order=None, columns="enabled")
        return frames, channel is None or not channel["enabled"], None


def thread(t: "Tenant", channel: dict, thread_id: str) -> dict:
    """The channel's thread with this id (404 otherwise)."""
    row = t.store.find(THREADS, "id = ? AND channel_id = ?", [thread_id, channel["id"]], order=None)
    if row is None:
        raise NotFound("thread", thread_id)
    return row


def _new_thread(t: "Tenant", channel: dict, visitor: str | None) -> dict:
    """A thread for the visitor, with the agent that answers it."""
    tenant, user_id = t.name, visitor or DEFAULT_VISITOR
    session, _ = user_session(t, user_id)
    ref = channel["agent"] or channel["definition_id"]
    fields = resolve_agent(t, ref).fields if ref else {}
    if channel["instructions"]:
        fields["instructions"] = channel["instructions"]
    agent = new_agent(t, session, AgentConfig(**fields))
    return t.store.insert(THREADS, {
        "id": t.new_id("thr"), "tenant": tenant, "channel_id": channel["id"], "user_id": user_id,
        "agent_id": agent["id"], "session_id": session["id"], "message_count": 0, "started_at": t.now_iso(),
        "last_message_at": None,
    })


def post(t: "Tenant", channel: dict, thread_id: str | None, visitor: str | None, content: str) -> dict:
    """A user message in the thread (a new thread when `thread_id` is None) and the agent's
    reply, with its tokens booked; returns the reply's row."""
    tenant = t.name
    with t.store.atomic():
        row = thread(t, channel, thread_id) if thread_id is not None else _new_thread(t, channel, visitor)
        agent = t.store.get("agents", row["agent_id"], "agent")
        session = t.store.get("sessions", row["session_id"], "session")
        now_ms = t.now_ms()
        require_active(session, now_ms)
        limits.check(t, session, ("maxCost",))
        reply = _reply(t, agent, content)
        now = iso(now_ms)
        for role, text in (("user", content), ("assistant", reply.output)):
            message = t.store.insert(MESSAGES, {
                "id": t.new_id("msg"), "tenant": tenant, "channel_id": channel["id"],
                "thread_id": row["id"], "role": role, "content": text, "created_at": now})
        t.store.execute("UPDATE channel_threads SET message_count = message_count + 2, last_message_at = :now "
                        "WHERE tenant = :tenant AND id = :id", now=now, id=row["id"])
        ledger.book(t.store, ledger.charge(
            tenant, now_ms, "model", pricing.model_cents(agent["model"], reply.input_tokens, reply.output_tokens),
            input_tokens=reply.input_tokens, output_tokens=reply.output_tokens, calls=1, user_id=row["user_id"],
            session_id=session["id"], agent_id=agent["id"], model=pricing.model_key(agent["model"]),
            provider=agent["provider"]))
    t.changes.notify()
    return message


def delete(t: "Tenant", channel: dict) -> None:
    """The channel goes, with its threads and messages."""
    with t.store.atomic():
        for table in (MESSAGES, THREADS, TABLE):
            t.store.delete(table, f"{'id' if table == TABLE else 'channel_id'} = ?", [channel["id"]])
    t.changes.notify()
