"""Webhook delivery: signed POSTs of a product's events, retried with backoff on the virtual clock.

Both products deliver their webhooks the same way, so this is the one machine; a product
declares what is its own in a `Product` (its tables, its signed headers, its name for a
delivered delivery, whether a 4xx fails at once, what it does after an attempt settles,
its journal kind). Owns the rows of the delivery tables once queued (each product's
migrations declare them, with the same columns: attempts, due_ms, http_status, error,
event_type, delivered_at, failed_at); the products own their endpoints and build the rows
(`new_row`). A delivery is pending while it waits for `due_ms`, sending during an attempt,
then delivered (the product's name for it) or failed; Theazo also holds a paused run's
end. Deliveries due now go out at once (`queue`), later ones when the virtual clock
reaches them (`Timer`, which each product names in registry.py). Each attempt is a real
request (outbound.py, in the background, TIMEOUT_S): a 2xx delivers, anything else is
retried after BACKOFF_MS of virtual time up to MAX_ATTEMPTS, then the delivery has
failed. Every attempt's outcome is journaled.

An endpoint gets one attempt at a time, in (due, id) order: while one is in flight its
other due deliveries stay pending, and the next starts when it settles. So two deliveries
due at the same instant reach a receiver in the order they were made, and the server
never waits on a receiver. A route's `test` attempt is made in its request, outside this
order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from theazo_emu.core import outbound
from theazo_emu.core.clock import iso
from theazo_emu.core.journal import record_event
from theazo_emu.core.version import __version__

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

MAX_ATTEMPTS = 5
BACKOFF_MS = (10_000, 60_000, 300_000, 1_800_000)  # before attempts 2, 3, 4 and 5
TIMEOUT_S = 10.0
IN_FLIGHT = "delivery.in_flight"  # its key in emu.extras

# (delivery row, attempt number, endpoint secret, raw body, now in ms): the product's signed headers
Headers = Callable[[dict[str, Any], int, str, bytes, int], dict[str, str]]
# (the delivery's tenant's handle, the delivery row as this attempt left it, now in ms): run in the settling transaction
AfterSettle = Callable[["Tenant", dict[str, Any], int], None]


@dataclass(frozen=True)
class Product:
    """What one product's webhook deliveries are made of."""

    kind: str  # the journal's kind of an attempt, and the `type` of what a timer fired
    deliveries: str  # the table of deliveries
    endpoints: str  # the table of endpoints: id, tenant, url, secret_sealed
    secret_aad: Callable[[str, str], bytes]  # (tenant, endpoint id): associated data of the sealed secret
    headers: Headers
    user_agent: str  # in parentheses after theazo-emu/<version>
    status_field: str  # the journal's name for the answer's HTTP status
    delivered: str = "delivered"  # the status of a delivered delivery
    client_error_fails: bool = False  # a 4xx answer fails the delivery at once
    after_settle: AfterSettle | None = None


def new_row(t: "Tenant", webhook_id: str, event_id: str, event_type: str, payload: str, due_ms: int,
            **own: Any) -> dict[str, Any]:
    """A pending delivery of the tenant's (`own`: the product's own columns), with a fresh id."""
    now = t.now_iso()
    return {"id": t.new_id("whd"), "tenant": t.name, "webhook_id": webhook_id, "event_id": event_id,
            "event_type": event_type, **own, "payload": payload, "status": "pending", "attempts": 0,
            "due_ms": due_ms, "http_status": None, "error": None, "delivered_at": None, "failed_at": None,
            "created_at": now, "updated_at": now}


def queue(emu: "Host", product: Product, rows: list[dict[str, Any]], send_now: bool = True) -> list[dict]:
    """Store pending deliveries; those due now are sent at once unless `send_now` is False
    (the caller sends them itself). Returns the rows."""
    if not rows:
        return rows
    emu.store.insert_many(product.deliveries, rows)
    now = emu.clock.now_ms()
    if send_now and any(row["due_ms"] <= now for row in rows):
        send_due(emu, product, now)
    emu.changes.notify()  # the timers loop may have an earlier instant now
    return rows


def send_due(emu: "Host", product: Product, at_ms: int, webhook_id: str | None = None) -> list[dict[str, Any]]:
    """Start the earliest delivery due by `at_ms` of every endpoint (or of `webhook_id`) with
    no attempt in flight, in (due, id) order; describe each. The others wait for it to settle.
    Without an event loop each attempt settles in place, so this goes on until none is due."""
    fired: list[dict[str, Any]] = []
    while batch := _next_attempts(emu, product, at_ms, webhook_id):
        fired += [send(emu, product, row) for row in batch]
    return fired


def _next_attempts(emu: "Host", product: Product, at_ms: int, webhook_id: str | None) -> list[dict[str, Any]]:
    """The earliest due delivery of each endpoint with no attempt in flight."""
    where, params = ("AND webhook_id = ?", [webhook_id]) if webhook_id else ("", [])
    rows = emu.store.all(f"SELECT * FROM {product.deliveries} WHERE status = 'pending' AND due_ms <= ? {where} "
                         "ORDER BY due_ms, id", [at_ms, *params])
    busy, first = _busy(emu, product), {}
    for row in rows:
        if row["webhook_id"] not in busy:
            first.setdefault(row["webhook_id"], row)
    return list(first.values())


def send(emu: "Host", product: Product, row: dict[str, Any]) -> dict[str, Any]:
    """Start one attempt of a delivery in the background (`settle` records its outcome); its
    endpoint gets no other attempt until this one settles."""
    request, attempt = attempt_request(emu, product, row)
    _in_flight(emu)[product.deliveries, row["webhook_id"]] = row["id"]
    answered = outbound.launch(emu, request, lambda outcome: _settled(emu, product, row, attempt, outcome))
    if answered is not None:  # no event loop: the call was made in place
        _landed(emu, product, row)
        settle(emu, product, row["id"], attempt, answered)
    return {"type": product.kind, "deliveryId": row["id"], "webhookId": row["webhook_id"],
            "event": row["event_type"], "attempt": attempt}


def _settled(emu: "Host", product: Product, row: dict[str, Any], attempt: int, outcome: dict[str, Any]) -> None:
    """A background attempt answered: settle it, then start its endpoint's next due delivery."""
    _landed(emu, product, row)
    settle(emu, product, row["id"], attempt, outcome)
    send_due(emu, product, emu.clock.now_ms(), row["webhook_id"])


def attempt_request(emu: "Host", product: Product, row: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Mark the delivery `sending` and build its signed request: (request, attempt number)."""
    store = emu.store
    hook = store.one(f"SELECT * FROM {product.endpoints} WHERE id = ? AND tenant = ?",
                     [row["webhook_id"], row["tenant"]])
    assert hook is not None  # deleting an endpoint deletes its deliveries
    secret = emu.cipher.open(hook["secret_sealed"], product.secret_aad(hook["tenant"], hook["id"])).decode()
    attempt, body, now = row["attempts"] + 1, row["payload"].encode(), emu.clock.now_ms()
    store.update(product.deliveries, row["id"], {"status": "sending", "attempts": attempt, "due_ms": None,
                                                 "updated_at": iso(now)})
    headers = {"Content-Type": "application/json", "User-Agent": f"theazo-emu/{__version__} ({product.user_agent})",
               **product.headers(row, attempt, secret, body, now)}
    return {"url": hook["url"], "method": "POST", "headers": headers, "content": body, "timeoutS": TIMEOUT_S}, attempt


def settle(emu: "Host", product: Product, delivery_id: str, attempt: int,
           outcome: dict[str, Any]) -> dict[str, Any] | None:
    """Record an attempt's outcome: delivered, retried after the backoff, or failed; journaled."""
    store = emu.store
    row = store.one(f"SELECT * FROM {product.deliveries} WHERE id = ?", [delivery_id])
    if row is None or row["status"] != "sending" or row["attempts"] != attempt:
        return None  # its endpoint was deleted meanwhile, or a reset forgot it
    now = emu.clock.now_ms()
    changes = {"http_status": (outcome.get("output") or {}).get("status"), "updated_at": iso(now),
               "error": None if outcome["ok"] else outcome["message"][:500]}
    changes.update(_next_state(product, attempt, outcome, now))
    with store.atomic():
        store.update(product.deliveries, delivery_id, changes)
        if product.after_settle is not None:
            product.after_settle(emu.tenant(row["tenant"]), {**row, **changes}, now)
    entry = {"webhookId": row["webhook_id"], "deliveryId": delivery_id, "eventId": row["event_id"],
             "event": row["event_type"], "attempt": attempt, "outcome": changes["status"],
             product.status_field: changes["http_status"], "error": changes["error"],
             "nextAttemptAt": iso(changes["due_ms"]) if changes.get("due_ms") else None}
    record_event(emu, product.kind, tenant=row["tenant"], **entry)
    emu.changes.notify()
    return entry


def _next_state(product: Product, attempt: int, outcome: dict[str, Any], now: int) -> dict[str, Any]:
    """Delivered on a 2xx; else pending again after the backoff, or failed after the last
    attempt (or at once on a 4xx, for a product that says so)."""
    if outcome["ok"]:
        return {"status": product.delivered, "delivered_at": iso(now)}
    status = (outcome.get("output") or {}).get("status")
    refused = product.client_error_fails and status is not None and 400 <= status < 500
    if attempt < MAX_ATTEMPTS and not refused:
        return {"status": "pending", "due_ms": now + BACKOFF_MS[attempt - 1]}
    return {"status": "failed", "failed_at": iso(now)}


def _in_flight(emu: "Host") -> dict[tuple[str, str], str]:
    """(deliveries table, endpoint id) -> the delivery whose attempt is in flight. In memory:
    a restarted or fully reset emulator has none."""
    return emu.extras.setdefault(IN_FLIGHT, {})


def _landed(emu: "Host", product: Product, row: dict[str, Any]) -> None:
    """The attempt of `row` is over: its endpoint is free (unless another took it since)."""
    in_flight, key = _in_flight(emu), (product.deliveries, row["webhook_id"])
    if in_flight.get(key) == row["id"]:
        del in_flight[key]


def _busy(emu: "Host", product: Product) -> set[str]:
    """The endpoints of `product` with an attempt in flight."""
    return {webhook_id for table, webhook_id in _in_flight(emu) if table == product.deliveries}


class Timer:
    """The timers.TimerSource of a product's deliveries (a subclass names its `product`):
    an attempt falls due."""

    product: Product

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        """The earliest due instant of an endpoint with no attempt in flight (a busy one's next
        delivery is started when its attempt settles)."""
        busy = sorted(_busy(emu, self.product))
        where = f" AND webhook_id NOT IN ({', '.join('?' * len(busy))})" if busy else ""
        return store.scalar(f"SELECT MIN(due_ms) FROM {self.product.deliveries} WHERE status = 'pending'{where}", busy)

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        return send_due(emu, self.product, at_ms)
