"""Idempotency-Key records (theo-api.md §3.1): claim, answer, replay, release.

Per tenant (the "per-user namespace"), a key names one request: its fingerprint (method,
path and body, canonical JSON), and once answered, the answer to replay for 24 hours of
virtual time. A claim holds a 30-second execution lock (virtual time); a duplicate that
arrives while the first still runs is refused, never executed. The middleware that uses
these (theo/middleware.py) decides what is stored. Owns theo_idempotency.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.core.clock import iso

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "theo_idempotency"
KEY = re.compile(r"^[A-Za-z0-9\-_.:]{1,256}$")
LOCK_MS = 30_000
REPLAY_MS = 24 * 3_600_000


class Claim(NamedTuple):
    """What a request with a key may do: `run` it, `replay` a stored answer, or be refused
    because the key is `busy` (the first still runs) or `reused` (with another request)."""

    outcome: str
    record: dict[str, Any] | None = None


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body.strip() \
            else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), query.encode(), canonical])).hexdigest()


def claim(t: "Tenant", key: str, print_: str) -> Claim:
    """Take the key for this request, or say why not (one transaction)."""
    now = t.now_ms()
    store = t.store
    with store.atomic():
        row = store.find(TABLE, "idem_key = ?", [key], order=None)
        if row is not None and row["expires_ms"] > now:
            if row["fingerprint"] != print_:
                return Claim("reused", row)
            if row["state"] == "done":
                return Claim("replay", row)
            if row["locked_until_ms"] > now:
                return Claim("busy", row)
        store.execute(
            "INSERT INTO theo_idempotency (tenant, idem_key, fingerprint, state, locked_until_ms, expires_ms, "
            "created_at) VALUES (:tenant, :key, :print, 'running', :locked, :expires, :at) "
            "ON CONFLICT(tenant, idem_key) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, state = 'running', status = NULL, headers = NULL, body = NULL, "
            "stream = NULL, request_id = NULL, locked_until_ms = excluded.locked_until_ms, "
            "expires_ms = excluded.expires_ms, created_at = excluded.created_at",
            key=key, print=print_, locked=now + LOCK_MS, expires=now + REPLAY_MS, at=iso(now))
    return Claim("run")


def answer(t: "Tenant", key: str, status: int, headers: dict[str, str], body: bytes,
           stream: bool, request_id: str) -> None:
    """Store the answer a claimed request gave, for replays."""
    t.store.execute(
        "UPDATE theo_idempotency SET state = 'done', status = :status, headers = :headers, body = :body, "
        "stream = :stream, request_id = :request_id WHERE tenant = :tenant AND idem_key = :key",
        status=status, headers=json.dumps(headers), body=body, stream=int(stream), request_id=request_id, key=key)


def release(t: "Tenant", key: str) -> None:
    """Forget a claim whose request must not be replayed (a 5xx, a 429, a cut stream)."""
    t.store.delete(TABLE, "idem_key = ? AND state = 'running'", [key])


def decoded_headers(record: dict[str, Any]) -> dict[str, str]:
    headers = record["headers"]
    return json.loads(headers) if isinstance(headers, str) else dict(headers or {})
