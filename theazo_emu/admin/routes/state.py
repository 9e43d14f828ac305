"""Admin routes over the journal and the state: /_emu/requests, /_emu/state/export|import.

DESIGN.md "Admin API and inspector". Like the rest of /_emu these take no API key; a
tenant is chosen with `?key=th_test_...` (or `?tenant=tn_...`). The journal lives in
journal.py and the state document in snapshot.py; this module only parses queries and
shapes answers. Journal pages run oldest first (`order=desc` for newest first) and their
cursor is `cur_seq<n>`, n the last entry's `seq`.
"""

from __future__ import annotations

import re
from typing import Any

from theazo_emu.admin.bodies import StateDocument
from theazo_emu.core.auth import tenant_of
from theazo_emu.core.clock import parse_iso
from theazo_emu.core.errors import invalid
from theazo_emu.core.http import PAGE, Ctx, Cursor, PageParams, api_route, query_choice
from theazo_emu.core.journal import Query, counts
from theazo_emu.core.snapshot import export_state, import_state
from theazo_emu.theazo.surface import page_body

MAX_STATE_BYTES = 256 * 1024 * 1024
_SEQ = Cursor("seq", numeric=True)
_STATUS = re.compile(r"^(?:[1-5]\d\d|[1-5]xx|pending)$")


def _tenant(ctx: Ctx) -> str | None:
    key, tenant = ctx.query.get("key"), ctx.query.get("tenant")
    if key:
        return tenant_of(key)
    return tenant or None


def _time(ctx: Ctx, name: str) -> int | None:
    raw = ctx.query.get(name)
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    try:
        return parse_iso(raw)
    except (ValueError, OverflowError):
        raise invalid(name, "must be an ISO 8601 date-time or epoch milliseconds") from None


def _journal_query(ctx: Ctx) -> Query:
    q = ctx.query
    kinds = frozenset(k.strip() for k in q["kind"].split(",") if k.strip()) if q.get("kind") else None
    statuses = None
    if q.get("status"):
        statuses = tuple(s.strip().lower() for s in q["status"].split(",") if s.strip())
        bad = next((s for s in statuses if not _STATUS.match(s)), None)
        if bad is not None:
            raise invalid("status", f"'{bad[:20]}' is not a status, a class such as 4xx, or 'pending'")
    return Query(kinds=kinds, method=q["method"].upper() if q.get("method") else None, path=q.get("path") or None,
                 tenant=_tenant(ctx), statuses=statuses, request_id=q.get("requestId") or None,
                 since_ms=_time(ctx, "since"), until_ms=_time(ctx, "until"))


async def list_requests(ctx: Ctx) -> dict:
    """The journal: requests and server-side events, filtered, paged, with counts."""
    query = _journal_query(ctx)
    descending = query_choice(ctx, "order", ("asc", "desc")) == "desc"
    params = PageParams.from_query(ctx, _SEQ, default=1000, maximum=10_000)
    only_count = query_choice(ctx, "count", ("true", "false", "1", "0")) in ("true", "1")
    journal = ctx.emu.journal
    matched = journal.select(query)
    body: dict[str, Any] = {"counts": counts(matched), "dropped": journal.dropped}
    if only_count:
        return body
    if descending:
        matched.reverse()
    after = params.after
    if after is not None:
        matched = [e for e in matched if (e["seq"] < after if descending else e["seq"] > after)]
    page = params.cut(matched[:params.limit + 1], key=lambda entry: entry["seq"])
    return page_body(page, lambda entry: entry) | body


async def clear_requests(ctx: Ctx) -> dict:
    """Empty the journal, or only one tenant's entries (`?key=`)."""
    return {"ok": True, "cleared": ctx.emu.journal.clear(_tenant(ctx))}


async def export_state_document(ctx: Ctx) -> dict:
    """Every table's rows, the clock and the id counters as one document (`?key=`: one tenant)."""
    return export_state(ctx.emu, _tenant(ctx))


async def import_state_document(ctx: Ctx) -> dict:
    """Replace the state with an exported document (a one-tenant document replaces that tenant)."""
    body: StateDocument = ctx.body
    return import_state(ctx.emu, body.model_dump())


routes = [
    api_route("/_emu/requests", list_requests, public=True, query=(
        "kind", "method", "path", "key", "tenant", "status", "requestId", "since", "until", "order", "count", *PAGE)),
    api_route("/_emu/requests", clear_requests, "DELETE", public=True, query=("key", "tenant")),
    api_route("/_emu/state/export", export_state_document, public=True, query=("key", "tenant")),
    api_route("/_emu/state/import", import_state_document, "POST", body=StateDocument, public=True,
              max_body=MAX_STATE_BYTES),
]
