"""The Theo ledger and credits: one row per completion; usage and balances derive from it.

theo-api.md §3.4 and the billing pages: every completion is charged from the one price
table (engines.py) in units of 1/10,000 cent; GET /usage is an aggregate of these rows
(totals, by mode, by model), so it always agrees with the completions' own `usage`; a
completion the semantic cache served is a row at zero tokens and cost, counted in
`cache_hits`. A tenant may have a credit balance (set through /_emu/theo/account or
fixtures; none by default, as Theo's test keys are not billed): a completion asked for with a balance at or
below zero is refused with 402 `insufficient_credits`; a charge that takes the balance
below the threshold ($5.00 unless set) emits `credits.low` once, until the balance is
raised above it again. Owns the theo_ledger and theo_credits tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.theo.domain import events
from theazo_emu.theo.domain.engines import UNITS_PER_CENT, cents
from theazo_emu.theo.domain.errors import TheoError

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

LEDGER, CREDITS = "theo_ledger", "theo_credits"
DEFAULT_LOW_UNITS = 500 * UNITS_PER_CENT  # $5.00


def account(t: "Tenant") -> dict[str, Any]:
    """The tenant's balance (None: not billed) and threshold, in units."""
    row = t.store.find(CREDITS, order=None)
    return row or {"tenant": t.name, "balance_units": None, "low_units": DEFAULT_LOW_UNITS, "low_sent": 0}


def account_to_api(row: dict[str, Any]) -> dict[str, Any]:
    balance = row["balance_units"]
    return {"balanceCents": None if balance is None else cents(balance), "lowThresholdCents": cents(row["low_units"]),
            "lowNotified": bool(row["low_sent"])}


def set_account(t: "Tenant", balance_units: int | None, low_units: int | None) -> dict[str, Any]:
    """Set a balance (None: stop billing) and optionally the threshold."""
    current = account(t)
    low = current["low_units"] if low_units is None else low_units
    low_sent = int(balance_units is not None and balance_units < low and bool(current["low_sent"]))
    t.store.execute(
        "INSERT INTO theo_credits (tenant, balance_units, low_units, low_sent) VALUES (:tenant, :balance, :low, "
        ":low_sent) ON CONFLICT(tenant) DO UPDATE SET balance_units = excluded.balance_units, "
        "low_units = excluded.low_units, low_sent = excluded.low_sent",
        balance=balance_units, low=low, low_sent=low_sent)
    return account(t)


def require_credits(t: "Tenant") -> None:
    """402 `insufficient_credits` when the tenant is billed and its balance is used up."""
    balance = account(t)["balance_units"]
    if balance is not None and balance <= 0:
        raise TheoError(402, "insufficient_credits",
                        f"Insufficient credits: the balance is {cents(balance)} cents. Add credits to continue "
                        "(PUT /_emu/theo/account sets the emulator's balance).")


def charge(t: "Tenant", row: dict[str, Any]) -> int | None:
    """Book one completion (call inside its transaction); returns the balance after it, in units."""
    t.store.insert(LEDGER, row)
    current = account(t)
    balance = current["balance_units"]
    if balance is None or not row["cost_units"]:
        return balance
    balance -= row["cost_units"]
    fire = balance < current["low_units"] and not current["low_sent"]
    t.store.execute("UPDATE theo_credits SET balance_units = :balance, low_sent = :low_sent WHERE tenant = :tenant",
                    balance=balance, low_sent=int(fire or current["low_sent"]))
    if fire:
        events.emit(t, "credits.low", {"balance_cents": cents(balance),
                                                         "threshold_cents": cents(current["low_units"])})
    return balance


def usage(t: "Tenant", start_ms: int, end_ms: int) -> dict[str, Any]:
    """Totals, by resolved mode and by model, of the completions booked in [start, end]."""
    rows = t.store.select(
        "SELECT resolved_mode, model, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, "
        "SUM(completion_tokens) AS completion_tokens, SUM(cost_units) AS cost_units, SUM(cached) AS cache_hits "
        "FROM theo_ledger "
        "WHERE tenant = :tenant AND at_ms BETWEEN :start AND :end GROUP BY resolved_mode, model "
        "ORDER BY resolved_mode, model", start=start_ms, end=end_ms)
    totals = _sum(rows)
    by_mode: dict[str, list[dict]] = {}
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_mode.setdefault(row["resolved_mode"], []).append(row)
        by_model.setdefault(row["model"], []).append(row)
    return {"totals": totals, "by_mode": {k: _sum(v) for k, v in by_mode.items()},
            "by_model": {k: _sum(v) for k, v in by_model.items()}}


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = sum(r["prompt_tokens"] for r in rows)
    completion = sum(r["completion_tokens"] for r in rows)
    return {"requests": sum(r["requests"] for r in rows), "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "cost_cents": cents(sum(r["cost_units"] for r in rows)),
            "cache_hits": sum(r["cache_hits"] for r in rows)}
