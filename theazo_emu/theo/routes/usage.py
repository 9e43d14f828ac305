"""GET /api/v1/usage: totals, by mode and by model, of the Theo ledger (theo-api.md §1.2).

`from` and `to` are ISO dates or instants, both inclusive (a plain date as `to` means that
whole day); the default is the current UTC month of the virtual clock until now. `scope`
is `user` (default) or `org`, which only an org key may ask for (403 otherwise). The
numbers are the same rows the completions' own `usage` came from, so they always agree.
"""

from __future__ import annotations

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Forbidden
from theazo_emu.core.http import Ctx, api_route, query_choice
from theazo_emu.theo.domain import ledger
from theazo_emu.theo.surface import key_facts, period


async def get_usage(ctx: Ctx) -> dict:
    """Requests, tokens and cost over a period, by mode and by model."""
    scope = query_choice(ctx, "scope", ("user", "org")) or "user"
    row, _ = key_facts(ctx)
    if scope == "org" and (row is None or row["scope"] != "org"):
        raise Forbidden("Org usage needs an org key (created with scope 'org'); this key is personal.")
    start, end = period(ctx)
    report = ledger.usage(ctx.t, start, end)
    return {"period": {"from": iso(start), "to": iso(end)}, "scope": scope, **report}


routes = [
    api_route("/api/v1/usage", get_usage, query=("scope", "from", "to")),
]
