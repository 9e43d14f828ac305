"""Webhook deliveries: signed POSTs of platform events, retried with backoff on the virtual clock.

Owns the webhook_deliveries table (resources/webhooks.py owns the endpoints'). `enqueue`
makes one delivery per event and subscribed endpoint, due when the event happens; the
body is `{id, type, createdAt, data}` and is signed as it is sent:
`X-Theazo-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the endpoint's
secret>` (signing.sign, as trigger fires are checked), with `X-Theazo-Event`,
`X-Theazo-Delivery` and `X-Theazo-Attempt`. Deliveries due now go out at once; later ones
when the virtual clock reaches them (`DeliveryTimer`, registered in registry.py). Each
attempt is a real request (outbound.py, in the background, 10 s); a 2xx answer delivers,
anything else is retried after BACKOFF_MS (virtual time) up to MAX_ATTEMPTS, then the
delivery has failed. Every attempt's outcome is journaled (`kind=webhook`). Statuses:
pending (waits for `due_ms`), held (its run is paused), sending, delivered, failed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from theazo_emu.core import outbound, signing
from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import associated_data
from theazo_emu.core.journal import record_event
from theazo_emu.core.version import __version__

if TYPE_CHECKING:
    from theazo_emu.emulator import Emulator
    from theazo_emu.theazo.domain.events import Event

ENDPOINTS, TABLE = "webhooks", "webhook_deliveries"
MAX_ATTEMPTS = 5
BACKOFF_MS = (10_000, 60_000, 300_000, 1_800_000)  # before attempts 2, 3, 4 and 5
TIMEOUT_S = 10.0
RUN_END = ("run.completed", "run.failed")


def secret_aad(tenant: str, webhook_id: str) -> bytes:
    return associated_data(tenant, "webhook-secret", webhook_id)


def has_endpoints(emu: "Emulator", tenant: str) -> bool:
    """Whether the tenant has any webhook endpoint (the one question every publish asks)."""
    return bool(emu.store.scalar("SELECT EXISTS (SELECT 1 FROM webhooks WHERE tenant = ?)", [tenant]))


def subscribed(events: list[str], kind: str) -> bool:
    return kind in events or "*" in events


def enqueue(emu: "Emulator", tenant: str, events: Iterable["Event"], only: str | None = None,
            send_now: bool = True) -> list[dict]:
    """One pending delivery per event and endpoint subscribed to it (`only`: that endpoint,
    whatever it subscribes to); those due now are sent at once unless `send_now` is False
    (the caller sends them itself). Returns the rows."""
    store = emu.store
    hooks = store.all("SELECT id, events FROM webhooks WHERE tenant = ?", [tenant])
    if not hooks:
        return []
    now, rows = emu.clock.now_ms(), []
    for event in events:
        targets = [h["id"] for h in hooks if (h["id"] == only if only else subscribed(h["events"], event.type))]
        if not targets:
            continue
        event_id = emu.new_id("evt", tenant)
        payload = json.dumps({"id": event_id, "type": event.type, "createdAt": iso(event.at_ms), "data": event.data},
                             separators=(",", ":"), ensure_ascii=False)
        for webhook_id in targets:
            rows.append({"id": emu.new_id("whd", tenant), "tenant": tenant, "webhook_id": webhook_id,
                         "event_id": event_id, "event_type": event.type, "run_id": event.run_id, "payload": payload,
                         "status": "pending", "attempts": 0, "due_ms": event.at_ms, "http_status": None,
                         "error": None, "delivered_at": None, "failed_at": None, "created_at": iso(now), "updated_at": iso(now)})
    store.insert_many(TABLE, rows)
    if send_now and any(row["due_ms"] <= now for row in rows):
        send_due(emu, now)
    if rows:
        emu.changes.notify()  # the timers loop may have an earlier instant now
    return rows


def hold(emu: "Emulator", run_id: str) -> None:
    """The run was paused: its end is no longer due at any instant."""
    emu.store.db.execute(f"UPDATE {TABLE} SET status = 'held', due_ms = NULL WHERE run_id = ? AND status = 'pending'",
                         [run_id])


def release(emu: "Emulator", run_id: str, end_ms: int) -> None:
    """The run was resumed: its end is due at its new instant."""
    emu.store.db.execute(f"UPDATE {TABLE} SET status = 'pending', due_ms = ? WHERE run_id = ? AND status = 'held'",
                         [end_ms, run_id])


def cancel(emu: "Emulator", run_id: str) -> None:
    """The run was terminated: its planned end will not happen (run.failed is published instead)."""
    emu.store.db.execute(f"DELETE FROM {TABLE} WHERE run_id = ? AND status IN ('pending', 'held')", [run_id])


def send_due(emu: "Emulator", at_ms: int) -> list[dict[str, Any]]:
    """Send every pending delivery due by `at_ms` (in due order); describe each."""
    rows = emu.store.all(f"SELECT * FROM {TABLE} WHERE status = 'pending' AND due_ms <= ? ORDER BY due_ms, id",
                         [at_ms])
    return [send(emu, row) for row in rows]


def send(emu: "Emulator", row: dict) -> dict[str, Any]:
    """Start one attempt of a delivery (in the background; `settle` records its outcome)."""
    request, attempt = attempt_request(emu, row)
    answered = outbound.launch(emu, request, lambda outcome: settle(emu, row["id"], attempt, outcome))
    if answered is not None:  # no event loop: the call was made in place
        settle(emu, row["id"], attempt, answered)
    return {"type": "webhook", "deliveryId": row["id"], "webhookId": row["webhook_id"], "event": row["event_type"],
            "attempt": attempt}


def attempt_request(emu: "Emulator", row: dict) -> tuple[dict[str, Any], int]:
    """Mark the delivery `sending` and build its signed request; (request, attempt number)."""
    hook = emu.store.one("SELECT * FROM webhooks WHERE id = ?", [row["webhook_id"]])
    assert hook is not None  # deleting an endpoint deletes its deliveries
    secret = emu.cipher.open(hook["secret_sealed"], secret_aad(hook["tenant"], hook["id"])).decode()
    attempt, body = row["attempts"] + 1, row["payload"].encode()
    emu.store.update(TABLE, row["id"], {"status": "sending", "attempts": attempt, "due_ms": None,
                                        "updated_at": emu.clock.now_iso()})
    headers = {"Content-Type": "application/json", "User-Agent": f"theazo-emu/{__version__} (webhooks)",
               "X-Theazo-Signature": signing.sign(secret, body), "X-Theazo-Event": row["event_type"],
               "X-Theazo-Delivery": row["id"], "X-Theazo-Webhook-Id": hook["id"], "X-Theazo-Attempt": str(attempt)}
    return {"url": hook["url"], "method": "POST", "headers": headers, "content": body, "timeoutS": TIMEOUT_S}, attempt


def settle(emu: "Emulator", delivery_id: str, attempt: int, outcome: dict[str, Any]) -> dict[str, Any] | None:
    """Record an attempt's outcome: delivered, retried after the backoff, or failed; journaled."""
    store = emu.store
    row = store.one(f"SELECT * FROM {TABLE} WHERE id = ?", [delivery_id])
    if row is None or row["status"] != "sending" or row["attempts"] != attempt:
        return None  # its endpoint was deleted meanwhile, or a reset forgot it
    now = emu.clock.now_ms()
    answer = outcome.get("output") or {}
    changes: dict[str, Any] = {"http_status": answer.get("status"), "updated_at": iso(now),
                               "error": None if outcome["ok"] else outcome["message"][:500]}
    if outcome["ok"]:
        changes.update(status="delivered", delivered_at=iso(now))
    elif attempt < MAX_ATTEMPTS:
        changes.update(status="pending", due_ms=now + BACKOFF_MS[attempt - 1])
    else:
        changes.update(status="failed", failed_at=iso(now))
    store.update(TABLE, delivery_id, changes)
    entry = {"webhookId": row["webhook_id"], "deliveryId": delivery_id, "eventId": row["event_id"],
             "event": row["event_type"], "attempt": attempt, "outcome": changes["status"],
             "responseStatus": changes["http_status"], "error": changes["error"],
             "nextAttemptAt": iso(changes["due_ms"]) if changes.get("due_ms") else None}
    record_event(emu, "webhook", tenant=row["tenant"], **entry)
    emu.changes.notify()
    return entry


class DeliveryTimer:
    """The timers.TimerSource of webhook deliveries: an attempt falls due."""

    def next_due(self, emu: "Emulator") -> int | None:
        return emu.store.scalar(f"SELECT MIN(due_ms) FROM {TABLE} WHERE status = 'pending'")

    def fire(self, emu: "Emulator", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        return send_due(emu, at_ms)
