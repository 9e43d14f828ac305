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
turn the endpoint off, and attempts are journaled as `theo_webhook`. The delivery log the
API shows is one row per attempt (theo_delivery_attempts, written as each attempt settles,
`settled`): `success` or `failed`, `attempt` counting from 1. An attempt's id is its
delivery's for the first attempt (so the id a test or a retry answers names its first row)
and a digest of it and the attempt number after; settling mints no id, so a delivery
answered in the background never shifts the ids of requests made meanwhile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from theazo_emu.core import delivery, signing
from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import associated_data
from theazo_emu.core.ids import digest_id

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

ENDPOINTS, TABLE, ATTEMPTS, KIND = "theo_webhooks", "theo_deliveries", "theo_delivery_attempts", "webhook"
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


def attempt_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """One attempt of the delivery log: the docs' fields and the SDK's camelCase ones."""
    return {"id": row["id"], "delivery_id": row["delivery_id"], "webhook_id": row["webhook_id"],
            "event_id": row["event_id"], "event_type": row["event_type"], "http_status": row["http_status"],
            "error_message": row["error"], "status": row["status"], "attempt": row["attempt"],
            "failed_at": row["failed_at"], "created_at": row["created_at"],
            "webhookId": row["webhook_id"], "eventType": row["event_type"], "statusCode": row["http_status"],
            "attemptCount": row["attempt"], "deliveredAt": None if row["failed_at"] else row["created_at"],
            "error": row["error"]}


def delivery_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """A delivery as the machine holds it, pending, sending or settled (the inspector's view)."""
    return {"id": row["id"], "webhook_id": row["webhook_id"], "event_id": row["event_id"],
            "event_type": row["event_type"], "http_status": row["http_status"], "error_message": row["error"],
            "status": row["status"], "attempt": row["attempts"], "failed_at": row["failed_at"],
            "delivered_at": row["delivered_at"], "created_at": row["created_at"]}


def log(store: "Scoped", webhook_id: str, limit: int = RECENT) -> list[dict[str, Any]]:
    """The endpoint's latest attempts, newest first."""
    rows = store.rows(ATTEMPTS, "webhook_id = ?", [webhook_id], order="at_ms DESC, delivery_id DESC, attempt DESC",
                      limit=limit)
    return [attempt_to_api(row) for row in rows]


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


def settled(t: "Tenant", row: dict[str, Any], now: int) -> None:
    """An attempt settled (core/delivery calls this with the delivery's tenant's handle): its
    row joins the log, and the endpoint's run of failures is reset by a success or, once the
    delivery has failed, grows (past DISABLE_AFTER the endpoint is turned off)."""
    attempt, status = row["attempts"], row["status"]
    t.store.insert(ATTEMPTS, {
        "id": row["id"] if attempt == 1 else digest_id("whd", f"{row['id']}|attempt|{attempt}"),
        "delivery_id": row["id"], "webhook_id": row["webhook_id"], "event_id": row["event_id"],
        "event_type": row["event_type"], "attempt": attempt, "status": "success" if status == "success" else "failed",
        "http_status": row["http_status"], "error": row["error"], "at_ms": now,
        "failed_at": None if status == "success" else iso(now), "created_at": iso(now)})
    if status == "success":
        t.store.update(ENDPOINTS, row["webhook_id"], {"consecutive_failures": 0, "last_delivered_at": iso(now)})
    elif status == "failed":
        t.store.execute(
            "UPDATE theo_webhooks SET consecutive_failures = consecutive_failures + 1, "
            "enabled = CASE WHEN consecutive_failures + 1 >= :limit THEN 0 ELSE enabled END "
            "WHERE id = :id AND tenant = :tenant", limit=DISABLE_AFTER, id=row["webhook_id"])


DELIVERY = delivery.Product(kind="theo_webhook", deliveries=TABLE, endpoints=ENDPOINTS, secret_aad=secret_aad,
                            headers=headers, user_agent="theo-webhooks", status_field="httpStatus",
                            delivered="success", client_error_fails=True, after_settle=settled)


def stats(store: "Scoped", row: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's attempts: total, successes, failures and the success rate."""
    counts = store.find(ATTEMPTS, "webhook_id = ?", [row["id"]], order=None,
                        columns="COUNT(*) AS total, COALESCE(SUM(status = 'success'), 0) AS ok") or {}
    total, ok = counts["total"], counts["ok"]
    return {"webhook_id": row["id"], "enabled": bool(row["enabled"]),
            "consecutive_failures": row["consecutive_failures"], "last_delivered_at": row["last_delivered_at"],
            "deliveries": {"total": total, "successes": ok, "failures": total - ok,
                           "success_rate_percent": round(100 * ok / total, 2) if total else None}}


class TheoDeliveryTimer(delivery.Timer):
    """Theo's webhook deliveries fall due."""

    product = DELIVERY
