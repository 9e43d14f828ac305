"""The cost ledger: every charge is one row, and every usage view is an aggregate of it.

Rows carry tenant, user, session, agent, run, model, provider, the kind of charge
(`compute` in minutes, `model` in tokens and calls, `storage` in GB), integer cents, and
the virtual-clock time. Because usage summaries, session usage and limit checks all
read these rows, they always agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import iso
from .store import Store


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

    @property
    def total_cents(self) -> int:
        return self.compute_cents + self.model_cents + self.storage_cents


def book(store: Store, tenant: str, at_ms: int, kind: str, amount: int, *, quantity: float = 0,
         input_tokens: int = 0, output_tokens: int = 0, calls: int = 0, **who: Any) -> None:
    """Write one charge. `who` names user_id, session_id, agent_id, run_id, model, provider."""
    store.insert("ledger", {
        "tenant": tenant, "kind": kind, "amount": amount, "quantity": quantity,
        "input_tokens": input_tokens, "output_tokens": output_tokens, "calls": calls,
        "at": iso(at_ms), "at_ms": at_ms, **who,
    })


def totals(store: Store, tenant: str, since_ms: int | None = None, until_ms: int | None = None,
           **filters: str) -> Totals:
    """Aggregates over [since, until] for this tenant, optionally per session/user/agent."""
    where, params = _window(tenant, since_ms, until_ms, filters)
    row = store.one(
        "SELECT "
        "COALESCE(SUM(CASE WHEN kind='compute' THEN quantity END), 0) AS cm, "
        "COALESCE(SUM(CASE WHEN kind='compute' THEN amount END), 0) AS cc, "
        "COALESCE(SUM(input_tokens), 0) AS it, COALESCE(SUM(output_tokens), 0) AS ot, "
        "COALESCE(SUM(calls), 0) AS calls, "
        "COALESCE(SUM(CASE WHEN kind='model' THEN amount END), 0) AS mc, "
        "COALESCE(SUM(CASE WHEN kind='storage' THEN quantity END), 0) AS sg, "
        "COALESCE(SUM(CASE WHEN kind='storage' THEN amount END), 0) AS sc "
        f"FROM ledger WHERE {where}", params)
    assert row is not None
    return Totals(_number(row["cm"]), row["cc"], row["it"], row["ot"], row["calls"], row["mc"], _number(row["sg"]),
                  row["sc"])


def _number(value: float) -> int | float:
    """Whole quantities as integers, so `142` reads as in the reference rather than `142.0`."""
    return int(value) if float(value).is_integer() else round(value, 4)


def top_user(store: Store, tenant: str, since_ms: int | None, until_ms: int | None) -> dict | None:
    """The user with the highest cost in the window (ties broken by user id)."""
    where, params = _window(tenant, since_ms, until_ms, {})
    row = store.one(f"SELECT user_id, SUM(amount) AS cents FROM ledger WHERE {where} AND user_id IS NOT NULL "
                    "GROUP BY user_id ORDER BY cents DESC, user_id ASC LIMIT 1", params)
    return row


def _window(tenant: str, since_ms: int | None, until_ms: int | None, filters: dict[str, str]) -> tuple[str, list]:
    clauses, params = ["tenant = ?"], [tenant]
    if since_ms is not None:
        clauses.append("at_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        clauses.append("at_ms <= ?")
        params.append(until_ms)
    for column, value in sorted(filters.items()):
        clauses.append(f"[{column}] = ?")
        params.append(value)
    return " AND ".join(clauses), params
