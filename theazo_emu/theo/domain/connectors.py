"""Connectors: the integrations an org has linked, as far as events tell of them. Owns theo_connectors.

The docs publish `connector.created` and `connector.status_changed` but document no route
to manage connectors, so they exist only where a person at Theo (or the platform) acts:
the admin controls (theo/staff.py) create one and change its status, and each change is
published as the docs' event. STATUSES are the emulator's choice (docs/not-emulated.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.theo.domain import events

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "theo_connectors", "connector"
STATUSES = ("pending", "connected", "error", "disconnected")


def connector_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "type": row["type"], "status": row["status"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


def create(t: "Tenant", name: str, kind: str, status: str) -> dict[str, Any]:
    """A new connector of the tenant (call inside a transaction); connector.created is published."""
    now = t.now_iso()
    row = {"id": t.new_id("conn"), "name": name, "type": kind, "status": status, "created_at": now,
           "updated_at": now}
    t.store.insert(TABLE, row)
    events.emit(t, "connector.created", {"connector_id": row["id"], "name": name, "type": kind, "status": status})
    return row


def set_status(t: "Tenant", row: dict[str, Any], status: str, reason: str | None) -> dict[str, Any]:
    """Move a connector to `status` (call inside a transaction); connector.status_changed is
    published when it changed."""
    if status == row["status"]:
        return row
    changes = {"status": status, "updated_at": t.now_iso()}
    t.store.update(TABLE, row["id"], changes)
    events.emit(t, "connector.status_changed", {"connector_id": row["id"], "name": row["name"], "type": row["type"],
                                                "previous_status": row["status"], "status": status,
                                                "reason": reason})
    return {**row, **changes}
