"""Browser sessions: /api/v1/browser/sessions (create, list), /:id (get, end), /:id/live, and
the embed page the session's `embed_url` opens (theo-api.md §1.1; theo/domain/browser.py).

POST answers 201 (`url` is refused with 400 `url_blocked` when it points at a private or
metadata host; a fourth live session is 429 `browser_session_limit`). GET /:id mints a fresh
`embed_url`; `live` answers the open pages (`force=1` bumps `live_view_version`); DELETE
ends the session and answers `{session_id, duration_seconds, proxy_bytes, cost_cents}`
(booked in the ledger). An ended, expired or another tenant's session is 404
`session_not_found`. The embed page (no key: its signed token is the credential) is a small
HTML page, served with `Content-Security-Policy: frame-ancestors *`.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from theazo_emu.core.errors import NotFound
from theazo_emu.core.http import Ctx, api_route, public_row
from theazo_emu.theo.bodies.platform import CreateBrowserSession
from theazo_emu.theo.domain import browser, engines, media, urls
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.routes.media import caller


def _base(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _session(ctx: Ctx) -> dict:
    row = browser.find(ctx.store, ctx.params["session_id"], ctx.now_ms())
    if row is None:
        raise TheoError(404, "session_not_found", f"No live browser session {ctx.params['session_id'][:100]!r} "
                                                  "(ended, expired or unknown).")
    return {**row, "tenant": ctx.tenant}


async def create_session(ctx: Ctx) -> dict:
    """Start a cloud browser session (navigated to `url` when given)."""
    body: CreateBrowserSession = ctx.body
    if body.url is not None:
        reason = urls.blocked(body.url, require_https=False, allow_private=False)
        if reason:
            raise TheoError(400, "url_blocked", f"The URL {reason}.")
    now = ctx.now_ms()
    if len(browser.live(ctx.store, now)) >= browser.MAX_CONCURRENT:
        raise TheoError(429, "browser_session_limit", f"At most {browser.MAX_CONCURRENT} browser sessions may run "
                                                      "at once; end one first.", {"Retry-After": "60"})
    with ctx.store.atomic():
        row = browser.create(ctx.t, body.url, body.region, body.keep_alive, body.proxies)
    return browser.session_to_api(ctx.t, _base(ctx), row)


async def list_sessions(ctx: Ctx) -> dict:
    """This tenant's live sessions, newest first."""
    rows = browser.live(ctx.store, ctx.now_ms())
    return {"sessions": [browser.session_to_api(ctx.t, _base(ctx), {**r, "tenant": ctx.tenant}) for r in rows]}


async def get_session(ctx: Ctx) -> dict:
    """One session, with a freshly minted embed URL."""
    row = browser.touch(ctx.t, _session(ctx))
    return browser.session_to_api(ctx.t, _base(ctx), row)


async def live_view(ctx: Ctx) -> dict:
    """The live view and the open pages (`force=1`: a new live view version)."""
    row = _session(ctx)
    force = ctx.query.get("force") in ("1", "true")
    row = browser.touch(ctx.t, row, **({"live_view_version": row["live_view_version"] + 1}
                                                    if force else {}))
    shown = browser.session_to_api(ctx.t, _base(ctx), row)
    return {"session_id": row["id"], "live_view_url": shown["live_view_url"],
            "live_view_version": row["live_view_version"], "pages": row["pages"]}


async def end_session(ctx: Ctx) -> dict:
    """End a session: its duration and cost."""
    row = _session(ctx)
    with ctx.store.atomic():
        ended = browser.end(ctx.t, row)
        media.book(ctx.t, caller(ctx), kind="browser", mode="browser", model="theo-browser", entity_id=row["id"],
                   prompt=row["url"] or "", cost_units=engines.units(ended["cost_cents"]),
                   output={"durationSeconds": ended["duration_seconds"]})
    return ended


async def embed_page(ctx: Ctx) -> HTMLResponse:
    """Public: the page a session's embed URL opens (its token is the credential)."""
    try:
        row = public_row(ctx, browser.TABLE, ctx.params["session_id"], "browser session")
    except NotFound:
        row = None
    if row is None or row["ended_ms"] is not None or row["expires_ms"] <= ctx.now_ms():
        raise TheoError(404, "session_not_found", "No live browser session with this id.")
    problem = browser.token_ok(ctx.t, row, ctx.query.get("token", ""))
    if problem:
        raise TheoError(403, "invalid_token", problem)
    page = row["pages"][-1]
    html = (f"<!doctype html><meta charset=utf-8><title>{escape(page['title'])} - Theo browser (emulated)</title>"
            f"<body style='font-family:system-ui;margin:2rem'><h1>Browser session {escape(row['id'])}</h1>"
            f"<p>Region {escape(row['region'])}; live view version {row['live_view_version']}.</p>"
            f"<p>Current page: <code>{escape(page['url'])}</code></p>"
            "<p>The emulator renders no page: this stands in for the live view.</p></body>")
    return HTMLResponse(html, headers={"Content-Security-Policy": "frame-ancestors *", "Cache-Control": "no-store"})


routes = [
    api_route("/api/v1/browser/sessions", create_session, "POST", body=CreateBrowserSession, status=201),
    api_route("/api/v1/browser/sessions", list_sessions),
    api_route("/api/v1/browser/sessions/{session_id}", get_session),
    api_route("/api/v1/browser/sessions/{session_id}", end_session, "DELETE"),
    api_route("/api/v1/browser/sessions/{session_id}/live", live_view),
    api_route("/api/v1/embed/browser/{session_id}", embed_page, public=True, media="text/html"),
]
