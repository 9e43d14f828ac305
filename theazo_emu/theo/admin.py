"""The admin API of the Theo surface: a key's account, the health it reports, its events.

`PUT /_emu/theo/account` sets what a Theo test key's tenant is billed and allowed
(the body of a fixture's `theoKeys` entry: `credits` and `lowCredits` in cents, `rateLimit`,
and `scopes` / `allowedOrigins` / `revoked`, which register the key); what it leaves out is
reset (no billing, the default limit, every scope, not revoked). `GET /_emu/theo/account?key=` shows it.
`PUT /_emu/theo/health` makes GET /api/v1/health degraded or down. `GET /_emu/theo/events`
lists a key's events (credits.low, completion.created, key.created, ...), oldest first.
`GET /_emu/theo/skill-runs?key=` lists what a key's skills ran on their triggers, newest
first, with each install's trigger state (next run, failures in a row, paused).
`GET /_emu/theo/billing/:id` is the page a Theo checkout or portal URL opens; `POST
/_emu/theo/billing/:id/complete` completes a checkout (its amount joins a billed tenant's
credits) and answers where the success URL would take the buyer.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.responses import HTMLResponse

from theazo_emu.core.auth import tenant_of
from theazo_emu.core.errors import NotFound, invalid
from theazo_emu.core.http import Ctx, api_route, query_int
from theazo_emu.theo.bodies.api import HealthOverride
from theazo_emu.theo.domain import account, events, health, keys, ledger, skills, triggers
from theazo_emu.theo.domain.engines import units
from theazo_emu.theo.domain.ratelimit import limiter, parse_tier
from theazo_emu.theo.fixtures import TheoKeySpec, check_theo_key


def admin_key(ctx: Ctx) -> str:
    """The Theo test key `?key=` names (422 when missing or not one)."""
    key = ctx.query.get("key")
    if not key:
        raise invalid("key", "give the Theo test key: ?key=theo_sk_test_...")
    try:
        return check_theo_key(key) or ""
    except ValueError as exc:
        raise invalid("key", str(exc)) from None


def _account(ctx: Ctx, key: str) -> dict[str, Any]:
    tier = limiter(ctx.emu).tier_for(key)
    row = keys.lookup(ctx.emu, key)
    credits = ledger.account_to_api(ledger.account(ctx.emu.tenant(tenant_of(key))))
    return {"key": key, "tenant": tenant_of(key), **credits,
            "rateLimit": None if tier is None else {"requests": tier.requests, "tokens": tier.tokens},
            "scopes": row["scopes"] if row else list(keys.SCOPES),
            "allowedOrigins": row["allowed_origins"] if row else [], "registered": row is not None,
            "revoked": bool(row and row["revoked_at"])}


async def put_account(ctx: Ctx) -> dict:
    """Set a Theo key's credits, rate limit, scopes and allowed origins."""
    body: TheoKeySpec = ctx.body
    t = ctx.emu.tenant(tenant_of(body.key))
    with t.store.atomic():
        ledger.set_account(t, None if body.credits is None else units(body.credits),
                           None if body.lowCredits is None else units(body.lowCredits))
        if body.scopes is not None or body.allowedOrigins or body.revoked or keys.lookup(ctx.emu, body.key):
            keys.declare(ctx.emu, body.key, body.scopes, body.allowedOrigins, body.revoked)
    limits = limiter(ctx.emu)
    if body.rateLimit is None:
        limits.per_key.pop(body.key, None)
    else:
        limits.per_key[body.key] = parse_tier(body.rateLimit)
    return _account(ctx, body.key)


async def get_account(ctx: Ctx) -> dict:
    """A Theo key's credits, rate limit, scopes and allowed origins."""
    return _account(ctx, admin_key(ctx))


async def put_health(ctx: Ctx) -> dict:
    """What GET /api/v1/health reports from now on (the cache starts over)."""
    body: HealthOverride = ctx.body
    state = health.state(ctx.emu.extras)
    state.set(body.status, body.providers)
    return {"status": state.status, "providers": state.providers}


async def list_events(ctx: Ctx) -> dict:
    """A Theo key's latest events, oldest first (`type` filters; `limit` up to 1000)."""
    key = admin_key(ctx)
    limit = query_int(ctx, "limit", 100, 1, 1000)
    return {"data": events.recent(ctx.emu.tenant(tenant_of(key)), ctx.query.get("type") or None, limit)}


async def list_skill_runs(ctx: Ctx) -> dict:
    """What a key's skills ran on their triggers, newest first (`limit` up to 1000), and each install's state."""
    t = ctx.emu.tenant(tenant_of(admin_key(ctx)))
    limit = query_int(ctx, "limit", 100, 1, 1000)
    runs = t.store.rows(triggers.RUNS, order="id DESC", limit=limit)
    return {"data": [triggers.run_to_api(row) for row in runs],
            "installs": [triggers.state_to_api(row) for row in t.store.rows(skills.INSTALLS, order="id")]}


def _billing(ctx: Ctx) -> dict[str, Any]:
    row = ctx.emu.store.by_id(account.BILLING, ctx.params["session_id"])
    if row is None:
        raise NotFound("billing session", ctx.params["session_id"])
    return row


async def billing_page(ctx: Ctx) -> HTMLResponse:
    """The page a Theo checkout or portal URL opens."""
    row = _billing(ctx)
    what = (f"Checkout of {row['amount_cents'] / 100:.2f} USD of credits" if row["kind"] == "checkout"
            else "Billing portal")
    action = (f"<form method=post action='{escape(row['id'])}/complete'><button>Complete checkout</button></form>"
              if row["kind"] == "checkout" and row["status"] == "open" else "")
    html = (f"<!doctype html><meta charset=utf-8><title>{what} - Theo (emulated)</title>"
            f"<body style='font-family:system-ui;margin:2rem'><h1>{what}</h1><p>Session {escape(row['id'])}, scope "
            f"{escape(row['scope'])}, status {escape(row['status'])}.</p>{action}</body>")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def complete_billing(ctx: Ctx) -> dict:
    """Complete a Theo checkout: its amount joins a billed tenant's credits."""
    row = _billing(ctx)
    return account.complete_checkout(ctx.emu.tenant(row["tenant"]), row)


routes = [
    api_route("/_emu/theo/account", get_account, public=True, query=("key",)),
    api_route("/_emu/theo/account", put_account, "PUT", body=TheoKeySpec, public=True),
    api_route("/_emu/theo/health", put_health, "PUT", body=HealthOverride, public=True),
    api_route("/_emu/theo/events", list_events, public=True, query=("key", "type", "limit")),
    api_route("/_emu/theo/skill-runs", list_skill_runs, public=True, query=("key", "limit")),
    api_route("/_emu/theo/billing/{session_id}", billing_page, public=True, media="text/html"),
    api_route("/_emu/theo/billing/{session_id}/complete", complete_billing, "POST", public=True),
]
