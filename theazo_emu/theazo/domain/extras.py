"""Whether a tenant has configured anything every run consults: webhook endpoints (run
events, domain/events.py), a billing account (budgets, domain/budgets.py) or MCP connections
(tools, domain/mcp.py).

Runs are the hot path (a year of an hourly schedule is 8,760 of them in one clock advance),
and most tenants configure none of these, so `configured()` asks all three in one indexed
statement and agents.start_run skips the three lookups when the answer is no.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

_ANY = ("SELECT EXISTS (SELECT 1 FROM webhooks WHERE tenant = :tenant) OR EXISTS (SELECT 1 FROM billing_accounts "
        "WHERE tenant = :tenant) OR EXISTS (SELECT 1 FROM mcp_connections WHERE tenant = :tenant) AS configured")


def configured(t: "Tenant") -> bool:
    return bool(t.store.select(_ANY)[0]["configured"])
