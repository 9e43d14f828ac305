"""Theo's events: what webhooks and hooks are told about (theo-api.md §1.3's event types).

`publish()` is the one way an event happens: it writes one `evt_` row (type, data, virtual
time) in the caller's transaction, journals it (`/_emu/requests?kind=theo_event`), runs the
hooks whose pattern matches (hooks.py) and queues a signed delivery to every enabled
webhook subscribed to it (webhooks.py), and says how many of each it reached. `emit()` is
publish for callers that need only the event. Owns the theo_events table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.core.clock import iso
from theazo_emu.core.journal import record_event
from theazo_emu.theo.domain import hooks, webhooks

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "theo_events"


class Published(NamedTuple):
    event: dict[str, Any]
    hooks: int
    webhooks: int


def publish(t: "Tenant", kind: str, data: Any) -> Published:
    """Record an event of this tenant and hand it to its hooks and webhooks."""
    now = t.now_ms()
    row = {"id": t.new_id("evt"), "type": kind, "data": data, "at_ms": now, "created_at": iso(now)}
    t.store.insert(TABLE, row)
    event = event_to_api(row)
    fired = hooks.fire(t, event)
    deliveries = webhooks.enqueue(t, event)
    record_event(t, "theo_event", type=kind, eventId=row["id"], tenant=t.name, hooks=fired,
                 webhooks=len(deliveries))
    return Published(event, fired, len(deliveries))


def emit(t: "Tenant", kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Record an event of this tenant (see publish); returns it in the webhook body's shape."""
    return publish(t, kind, data).event


def event_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "type": row["type"], "created": row["created_at"], "data": row["data"]}


def recent(t: "Tenant", kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """This tenant's latest events (of one type), oldest first."""
    where, params = ("type = ?", [kind]) if kind else ("1", [])
    rows = t.store.rows(TABLE, where, params, order="id DESC", limit=limit)
    return [event_to_api(row) for row in reversed(rows)]
