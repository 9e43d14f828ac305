"""The audit log: an append-only, hash-chained entry per completion and per key change.

theo-api.md §3.6 and the audit-trail page: an entry holds the action, the entity, the key
id (never the key), the route, status, engine and cost, and summaries of input and output;
a prompt appears only as its SHA-256 and its length. Each entry's `hash` is the SHA-256 (hex)
of the previous entry's hash and the entry's own canonical JSON, so any change to a stored
entry breaks every later hash (`verify_chain` checks). Nothing here updates or deletes an
entry (a tenant reset is the only way they go). Owns the theo_audit table.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.theo.domain.engines import cents
from theazo_emu.theo.domain.keys import user_id

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "theo_audit"
GENESIS = "0" * 64
# The content a hash covers: every column but the hash itself.
_HASHED = ("id", "tenant", "action", "entity_type", "entity_id", "key_id", "user_id", "route", "method", "status",
           "mode", "model", "cost_units", "request_id", "input_summary", "output_summary", "prev_hash", "at_ms")
EXPORT_COLUMNS = ("timestamp", "action", "entity_type", "entity_id", "model_id", "ip_address", "user_agent", "route",
                  "input_summary", "output_summary")


def prompt_summary(prompt: str) -> dict[str, Any]:
    """How a prompt appears in the log: its digest and length, never its text."""
    return {"promptSha256": hashlib.sha256(prompt.encode()).hexdigest(), "promptLength": len(prompt)}


# json.dumps with options builds an encoder per call; an entry is hashed on every completion.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _hash(row: dict[str, Any]) -> str:
    content = _canonical({k: row.get(k) for k in _HASHED})
    return hashlib.sha256(content.encode()).hexdigest()


def append(t: "Tenant", *, action: str, entity_type: str, entity_id: str | None, key_id: str,
           request: dict[str, Any], status: int, input_summary: dict[str, Any], output_summary: dict[str, Any],
           mode: str | None = None, model: str | None = None, cost_units: int = 0) -> dict[str, Any]:
    """Add an entry (call inside the action's transaction). `request`: route, method,
    request_id, ip_address, user_agent."""
    last = t.store.find(TABLE, columns="hash", order="id DESC")
    now = t.now_ms()
    row = {"id": t.new_id("aud"), "tenant": t.name, "action": action, "entity_type": entity_type,
           "entity_id": entity_id, "key_id": key_id, "user_id": user_id(t.name), "route": request.get("route"),
           "method": request.get("method"), "status": status, "mode": mode, "model": model, "cost_units": cost_units,
           "request_id": request.get("request_id"), "ip_address": request.get("ip_address"),
           "user_agent": request.get("user_agent"), "input_summary": input_summary, "output_summary": output_summary,
           "prev_hash": last["hash"] if last else GENESIS, "at_ms": now, "created_at": iso(now)}
    row["hash"] = _hash(row)
    t.store.insert(TABLE, row)
    return row


def entry_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "action": row["action"], "entityType": row["entity_type"], "entityId": row["entity_id"],
            "userId": row["user_id"], "keyId": row["key_id"], "timestamp": row["created_at"], "route": row["route"],
            "method": row["method"], "status": row["status"], "mode": row["mode"], "modelId": row["model"],
            "costCents": cents(row["cost_units"] or 0), "requestId": row["request_id"],
            "inputSummary": row["input_summary"], "outputSummary": row["output_summary"],
            "prevHash": row["prev_hash"], "hash": row["hash"]}


def verify_chain(rows: list[dict[str, Any]]) -> bool:
    """Whether these entries (one tenant's, oldest first, from its first) hash as stored."""
    previous = GENESIS
    for row in rows:
        if row["prev_hash"] != previous or _hash(row) != row["hash"]:
            return False
        previous = row["hash"]
    return True


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The export's CSV (the documented columns), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(value) for value in (
            row["created_at"], row["action"], row["entity_type"], row["entity_id"], row["model"], row["ip_address"],
            row["user_agent"], row["route"], json.dumps(row["input_summary"], sort_keys=True, separators=(",", ":")),
            json.dumps(row["output_summary"], sort_keys=True, separators=(",", ":")))])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (a client's User-Agent, say) is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
