"""The admin API of the Theo surface: a key's account, the health it reports, its events.

`PUT /_emu/theo/account` sets what a Theo test key's tenant is billed and allowed
(the body of a fixture's `theoKeys` entry: `credits` and `lowCredits` in cents, `rateLimit`,
and `scopes` / `allowedOrigins` / `revoked`, which register the key); what it leaves out is
reset (no billing, the default limit, every scope, not revoked). `GET /_emu/theo/account?key=` shows it.
`PUT /_emu/theo/health` makes GET /api/v1/health degraded or down. `GET /_emu/theo/events`
lists a key's events (credits.low, completion.created, key.created, ...), oldest first.
"""

from __future__ import annotations

from typing import Any

from ..auth import tenant_of
from ..domain.theo import events, health, keys, ledger
from ..domain.theo.engines import units
from ..domain.theo.ratelimit import limiter, parse_tier
from ..errors import invalid
from ..http import Ctx, api_route, query_int
from ..models.theo import HealthOverride
from ..models.theo_fixtures import TheoKeySpec, check_theo_key


def _key(ctx: Ctx) -> str:
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
    return {"key": key, "tenant": tenant_of(key), **ledger.account_to_api(ledger.account(ctx.emu, tenant_of(key))),
            "rateLimit": None if tier is None else {"requests": tier.requests, "tokens": tier.tokens},
            "scopes": row["scopes"] if row else list(keys.SCOPES),
            "allowedOrigins": row["allowed_origins"] if row else [], "registered": row is not None,
            "revoked": bool(row and row["revoked_at"])}


async def put_account(ctx: Ctx) -> dict:
    """Set a Theo key's credits, rate limit, scopes and allowed origins."""
    body: TheoKeySpec = ctx.body
    tenant = tenant_of(body.key)
    with ctx.emu.store.atomic():
        ledger.set_account(ctx.emu, tenant, None if body.credits is None else units(body.credits),
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
    return _account(ctx, _key(ctx))


async def put_health(ctx: Ctx) -> dict:
    """What GET /api/v1/health reports from now on (the cache starts over)."""
    body: HealthOverride = ctx.body
    state = health.state(ctx.emu)
    state.set(body.status, body.providers)
    return {"status": state.status, "providers": state.providers}


async def list_events(ctx: Ctx) -> dict:
    """A Theo key's latest events, oldest first (`type` filters; `limit` up to 1000)."""
    key = _key(ctx)
    limit = query_int(ctx, "limit", 100, 1, 1000)
    return {"data": events.recent(ctx.emu, tenant_of(key), ctx.query.get("type") or None, limit)}


routes = [
    api_route("/_emu/theo/account", get_account, public=True),
    api_route("/_emu/theo/account", put_account, "PUT", body=TheoKeySpec, public=True),
    api_route("/_emu/theo/health", put_health, "PUT", body=HealthOverride, public=True),
    api_route("/_emu/theo/events", list_events, public=True),
]
