"""Theo webhooks: the endpoints, and Theo's declaration for the delivery machine (core/delivery.py).

theo-api.md §1.3 and §3.7. Owns theo_webhooks (theo_deliveries is declared here and kept by
core/delivery.py). An endpoint has a URL (checked by urls.blocked), the event types it
wants (or `*`) and a signing secret, given (16-256 characters) or generated (32 bytes as
hex, derived from the seed, the tenant and a fresh id, so answers stay reproducible),
sealed at rest and shown only on create and rotate. `enqueue` (called by events.publish for
every event) makes one delivery per enabled endpoint subscribed to the event, due at once;
each attempt is a real POST of `{id, type, created, data}` with

    Theo-Webhook-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.<raw body>">
    Theo-Webhook-Timestamp: <unix seconds, virtual clock>    Theo-Webhook-Id: <event id>

signed with the endpoint's secret at the time of the attempt (a rotation stops the old one
at once). DELIVERY says what is Theo's in how deliveries go: a 2xx is `success`, a 4xx
fails the delivery at once (anything else is retried on the virtual clock,
`TheoDeliveryTimer`, registered in registry.py), DISABLE_AFTER failed deliveries in a row
turn the endpoint off (`count_failures`), and attempts are journaled as `theo_webhook`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from theazo_emu.core import delivery, signing
from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import associated_data

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

ENDPOINTS, TABLE, KIND = "theo_webhooks", "theo_deliveries", "webhook"
EVENT_TYPES = ("completion.created", "job.completed", "job.failed", "workflow.completed", "workflow.failed",
               "skill.installed", "skill.uninstalled", "skill.submitted", "skill.approved", "skill.rejected",
               "skill.suspended", "connector.created", "connector.status_changed", "credits.low", "key.created",
               "key.revoked", "rate_limit.upgraded")
DISABLE_AFTER = 5  # failed deliveries in a row
MAX_ACTIVE = 25  # enabled endpoints per tenant
RECENT = 50  # deliveries listed


def secret_aad(tenant: str, webhook_id: str) -> bytes:
    return associated_data(tenant, "theo-webhook-secret", webhook_id)


def generated_secret(t: "Tenant", nonce: str) -> str:
    """32 bytes as 64 hex characters, derived from the seed, the tenant and a fresh id."""
    key = f"theazo-emu|theo-webhook-secret|{t.settings.seed}".encode()
    return hmac.new(key, f"{t.name}|{nonce}".encode(), hashlib.sha256).hexdigest()


def uuid_of(ident: str) -> str:
    """A uuid-shaped id for a row (the docs' webhook and skill ids are uuids): a digest of its id."""
    h = hashlib.sha256(ident.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def webhook_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """The docs' snake_case record and the SDK's camelCase one (it only casts: both are read)."""
    return {"id": row["id"], "url": row["url"], "event_types": row["event_types"], "enabled": bool(row["enabled"]),
            "description": row["description"], "last_delivered_at": row["last_delivered_at"],
            "failure_count": row["consecutive_failures"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "eventTypes": row["event_types"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def delivery_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "webhook_id": row["webhook_id"], "event_id": row["event_id"],
            "event_type": row["event_type"], "http_status": row["http_status"], "error_message": row["error"],
            "status": row["status"], "attempt": row["attempts"], "failed_at": row["failed_at"],
            "delivered_at": row["delivered_at"], "created_at": row["created_at"],
            "webhookId": row["webhook_id"], "eventType": row["event_type"], "statusCode": row["http_status"],
            "attemptCount": row["attempts"], "deliveredAt": row["delivered_at"], "error": row["error"]}


def create(t: "Tenant", *, url: str, event_types: list[str], secret: str | None,
           description: str | None) -> tuple[dict[str, Any], str]:
    """A new enabled endpoint (call inside a transaction): (its row, its signing secret)."""
    now = t.now_iso()
    ident = t.new_id("wh")
    secret = secret or generated_secret(t, ident)
    uuid = uuid_of(ident)
    row = {"id": uuid, "url": url, "event_types": event_types, "enabled": 1, "description": description,
           "secret_sealed": t.cipher.seal(secret.encode(), secret_aad(t.name, uuid)),
           "consecutive_failures": 0, "last_delivered_at": None, "seq": t.store.next_seq(),
           "created_at": now, "updated_at": now}
    t.store.insert(ENDPOINTS, row)
    return row, secret


def rotate(t: "Tenant", row: dict[str, Any]) -> str:
    """A new generated secret; the old one signs nothing from now on."""
    secret = generated_secret(t, t.new_id("whs"))
    sealed = t.cipher.seal(secret.encode(), secret_aad(t.name, row["id"]))
    t.store.update(ENDPOINTS, row["id"], {"secret_sealed": sealed, "updated_at": t.now_iso()})
    return secret


def active_count(store: "Scoped") -> int:
    return store.count(ENDPOINTS, "enabled = 1")


def subscribed(event_types: list[str], kind: str) -> bool:
    return kind in event_types or "*" in event_types


def enqueue(t: "Tenant", event: dict[str, Any], only: str | None = None,
            send_now: bool = True) -> list[dict[str, Any]]:
    """One pending delivery of `event` ({id, type, created, data}) per enabled endpoint
    subscribed to it (`only`: that endpoint, whatever it subscribes to), due now and sent at
    once unless `send_now` is False (the caller sends it itself). Returns the rows."""
    hooks = t.store.rows(ENDPOINTS, columns="id, event_types, enabled", order="seq")
    targets = [h["id"] for h in hooks if (h["id"] == only if only else h["enabled"] and
                                          subscribed(h["event_types"], event["type"]))]
    if not targets:
        return []
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    now = t.now_ms()
    rows = [delivery.new_row(t, webhook_id, event["id"], event["type"], payload, now) for webhook_id in targets]
    return t.outbox(DELIVERY, rows, send_now)


def resend(t: "Tenant", stored: dict[str, Any]) -> dict[str, Any]:
    """A new delivery of a stored payload to its endpoint's current URL (sent at once)."""
    (row,) = t.outbox(DELIVERY, [delivery.new_row(t, stored["webhook_id"], stored["event_id"], stored["event_type"],
                                          stored["payload"], t.now_ms())])
    return row


def headers(row: dict[str, Any], attempt: int, secret: str, body: bytes, now_ms: int) -> dict[str, str]:
    """A Theo delivery's signed headers: the signature covers the timestamp (virtual seconds)."""
    timestamp = now_ms // 1000
    return {"Theo-Webhook-Signature": signing.sign_timestamped(secret, timestamp, body),
            "Theo-Webhook-Timestamp": str(timestamp), "Theo-Webhook-Id": row["event_id"],
            "Theo-Webhook-Event": row["event_type"], "Theo-Webhook-Delivery": row["id"],
            "Theo-Webhook-Attempt": str(attempt)}


def count_failures(t: "Tenant", row: dict[str, Any], status: str, now: int) -> None:
    """The endpoint's run of failures: reset by a success, and past DISABLE_AFTER it is turned off.
    core/delivery calls it, with the delivery's tenant's handle, when a delivery settles."""
    if status == "success":
        t.store.update(ENDPOINTS, row["webhook_id"], {"consecutive_failures": 0, "last_delivered_at": iso(now)})
    elif status == "failed":
        t.store.execute(
            "UPDATE theo_webhooks SET consecutive_failures = consecutive_failures + 1, "
            "enabled = CASE WHEN consecutive_failures + 1 >= :limit THEN 0 ELSE enabled END "
            "WHERE id = :id AND tenant = :tenant", limit=DISABLE_AFTER, id=row["webhook_id"])


DELIVERY = delivery.Product(kind="theo_webhook", deliveries=TABLE, endpoints=ENDPOINTS, secret_aad=secret_aad,
                            headers=headers, user_agent="theo-webhooks", status_field="httpStatus",
                            delivered="success", client_error_fails=True, after_settle=count_failures)


def stats(store: "Scoped", row: dict[str, Any]) -> dict[str, Any]:
    counts = store.find(TABLE, "webhook_id = ?", [row["id"]], order=None,
                        columns="COUNT(*) AS total, COALESCE(SUM(status = 'success'), 0) AS ok, "
                                "COALESCE(SUM(status = 'failed'), 0) AS failed") or {}
    settled = counts["ok"] + counts["failed"]
    return {"webhook_id": row["id"], "enabled": bool(row["enabled"]),
            "consecutive_failures": row["consecutive_failures"], "last_delivered_at": row["last_delivered_at"],
            "deliveries": {"total": counts["total"], "successes": counts["ok"], "failures": counts["failed"],
                           "success_rate_percent": round(100 * counts["ok"] / settled, 1) if settled else None}}


class TheoDeliveryTimer(delivery.Timer):
    """Theo's webhook deliveries fall due."""

    product = DELIVERY
