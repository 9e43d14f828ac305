"""The Theo ledger and credits: one row per completion; usage and balances derive from it.

theo-api.md §3.4 and the billing pages: every completion is charged from the one price
table (engines.py) in units of 1/10,000 cent; GET /usage is an aggregate of these rows
(totals, by mode, by model), so it always agrees with the completions' own `usage`.
A tenant may have a credit balance (set through /_emu/theo/account or fixtures; none by
default, as Theo's test keys are not billed): a completion asked for with a balance at or
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
    from theazo_emu.emulator import Emulator

LEDGER, CREDITS = "theo_ledger", "theo_credits"
DEFAULT_LOW_UNITS = 500 * UNITS_PER_CENT  # $5.00


def account(emu: "Emulator", tenant: str) -> dict[str, Any]:
    """The tenant's balance (None: not billed) and threshold, in units."""
    row = emu.store.one("SELECT * FROM theo_credits WHERE tenant = ?", [tenant])
    return row or {"tenant": tenant, "balance_units": None, "low_units": DEFAULT_LOW_UNITS, "low_sent": 0}


def account_to_api(row: dict[str, Any]) -> dict[str, Any]:
    balance = row["balance_units"]
    return {"balanceCents": None if balance is None else cents(balance), "lowThresholdCents": cents(row["low_units"]),
            "lowNotified": bool(row["low_sent"])}


def set_account(emu: "Emulator", tenant: str, balance_units: int | None, low_units: int | None) -> dict[str, Any]:
    """Set a balance (None: stop billing) and optionally the threshold."""
    current = account(emu, tenant)
    low = current["low_units"] if low_units is None else low_units
    low_sent = int(balance_units is not None and balance_units < low and bool(current["low_sent"]))
    emu.store.db.execute(
        "INSERT INTO theo_credits (tenant, balance_units, low_units, low_sent) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(tenant) DO UPDATE SET balance_units = excluded.balance_units, low_units = excluded.low_units, "
        "low_sent = excluded.low_sent", [tenant, balance_units, low, low_sent])
    return account(emu, tenant)


def require_credits(emu: "Emulator", tenant: str) -> None:
    """402 `insufficient_credits` when the tenant is billed and its balance is used up."""
    balance = account(emu, tenant)["balance_units"]
    if balance is not None and balance <= 0:
        raise TheoError(402, "insufficient_credits",
                        f"Insufficient credits: the balance is {cents(balance)} cents. Add credits to continue "
                        "(PUT /_emu/theo/account sets the emulator's balance).")


def charge(emu: "Emulator", row: dict[str, Any]) -> int | None:
    """Book one completion (call inside its transaction); returns the balance after it, in units."""
    emu.store.insert(LEDGER, row)
    current = account(emu, row["tenant"])
    balance = current["balance_units"]
    if balance is None or not row["cost_units"]:
        return balance
    balance -= row["cost_units"]
    fire = balance < current["low_units"] and not current["low_sent"]
    emu.store.db.execute("UPDATE theo_credits SET balance_units = ?, low_sent = ? WHERE tenant = ?",
                         [balance, int(fire or current["low_sent"]), row["tenant"]])
    if fire:
        events.emit(emu, row["tenant"], "credits.low", {"balance_cents": cents(balance),
                                                         "threshold_cents": cents(current["low_units"])})
    return balance


def usage(emu: "Emulator", tenant: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    """Totals, by resolved mode and by model, of the completions booked in [start, end]."""
    rows = emu.store.all(
        "SELECT resolved_mode, model, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, "
        "SUM(completion_tokens) AS completion_tokens, SUM(cost_units) AS cost_units FROM theo_ledger "
        "WHERE tenant = ? AND at_ms BETWEEN ? AND ? GROUP BY resolved_mode, model ORDER BY resolved_mode, model",
        [tenant, start_ms, end_ms])
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
            "total_tokens": prompt + completion, "cost_cents": cents(sum(r["cost_units"] for r in rows))}
