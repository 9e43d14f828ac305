"""Session limits: what they allow, what is used, and the 402 when one is reached.

Usage is read from the ledger (cost, compute minutes) and the agents table (concurrent
agents), so the numbers GET /limits shows are the numbers enforcement uses. A limit is
"reached" when used >= limit: the next agent or run is refused with
`session_limit_exceeded`; reaching `maxComputeMinutes` also pauses the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import period_start_ms
from theazo_emu.core.errors import SessionLimitExceeded
from theazo_emu.theazo.domain import ledger, pricing

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant


def active_agents(t: "Tenant", session: dict) -> int:
    return t.store.count("agents", "session_id = ? AND status != 'terminated'", [session["id"]])


def usage(t: "Tenant", session: dict) -> dict[str, tuple[float, float]]:
    """{limit name: (limit, used)} for every limit the session has."""
    limits, now, out = session["limits"] or {}, t.now_ms(), {}
    if limits.get("maxCost"):
        since = period_start_ms(limits["maxCost"].get("period", "session"), now)
        spent = ledger.totals(t.store, since, None, session_id=session["id"]).total_cents
        out["maxCost"] = (limits["maxCost"]["amount"], spent)
    if limits.get("maxAgents") is not None:
        out["maxAgents"] = (limits["maxAgents"], active_agents(t, session))
    if limits.get("maxComputeMinutes") is not None:
        minutes = ledger.totals(t.store, session_id=session["id"]).compute_minutes
        out["maxComputeMinutes"] = (limits["maxComputeMinutes"], minutes)
    return out


def view(t: "Tenant", session: dict) -> dict[str, Any]:
    """The SDK's limits view: limit, used, remaining and percentage per limit."""
    out: dict[str, Any] = {}
    for name, (limit, used) in usage(t, session).items():
        entry = {"limit": limit, "used": used, "remaining": max(0, limit - used),
                 "percentage": round(100 * used / limit, 2) if limit else 100.0}
        if name == "maxCost":
            entry.update(currency=session["limits"]["maxCost"].get("currency", pricing.CURRENCY),
                         period=session["limits"]["maxCost"].get("period", "session"))
        out[name] = entry
    if (session["limits"] or {}).get("maxDuration"):
        out["maxDuration"] = session["limits"]["maxDuration"]
    return out


def check(t: "Tenant", session: dict, names: tuple[str, ...]) -> None:
    """Raise 402 naming the first of `names` that is reached."""
    current = usage(t, session)
    for name in names:
        if name in current and current[name][1] >= current[name][0]:
            limit, used = current[name]
            raise SessionLimitExceeded(
                f"Session {session['id']} reached its {name} limit ({_fmt(used)} of {_fmt(limit)} used).",
                {"limit": name, "max": limit, "used": used, "remaining": max(0, limit - used),
                 "sessionId": session["id"]})


def compute_reached(t: "Tenant", session: dict) -> bool:
    entry = usage(t, session).get("maxComputeMinutes")
    return entry is not None and entry[1] >= entry[0]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
