"""Theo's events: what webhooks are told about (theo-api.md §1.3's event types).

`emit()` writes one `evt_` row per event (type, data, virtual time) in the caller's
transaction and journals it (`/_emu/requests?kind=theo_event`). This module only records
them, oldest first; delivering them to webhooks belongs to the webhooks family. Owns the
theo_events table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...clock import iso
from ...journal import record_event

if TYPE_CHECKING:
    from ...emulator import Emulator

TABLE = "theo_events"


def emit(emu: "Emulator", tenant: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Record an event of this tenant; returns it in the webhook body's shape."""
    now = emu.clock.now_ms()
    row = {"id": emu.new_id("evt", tenant), "tenant": tenant, "type": kind, "data": data, "at_ms": now,
           "created_at": iso(now)}
    emu.store.insert(TABLE, row)
    record_event(emu, "theo_event", type=kind, eventId=row["id"], tenant=tenant)
    return event_to_api(row)


def event_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "type": row["type"], "created": row["created_at"], "data": row["data"]}


def recent(emu: "Emulator", tenant: str, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """This tenant's latest events (of one type), oldest first."""
    where, params = ("tenant = ? AND type = ?", [tenant, kind]) if kind else ("tenant = ?", [tenant])
    rows = emu.store.all(f"SELECT * FROM theo_events WHERE {where} ORDER BY id DESC LIMIT ?", [*params, limit])
    return [event_to_api(row) for row in reversed(rows)]
