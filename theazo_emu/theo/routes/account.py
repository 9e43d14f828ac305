"""The account routes: settings, tools, benchmarks, rate limits, billing, voice and channels.

theo-api.md §1.1-§1.2; theo/domain/account.py and benchmarks.py. GET/PATCH /settings
(`default_mode`, `personality`, `timezone` (IANA), `theo_branding`; PATCH answers the whole
object and is audited as settings.updated). GET /tools lists the built-in tools and those of
installed skills. GET /benchmarks?window=24h|7d|30d measures this tenant's completions from
the journal. GET /rate-limits tells the key's tier, its limits by mode and what is left of
the minute; POST /rate-limits/request-increase records a request (202, `pending`). POST
/billing/checkout and /billing/portal answer URLs of this emulator (409
`team_billing_setup_required` for `scope: "org"` from a personal key). POST /voice/token
answers a live-session token. GET /channels lists the messaging channels (none configured).
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.cron import check_timezone
from theazo_emu.core.http import Ctx, api_route, query_choice
from theazo_emu.theo.bodies.api import NoBody
from theazo_emu.theo.bodies.platform import Checkout, Portal, RateLimitIncrease, UpdateSettings
from theazo_emu.theo.domain import account, audit, benchmarks
from theazo_emu.theo.domain.errors import TheoError, invalid
from theazo_emu.theo.domain.ratelimit import MODE_SHARES, TIERS, limiter
from theazo_emu.theo.surface import key_facts, request_facts

CHANNELS = ("telegram", "whatsapp", "slack", "discord")


async def get_settings(ctx: Ctx) -> dict:
    """This tenant's settings."""
    return account.settings(ctx.t)


async def update_settings(ctx: Ctx) -> dict:
    """Change any of the settings; answers them all (audited)."""
    body: UpdateSettings = ctx.body
    if body.timezone is not None:
        try:
            check_timezone(body.timezone)
        except ValueError as exc:
            raise invalid("timezone", str(exc)) from None
    before = account.settings(ctx.t)
    changes = {k: v for k, v in body.model_dump(exclude_none=True).items()}
    after = {**before, **changes}
    with ctx.store.atomic():
        account.save_settings(ctx.t, after)
        audit.append(ctx.t, action="settings.updated", entity_type="settings", entity_id=None,
                     key_id=key_facts(ctx)[1], request=request_facts(ctx), status=200,
                     input_summary=changes, output_summary={"before": before, "after": after})
    return after


async def list_tools(ctx: Ctx) -> dict:
    """The tools completions can use: built-in ones and installed skills'."""
    return {"tools": account.tools(ctx.store)}


async def get_benchmarks(ctx: Ctx) -> dict:
    """Latency by mode, time to first token and counters of this tenant's completions."""
    window = query_choice(ctx, "window", tuple(benchmarks.WINDOWS)) or "24h"
    return benchmarks.report(ctx.t, window)


def _tier_name(tier: Any) -> str:
    return next((name for name, known in TIERS.items() if known == tier), "custom") if tier else "unlimited"


async def get_rate_limits(ctx: Ctx) -> dict:
    """The key's tier, its limits (overall and by mode) and what is left of this minute."""
    limits = limiter(ctx.emu)
    tier = limits.tier_for(ctx.key or "")
    pending = ctx.store.find(account.RATE_REQUESTS, "status = 'pending'", order="id DESC")
    body: dict[str, Any] = {"tier": _tier_name(tier), "window_seconds": 60, "limits": None, "mode_limits": None,
                            "usage": None, "dashboard_rpm": 120,
                            "pending_request": account.increase_to_api(pending) if pending else None}
    if tier is not None:
        used, reset = limits.tokens_used(ctx.key or "", ctx.now_ms())
        body["limits"] = {"requests_per_minute": tier.requests, "tokens_per_minute": tier.tokens}
        body["mode_limits"] = {"text": tier.requests, "code": tier.requests, "auto": tier.requests,
                               **{kind: max(1, tier.requests // share) for kind, share in MODE_SHARES.items()}}
        headers = ctx.request.scope.get("state", {}).get("rate_limit", {})
        body["usage"] = {"remaining_requests": int(headers.get("X-Ratelimit-Remaining-Requests", tier.requests)),
                         "tokens_used": used, "remaining_tokens": max(0, tier.tokens - used),
                         "tokens_reset_seconds": reset}
    return body


async def request_increase(ctx: Ctx) -> dict:
    """Ask for a higher tier (recorded as pending; reviewed by a person at Theo)."""
    body: RateLimitIncrease = ctx.body
    row = {"id": ctx.t.new_id("rlr"), "requested_tier": body.requested_tier, "use_case": body.use_case,
           "expected_volume": None if body.expected_volume is None else str(body.expected_volume),
           "status": "pending", "created_at": ctx.now_iso()}
    with ctx.store.atomic():
        ctx.store.insert(account.RATE_REQUESTS, row)
    return {"request": account.increase_to_api(row), "submitted": True}


def _billing_scope(ctx: Ctx, scope: str | None) -> str:
    scope = scope or "user"
    row, _ = key_facts(ctx)
    if scope == "org" and (row is None or row["scope"] != "org"):
        raise TheoError(409, "team_billing_setup_required", "Org billing needs an org key whose team has billing "
                                                             "set up; use scope 'user' or an org key.")
    return scope


def _page_url(ctx: Ctx, ident: str) -> str:
    return f"{str(ctx.request.base_url).rstrip('/')}/_emu/theo/billing/{ident}"


async def billing_checkout(ctx: Ctx) -> dict:
    """A checkout for `amount_cents` of credits: a page of this emulator."""
    body: Checkout = ctx.body
    scope = _billing_scope(ctx, body.scope)
    with ctx.store.atomic():
        row = account.billing_session(ctx.t, "checkout", scope, body.amount_cents, body.success_url)
    return {"checkout_url": _page_url(ctx, row["id"]), "scope": scope, "id": row["id"]}


async def billing_portal(ctx: Ctx) -> dict:
    """The billing portal: a page of this emulator."""
    body: Portal = ctx.body
    scope = _billing_scope(ctx, body.scope)
    with ctx.store.atomic():
        row = account.billing_session(ctx.t, "portal", scope, None, None)
    return {"portal_url": _page_url(ctx, row["id"]), "scope": scope, "id": row["id"]}


async def voice_token(ctx: Ctx) -> dict:
    """A short-lived token for a live voice session, with its instruction and tools."""
    with ctx.store.atomic():
        nonce = ctx.t.new_id("voice")
    return account.voice_token(ctx.t, nonce)


async def list_channels(ctx: Ctx) -> dict:
    """The messaging channels Theo answers on (none is configured in the emulator)."""
    return {"channels": [{"id": name, "type": name, "status": "unconfigured", "connected": False}
                         for name in CHANNELS]}


routes = [
    api_route("/api/v1/settings", get_settings),
    api_route("/api/v1/settings", update_settings, "PATCH", body=UpdateSettings),
    api_route("/api/v1/tools", list_tools),
    api_route("/api/v1/benchmarks", get_benchmarks, query=("window",)),
    api_route("/api/v1/rate-limits", get_rate_limits),
    api_route("/api/v1/rate-limits/request-increase", request_increase, "POST", body=RateLimitIncrease, status=202),
    api_route("/api/v1/billing/checkout", billing_checkout, "POST", body=Checkout),
    api_route("/api/v1/billing/portal", billing_portal, "POST", body=Portal),
    api_route("/api/v1/voice/token", voice_token, "POST", body=NoBody),
    api_route("/api/v1/channels", list_channels),
]
