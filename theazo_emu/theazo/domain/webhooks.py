"""Theazo's webhook deliveries: its declaration for the delivery machine (core/delivery.py),
and what only Theazo does with deliveries.

DELIVERY declares Theazo's tables (webhook_deliveries; the webhooks endpoints, whose rows
routes/webhooks.py owns), its headers (`X-Theazo-Signature: sha256=<hex HMAC-SHA256 of the
raw body, keyed with the endpoint's secret>`, signing.sign, as trigger fires are checked,
with `X-Theazo-Event`, `X-Theazo-Delivery`, `X-Theazo-Webhook-Id` and `X-Theazo-Attempt`),
`delivered` for a delivered delivery and journal kind `webhook`. `enqueue` makes one
delivery per event and subscribed endpoint, due when the event happens, with the body
`{id, type, createdAt, data}`. A run's end is due at the run's end: `hold` keeps it while
the run is paused (status held), `release` makes it due again at its new instant, `cancel`
drops it when the run is terminated.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from theazo_emu.core import delivery, signing
from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import associated_data

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant
    from theazo_emu.theazo.domain.platform_event import Event

ENDPOINTS, TABLE = "webhooks", "webhook_deliveries"


def secret_aad(tenant: str, webhook_id: str) -> bytes:
    return associated_data(tenant, "webhook-secret", webhook_id)


def has_endpoints(t: "Tenant") -> bool:
    """Whether the tenant has any webhook endpoint (the one question every publish asks)."""
    return bool(t.store.select("SELECT EXISTS (SELECT 1 FROM webhooks WHERE tenant = :tenant) AS any")[0]["any"])


def subscribed(events: list[str], kind: str) -> bool:
    return kind in events or "*" in events


def enqueue(t: "Tenant", events: Iterable["Event"], only: str | None = None, send_now: bool = True) -> list[dict]:
    """One pending delivery per event and endpoint subscribed to it (`only`: that endpoint,
    whatever it subscribes to), handed to the tenant's outbox (core/delivery.queue): those
    due now are sent at once unless `send_now` is False (the caller sends them itself).
    Returns the rows."""
    hooks = t.store.rows(ENDPOINTS, order=None, columns="id, events")
    if not hooks:
        return []
    rows = []
    for event in events:
        targets = [h["id"] for h in hooks if (h["id"] == only if only else subscribed(h["events"], event.type))]
        if not targets:
            continue
        event_id = t.new_id("evt")
        payload = json.dumps({"id": event_id, "type": event.type, "createdAt": iso(event.at_ms), "data": event.data},
                             separators=(",", ":"), ensure_ascii=False)
        rows += [delivery.new_row(t, webhook_id, event_id, event.type, payload, event.at_ms, run_id=event.run_id)
                 for webhook_id in targets]
    return t.outbox(DELIVERY, rows, send_now)


def hold(t: "Tenant", run_id: str) -> None:
    """The run was paused: its end is no longer due at any instant."""
    t.store.execute(f"UPDATE {TABLE} SET status = 'held', due_ms = NULL WHERE tenant = :tenant AND run_id = :run "
                    "AND status = 'pending'", run=run_id)


def release(t: "Tenant", run_id: str, end_ms: int) -> None:
    """The run was resumed: its end is due at its new instant."""
    t.store.execute(f"UPDATE {TABLE} SET status = 'pending', due_ms = :due WHERE tenant = :tenant AND run_id = :run "
                    "AND status = 'held'", due=end_ms, run=run_id)


def cancel(t: "Tenant", run_id: str) -> None:
    """The run was terminated: its planned end will not happen (run.failed is published instead)."""
    t.store.delete(TABLE, "run_id = ? AND status IN ('pending', 'held')", [run_id])


def headers(row: dict[str, Any], attempt: int, secret: str, body: bytes, now_ms: int) -> dict[str, str]:
    """A Theazo delivery's signed headers."""
    return {"X-Theazo-Signature": signing.sign(secret, body), "X-Theazo-Event": row["event_type"],
            "X-Theazo-Delivery": row["id"], "X-Theazo-Webhook-Id": row["webhook_id"],
            "X-Theazo-Attempt": str(attempt)}


DELIVERY = delivery.Product(kind="webhook", deliveries=TABLE, endpoints=ENDPOINTS, secret_aad=secret_aad,
                            headers=headers, user_agent="webhooks", status_field="responseStatus")


class DeliveryTimer(delivery.Timer):
    """Theazo's webhook deliveries fall due."""

    product = DELIVERY
