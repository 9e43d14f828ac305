"""The cost ledger: every charge is one row, and every usage view is an aggregate of it.

Rows carry tenant, user, session, agent, run, model, provider, the kind of charge
(`compute` in minutes, `model` in tokens and calls, `storage` in GB), integer cents, and
the virtual-clock time. Usage and billing views, session usage and limit checks read
these rows only through `totals()`, `grouped()` and `entries()`, which share one SQL sum
and one time window (inclusive at both ends), so every view agrees with every other. They
read through one tenant's view of the store (store.Scoped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from theazo_emu.core.clock import iso
from theazo_emu.core.store import Scoped

TABLE = "ledger"


@dataclass(frozen=True)
class Totals:
    compute_minutes: float = 0
    compute_cents: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    model_cents: int = 0
    storage_gb: float = 0
    storage_cents: int = 0
    sessions: int = 0  # distinct sessions and agents with a charge
    agents: int = 0

    @property
    def total_cents(self) -> int:
        return self.compute_cents + self.model_cents + self.storage_cents


def charge(tenant: str, at_ms: int, kind: str, amount: int, *, quantity: float = 0, input_tokens: int = 0,
           output_tokens: int = 0, calls: int = 0, **who: Any) -> dict[str, Any]:
    """One charge row. `who` names user_id, session_id, agent_id, run_id, model, provider."""
    return {"tenant": tenant, "kind": kind, "amount": amount, "quantity": quantity, "input_tokens": input_tokens,
            "output_tokens": output_tokens, "calls": calls, "at": iso(at_ms), "at_ms": at_ms, **who}


def book(view: Scoped, *charges: dict[str, Any]) -> None:
    """Write this tenant's charges made by `charge()` (the same `who` names), in one statement."""
    view.insert_many(TABLE, list(charges))


_SUMS = (
    "COALESCE(SUM(CASE WHEN kind='compute' THEN quantity END), 0) AS cm, "
    "COALESCE(SUM(CASE WHEN kind='compute' THEN amount END), 0) AS cc, "
    "COALESCE(SUM(input_tokens), 0) AS it, COALESCE(SUM(output_tokens), 0) AS ot, "
    "COALESCE(SUM(calls), 0) AS calls, "
    "COALESCE(SUM(CASE WHEN kind='model' THEN amount END), 0) AS mc, "
    "COALESCE(SUM(CASE WHEN kind='storage' THEN quantity END), 0) AS sg, "
    "COALESCE(SUM(CASE WHEN kind='storage' THEN amount END), 0) AS sc, "
    "COUNT(DISTINCT session_id) AS ns, COUNT(DISTINCT agent_id) AS na"
)
# What grouped() can group by; `day` is the UTC date of the virtual-clock time.
GROUPS = {"user": "user_id", "session": "session_id", "agent": "agent_id", "model": "model",
          "provider": "provider", "kind": "kind", "day": "substr(at, 1, 10)"}


def _totals(row: dict) -> Totals:
    return Totals(_number(row["cm"]), row["cc"], row["it"], row["ot"], row["calls"], row["mc"], _number(row["sg"]),
                  row["sc"], row["ns"], row["na"])


def totals(view: Scoped, since_ms: int | None = None, until_ms: int | None = None, **filters: str) -> Totals:
    """Aggregates over [since, until] for this tenant, optionally per session/user/agent."""
    where, params = _window(since_ms, until_ms, filters)
    row = view.find(TABLE, where, params, order=None, columns=_SUMS)
    assert row is not None
    return _totals(row)


def grouped(view: Scoped, by: str, since_ms: int | None = None, until_ms: int | None = None,
            **filters: str) -> list[tuple[str | None, Totals]]:
    """(key, Totals) per user/session/agent/model/provider/kind/day over [since, until],
    ordered by key; rows without that attribute form the `None` group, so the groups
    always add up to `totals()` over the same window."""
    where, params = _window(since_ms, until_ms, filters)
    rows = view.rows(TABLE, where, params, columns=f"{GROUPS[by]} AS k, {_SUMS}", group="k", order="k")
    return [(row["k"], _totals(row)) for row in rows]


def entries(view: Scoped, since_ms: int | None = None, until_ms: int | None = None,
            **filters: str) -> list[dict[str, Any]]:
    """The rows themselves over [since, until], oldest first (for exports)."""
    where, params = _window(since_ms, until_ms, filters)
    return view.rows(TABLE, where, params, order="at_ms, id")


def daily(view: Scoped, since_ms: int, until_ms: int, **filters: str) -> list[tuple[str, Totals]]:
    """(UTC date, Totals) for every day from since's date to until's, days without charges included."""
    found = dict(grouped(view, "day", since_ms, until_ms, **filters))
    first, last = date.fromisoformat(iso(since_ms)[:10]), date.fromisoformat(iso(until_ms)[:10])
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [(day.isoformat(), found.get(day.isoformat(), Totals())) for day in days]


def _number(value: float) -> int | float:
    """Whole quantities as integers, so `142` reads as in the reference rather than `142.0`."""
    return int(value) if float(value).is_integer() else round(value, 4)


def top_user(view: Scoped, since_ms: int | None, until_ms: int | None) -> dict | None:
    """The user with the highest cost in the window (ties broken by user id)."""
    where, params = _window(since_ms, until_ms, {})
    return view.find(TABLE, f"{where} AND user_id IS NOT NULL", params, columns="user_id, SUM(amount) AS cents",
                     group="user_id", order="cents DESC, user_id ASC")


def _window(since_ms: int | None, until_ms: int | None, filters: dict[str, str]) -> tuple[str, list]:
    clauses, params = [], []
    if since_ms is not None:
        clauses.append("at_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        clauses.append("at_ms <= ?")
        params.append(until_ms)
    for column, value in sorted(filters.items()):
        clauses.append(f"[{column}] = ?")
        params.append(value)
    return " AND ".join(clauses) or "1", params
