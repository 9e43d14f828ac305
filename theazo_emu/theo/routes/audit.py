"""The audit log: GET /api/v1/audit (paged, filtered) and GET /api/v1/audit/export (CSV).

theo-api.md §3.6. Entries are newest first, `{events, has_more, next_cursor}`, filtered by
`from`/`to` (ISO; a plain date as `to` is that whole day), `key` (a key id, as entries name
it), `mode`, `status` (an HTTP status) and `action`. The export (which needs the `billing`
scope) is `text/csv` with the documented columns, oldest first, filtered by `action`, `from`
and `to` (`orgId` is accepted: every key of a tenant shares its log). No entry holds a prompt
or a key in clear: a prompt is its SHA-256 and length, a key its id.
"""

from __future__ import annotations

from starlette.responses import Response

from theazo_emu.core.http import PAGE, Ctx, Where, api_route, query_int, rows_page
from theazo_emu.theo.domain import audit
from theazo_emu.theo.surface import page_body, period

EXPORT_LIMIT = 100_000


def _where(ctx: Ctx, start: int, end: int) -> Where:
    where = Where(ctx).add("at_ms BETWEEN ? AND ?", start, end).eq("key_id", "key").eq("mode", "mode") \
        .eq("action", "action")
    status = query_int(ctx, "status", 0, 100, 599)
    return where.add("status = ?", status) if status else where


async def list_audit(ctx: Ctx) -> dict:
    """Audit entries of this tenant, newest first."""
    start, end = period(ctx, default_from_ms=0)
    return page_body("events", rows_page(ctx, audit.TABLE, _where(ctx, start, end), "aud"), audit.entry_to_api)


async def export_audit(ctx: Ctx) -> Response:
    """The audit log as CSV (oldest first)."""
    start, end = period(ctx, default_from_ms=0)
    where = Where(ctx).add("at_ms BETWEEN ? AND ?", start, end).eq("action", "action")
    rows = ctx.store.rows(audit.TABLE, where.sql, where.params, limit=EXPORT_LIMIT)
    return Response(audit.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="theo-audit.csv"'})


routes = [
    api_route("/api/v1/audit", list_audit, query=("from", "to", "key", "mode", "action", "status", *PAGE)),
    api_route("/api/v1/audit/export", export_audit, query=("from", "to", "action"), media="text/csv"),
]
