"""The billing account the SDK calls: subscription, checkout, portal, budgets and credits.

Over domain/budgets.py (which owns the tables and the enforcement). Checkout and portal
answer URLs of this emulator, standing in for a payment provider's hosted pages:
- `POST /v1/billing/checkout` opens a checkout (24 h on the virtual clock) whose `url` is
  a page here; `POST` to that URL (`action=pay`, the default, or `action=cancel`, as a
  form or JSON) completes it and answers 303 to `successUrl` (with `checkout_id`) or
  `cancelUrl`. Paying starts a monthly subscription to the plan (replacing any other).
- `GET /v1/billing/portal` answers a signed portal URL (1 h); `POST` to it with
  `action=cancel` or `action=resume` sets the subscription's `cancelAtPeriodEnd`.
The checkout id and the portal signature are the credentials of those public pages.
Budgets answer the SDK's BillingBudgetStatus; `?userId=` reads a user's against the
per-user budget. Credits are the plan's included cents this month minus the spend.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import HTMLResponse, RedirectResponse

from theazo_emu.core import signing
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, Forbidden, invalid
from theazo_emu.core.http import Ctx, act_for, api_route, json_object, public_row
from theazo_emu.theazo.bodies.billing_account import BudgetConfig, CreateCheckout
from theazo_emu.theazo.bodies.core import check_user_id
from theazo_emu.theazo.domain import budgets, pricing

PORTAL_TTL_MS = 3_600_000


def _base(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _action(ctx: Ctx, allowed: tuple[str, ...]) -> str:
    """The `action` of a page's POST: a form, JSON, or nothing (the first allowed)."""
    raw: bytes = ctx.body or b""
    if "application/x-www-form-urlencoded" in ctx.request.headers.get("content-type", ""):
        fields = dict(parse_qsl(raw.decode("utf-8", "replace")))
    else:
        fields = json_object(raw)
    action = fields.get("action", allowed[0])
    if action not in allowed:
        raise invalid("action", f"must be one of {', '.join(allowed)}")
    return action


def _page(title: str, lines: list[str], forms: list[tuple[str, str, str]]) -> HTMLResponse:
    """A minimal hosted page: lines of text and one-button forms (action URL, field value, label)."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    body += "".join(f'<form method="post" action="{html.escape(url)}"><input type="hidden" name="action" '
                    f'value="{html.escape(value)}"><button>{html.escape(label)}</button></form>'
                    for url, value, label in forms)
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
                        f"<h1>{html.escape(title)}</h1>{body}<p><small>theazo-emu: nothing is charged.</small></p>")


async def get_subscription(ctx: Ctx) -> dict | None:
    """The subscription, or null on the free plan."""
    return budgets.subscription_to_api(budgets.account(ctx.t)["subscription"], ctx.now_ms())


async def create_checkout(ctx: Ctx) -> dict:
    """Open a checkout for a plan; its `url` is a page of this emulator."""
    body: CreateCheckout = ctx.body
    if body.plan == "free":
        raise invalid("plan", "the free plan needs no checkout; cancel the subscription in the portal instead")
    now = ctx.now_ms()
    with ctx.store.atomic():
        checkout_id = ctx.emu.new_id("cs", ctx.tenant)
        ctx.store.insert(budgets.CHECKOUTS, {
            "id": checkout_id, "plan": body.plan, "success_url": body.successUrl, "cancel_url": body.cancelUrl,
            "status": "open", "created_at": iso(now), "expires_ms": now + budgets.CHECKOUT_TTL_MS,
            "completed_at": None})
    return {"id": checkout_id, "url": f"{_base(ctx)}/v1/billing/checkout/{checkout_id}", "plan": body.plan,
            "amount": pricing.cost(budgets.PLAN_PRICES[body.plan]), "expiresAt": iso(now + budgets.CHECKOUT_TTL_MS)}


def _open_checkout(ctx: Ctx) -> dict:
    row = public_row(ctx, budgets.CHECKOUTS, ctx.params["checkout_id"], "checkout")
    if row["status"] != "open":
        raise Conflict(f"Checkout {row['id']} is {row['status']}.", {"status": row["status"]})
    if ctx.now_ms() >= row["expires_ms"]:
        raise Conflict(f"Checkout {row['id']} expired at {iso(row['expires_ms'])}.", {"status": "expired"})
    return row


async def checkout_page(ctx: Ctx) -> HTMLResponse:
    """Public: the hosted checkout page (pay or cancel)."""
    row = _open_checkout(ctx)
    url = f"/v1/billing/checkout/{row['id']}"
    amount = budgets.PLAN_PRICES[row["plan"]]
    return _page(f"Checkout: {row['plan']} plan", [f"{amount / 100:.2f} USD a month."],
                 [(url, "pay", "Pay"), (url, "cancel", "Cancel")])


async def complete_checkout(ctx: Ctx) -> RedirectResponse:
    """Public: pay (starts the subscription) or cancel a checkout; 303 to the caller's URL."""
    row = _open_checkout(ctx)
    action = _action(ctx, ("pay", "cancel"))
    now = ctx.now_ms()
    with ctx.store.atomic():
        ctx.store.update(budgets.CHECKOUTS, row["id"], {"status": "complete" if action == "pay" else "cancelled",
                                                         "completed_at": iso(now)})
        if action == "pay":
            subscription = {"id": ctx.emu.new_id("sub", ctx.tenant), "plan": row["plan"], "startedMs": now,
                            "cancelAtPeriodEnd": False, "cancelAfterPeriods": None}
            budgets.save(ctx.t, subscription=subscription)
    if action == "cancel":
        return RedirectResponse(row["cancel_url"], status_code=303)
    joiner = "&" if "?" in row["success_url"] else "?"
    return RedirectResponse(f"{row['success_url']}{joiner}{urlencode({'checkout_id': row['id']})}", status_code=303)


async def portal_url(ctx: Ctx) -> dict:
    """A signed URL of this emulator's billing portal, valid for an hour."""
    expires = ctx.now_ms() + PORTAL_TTL_MS
    signature = signing.url_signature(ctx.emu.settings.seed, ctx.tenant, "portal", expires)
    return {"url": f"{_base(ctx)}/v1/billing/portal/{ctx.tenant}?expires={expires}&signature={signature}",
            "expiresAt": iso(expires)}


def _portal(ctx: Ctx) -> str:
    tenant, expires, signature = ctx.params["tenant"], ctx.query.get("expires", ""), ctx.query.get("signature", "")
    if not expires.isdigit() or len(expires) > 15 or not signing.url_signature_ok(
            ctx.emu.settings.seed, tenant, "portal", int(expires), signature):
        raise Forbidden("The portal URL's signature is missing or does not match; ask GET /v1/billing/portal.")
    if ctx.now_ms() > int(expires):
        raise Forbidden("The portal URL has expired; ask GET /v1/billing/portal for a new one.")
    act_for(ctx, tenant)
    return ctx.request.url.path + "?" + ctx.request.url.query


async def portal_page(ctx: Ctx) -> HTMLResponse:
    """Public: the billing portal (the subscription, with cancel or resume)."""
    here = _portal(ctx)
    sub = await get_subscription(ctx)
    if sub is None:
        return _page("Billing portal", ["Plan: free. No subscription."], [])
    lines = [f"Plan: {sub['plan']} ({sub['status']}).", f"Current period: {sub['currentPeriodStart']} to "
             f"{sub['currentPeriodEnd']}.", f"Cancels at period end: {'yes' if sub['cancelAtPeriodEnd'] else 'no'}."]
    form = (here, "resume", "Resume") if sub["cancelAtPeriodEnd"] else (here, "cancel", "Cancel at period end")
    return _page("Billing portal", lines, [form] if sub["status"] == "active" else [])


async def portal_action(ctx: Ctx) -> RedirectResponse:
    """Public: cancel the subscription at period end, or resume it; 303 back to the portal."""
    here = _portal(ctx)
    action = _action(ctx, ("cancel", "resume"))
    sub = budgets.account(ctx.t)["subscription"]
    current = budgets.subscription_to_api(sub, ctx.now_ms())
    if current is None or current["status"] != "active":
        raise Conflict("There is no active subscription to change.", {"status": current and current["status"]})
    budgets.save(ctx.t, subscription=budgets.cancel_at_period_end(sub, ctx.now_ms(), action == "cancel"))
    return RedirectResponse(here, status_code=303)


def _user(ctx: Ctx) -> str | None:
    value = ctx.query.get("userId")
    if value is None:
        return None
    try:
        return check_user_id(value)
    except ValueError as exc:
        raise invalid("userId", str(exc)) from None


async def get_budget(ctx: Ctx) -> dict:
    """This month's spend against the org budget (or, with userId, that user's against the user budget)."""
    user_id = _user(ctx)
    acct = budgets.account(ctx.t)
    budget = acct["user_budget"] if user_id is not None else acct["budget"]
    answer = budgets.status(budget, budgets.month_spent(ctx.t, user_id))
    return answer | ({"userId": user_id} if user_id is not None else {})


async def set_budget(ctx: Ctx) -> dict:
    """Set the org's monthly budget and its alerts."""
    body: BudgetConfig = ctx.body
    budgets.save(ctx.t, budget=body.model_dump(exclude_none=True))
    return budgets.status(body.model_dump(exclude_none=True), budgets.month_spent(ctx.t))


async def set_user_budget(ctx: Ctx) -> dict[str, Any]:
    """Set the monthly budget every user is held to (a run past it is refused with 402)."""
    body: BudgetConfig = ctx.body
    config = body.model_dump(exclude_none=True)
    budgets.save(ctx.t, user_budget=config)
    return config


async def get_credits(ctx: Ctx) -> dict:
    """Credits left this month: the plan's included cents minus the spend."""
    plan = budgets.plan(budgets.account(ctx.t)["subscription"], ctx.now_ms())
    included, used = budgets.PLAN_CREDITS[plan], budgets.month_spent(ctx.t)
    return {"credits": max(0, included - used), "currency": pricing.CURRENCY, "plan": plan, "included": included,
            "used": used}


routes = [
    api_route("/v1/billing/subscription", get_subscription),
    api_route("/v1/billing/checkout", create_checkout, "POST", body=CreateCheckout, status=201),
    api_route("/v1/billing/checkout/{checkout_id}", checkout_page, public=True, media="text/html"),
    api_route("/v1/billing/checkout/{checkout_id}", complete_checkout, "POST", public=True, status=303),
    api_route("/v1/billing/portal", portal_url),
    api_route("/v1/billing/portal/{tenant}", portal_page, public=True, query=("expires", "signature"),
              media="text/html"),
    api_route("/v1/billing/portal/{tenant}", portal_action, "POST", public=True, query=("expires", "signature"),
              status=303),
    api_route("/v1/billing/budget", get_budget, query=("userId",)),
    api_route("/v1/billing/budget", set_budget, "POST", body=BudgetConfig),
    api_route("/v1/billing/user-budget", set_user_budget, "POST", body=BudgetConfig),
    api_route("/v1/billing/credits", get_credits),
]
