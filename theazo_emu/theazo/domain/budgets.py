"""The tenant's billing account: plan and subscription, monthly budgets, and their enforcement.

Owns billing_accounts (one row per tenant, made on first write) and billing_checkouts.
Spending is the ledger's month to date (UTC, virtual clock), the same sums usage and
billing answer. A budget is `{monthly: Cost, alerts?: [{threshold, channel?, action?}]}`:
the org budget applies to the tenant, the user budget to each userId. Enforcement is a
run's admission, as session limits are (agents.start_run): a user at or past the user
budget, or a tenant past an org alert whose action is `pause_all`, gets 402
`session_limit_exceeded` naming the budget. A run that crosses an alert's threshold
publishes `budget.alert` (for webhooks). Plans: free (no subscription), or pro and
enterprise after a checkout; each includes PLAN_CREDITS cents a month.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso, period_start_ms
from theazo_emu.core.errors import SessionLimitExceeded
from theazo_emu.theazo.domain import events, ledger, pricing

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, CHECKOUTS = "billing_accounts", "billing_checkouts"
PLAN_PRICES = {"free": 0, "pro": 9900, "enterprise": 99900}  # cents a month (the emulator's figures)
PLAN_CREDITS = {"free": 500, "pro": 9900, "enterprise": 99900}  # cents of usage included a month
CHECKOUT_TTL_MS = 86_400_000


def account(t: "Tenant") -> dict[str, Any]:
    """The tenant's account row, or an empty one (nothing configured)."""
    row = t.store.find(TABLE, order=None)  # on configured runs
    return row or {"tenant": t.name, "subscription": None, "budget": None, "user_budget": None, "updated_at": None}


def save(t: "Tenant", **changes: Any) -> dict[str, Any]:
    """Write some columns of the account (creating it), and return the row."""
    row = {**account(t), **changes, "updated_at": t.now_iso()}
    view = t.store
    with view.atomic():
        view.delete(TABLE, "1")
        view.insert(TABLE, {k: v for k, v in row.items() if k != "tenant"})
    return row


def month_spent(t: "Tenant", user_id: str | None = None) -> int:
    """Cents charged this UTC month until now (one user's when given)."""
    now = t.now_ms()
    filters = {"user_id": user_id} if user_id else {}
    return ledger.totals(t.store, period_start_ms("month", now), now, **filters).total_cents


def status(budget: dict | None, spent: int) -> dict[str, Any]:
    """The SDK's BillingBudgetStatus for a budget (zero budget when none is set)."""
    amount = budget["monthly"]["amount"] if budget else 0
    alerts = [{**alert, "fired": amount > 0 and spent >= alert["threshold"] * amount}
              for alert in (budget or {}).get("alerts") or []]
    return {"budget": pricing.cost(amount), "spent": pricing.cost(spent),
            "remaining": pricing.cost(max(0, amount - spent)), "percentage": round(100 * spent / amount, 2) if amount else 0, "alerts": alerts,
            "configured": budget is not None}


def check(t: "Tenant", session: dict) -> dict[str, Any]:
    """Refuse a run (402) when the user's budget or a `pause_all` org alert is reached;
    returns the account (for after_run)."""
    acct = account(t)
    if acct["user_budget"]:
        limit = acct["user_budget"]["monthly"]["amount"]
        used = month_spent(t, session["user_id"])
        if used >= limit:
            raise SessionLimitExceeded(
                f"User '{session['user_id'][:100]}' reached the per-user monthly budget ({used} of {limit} cents).",
                {"limit": "userBudget", "max": limit, "used": used, "remaining": max(0, limit - used),
                 "userId": session["user_id"], "sessionId": session["id"]})
    budget = acct["budget"]
    stops = [a["threshold"] for a in (budget or {}).get("alerts") or [] if a.get("action") == "pause_all"]
    if stops:
        limit = budget["monthly"]["amount"]
        used = month_spent(t)
        if any(used >= threshold * limit for threshold in stops):
            raise SessionLimitExceeded(
                f"The monthly budget's pause_all alert is reached ({used} of {limit} cents spent): runs are paused "
                "until next month or a higher budget.",
                {"limit": "monthlyBudget", "max": limit, "used": used, "remaining": max(0, limit - used),
                 "sessionId": session["id"]})
    return acct


def after_run(t: "Tenant", acct: dict, run: dict) -> None:
    """Publish `budget.alert` for each org alert threshold the run's charges crossed."""
    budget = acct["budget"]
    if not budget or not budget.get("alerts"):
        return
    amount, after = budget["monthly"]["amount"], month_spent(t)
    before = after - run["result"]["cost"]["amount"]
    for alert in budget["alerts"]:
        line = alert["threshold"] * amount
        if before < line <= after:
            events.publish(t, events.Event("budget.alert", {
                "threshold": alert["threshold"], "action": alert.get("action"), "budget": pricing.cost(amount),
                "spent": pricing.cost(after), "taskId": run["id"], "userId": run["user_id"]}, t.now_ms()))


def add_month(ms: int, months: int = 1) -> int:
    """The same day and time `months` later (the month's last day when it is shorter)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp() * 1000)


def subscription_to_api(sub: dict | None, now_ms: int) -> dict[str, Any] | None:
    """The SDK's BillingSubscription, its period the one containing now (monthly renewals);
    a subscription cancelled at period end reads `cancelled` once that end has passed."""
    if sub is None:
        return None
    start = sub["startedMs"]
    periods = _periods(start, now_ms)
    begin, end = add_month(start, periods), add_month(start, periods + 1)
    state = "active"
    if sub["cancelAtPeriodEnd"] and now_ms >= add_month(start, sub["cancelAfterPeriods"]):
        state, begin, end = "cancelled", add_month(start, sub["cancelAfterPeriods"] - 1), add_month(
            start, sub["cancelAfterPeriods"])
    return {"id": sub["id"], "plan": sub["plan"], "status": state, "currentPeriodStart": iso(begin),
            "currentPeriodEnd": iso(end), "cancelAtPeriodEnd": sub["cancelAtPeriodEnd"]}


def _periods(start_ms: int, now_ms: int) -> int:
    """How many whole monthly periods have passed since `start_ms`."""
    periods = 0
    while add_month(start_ms, periods + 1) <= now_ms:
        periods += 1
    return periods


def cancel_at_period_end(sub: dict, now_ms: int, cancel: bool) -> dict:
    """The subscription set to end with its current period (or not to, when resumed)."""
    return {**sub, "cancelAtPeriodEnd": cancel, "cancelAfterPeriods": _periods(sub["startedMs"], now_ms) + 1
            if cancel else None}


def plan(sub: dict | None, now_ms: int) -> str:
    current = subscription_to_api(sub, now_ms)
    return current["plan"] if current and current["status"] == "active" else "free"
