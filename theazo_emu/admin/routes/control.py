"""The emulator's own admin API under /_emu: the clock, settle and reset (to the fixtures' seeds).

These routes take no API key: the emulator binds loopback by default and this API is
for the test suite that started it. Clock moves wake every waiting stream. (Health is
in app.py, with the routes that are loaded from the start.)
"""

from __future__ import annotations

from theazo_emu.core import timers
from theazo_emu.core.auth import tenant_of
from theazo_emu.core.clock import parse_iso
from theazo_emu.core.errors import invalid
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies import ClockAdvance, ResetBody, SettleBody

SETTLE_ROUNDS = 100


async def get_clock(ctx: Ctx) -> dict:
    """The virtual clock."""
    return ctx.emu.clock.describe()


async def advance_clock(ctx: Ctx) -> dict:
    """Move the clock forward by `seconds` or to an instant `to` (at most 10 years at once),
    firing what falls due; answers the clock and a summary of what fired."""
    body: ClockAdvance = ctx.body
    clock = ctx.emu.clock
    if body.to is not None:
        try:
            target = parse_iso(body.to)
        except (ValueError, OverflowError):
            raise invalid("to", "must be an ISO 8601 date-time") from None
        if target < clock.now_ms():
            raise invalid("to", "must not be before the current virtual time")
        if target - clock.now_ms() > timers.MAX_ADVANCE_MS:
            raise invalid("to", f"must be at most {timers.MAX_ADVANCE_MS // 1000} seconds (10 years) ahead")
    else:
        target = clock.now_ms() + int(round((body.seconds or 0) * 1000))
    fired = await timers.advance(ctx.emu, target)
    return {"clock": clock.describe(), **fired.to_api()}


async def settle(ctx: Ctx) -> dict:
    """Advance the clock until no agent run is in flight (one key's, or anyone's)."""
    body: SettleBody = ctx.body
    where, params = "status = 'running' AND end_ms > ?", []
    if body.key:
        where += " AND tenant = ?"
        params.append(tenant_of(body.key))
    fired = timers.Fired()
    for _ in range(SETTLE_ROUNDS):  # a firing may start new runs: settle those too
        end = ctx.emu.store.scalar(f"SELECT MAX(end_ms) FROM runs WHERE {where}", [ctx.emu.clock.now_ms(), *params])
        if end is None:
            break
        await timers.advance(ctx.emu, end, fired)
    return {"clock": ctx.emu.clock.describe(), **fired.to_api()}


async def freeze_clock(ctx: Ctx) -> dict:
    """Stop the clock where it is."""
    ctx.emu.clock.freeze()
    ctx.emu.save_clock()
    return ctx.emu.clock.describe()


async def resume_clock(ctx: Ctx) -> dict:
    """Let the clock flow with wall time again, from where it stands."""
    ctx.emu.clock.resume()
    ctx.emu.changes.notify()
    return ctx.emu.clock.describe()


async def reset(ctx: Ctx) -> dict:
    """Forget every tenant's state and rate-limit windows, or one tenant's (`{"tenant": "th_test_..."}`);
    a full reset also rewinds a replayed cassette."""
    body: ResetBody = ctx.body
    tenant = tenant_of(body.tenant) if body.tenant else None
    store = ctx.emu.store  # one tenant's rows, or every tenant's
    known = tenant is None or ctx.emu.aliases.of_tenant(tenant) is not None or \
        store.scalar("SELECT EXISTS (SELECT 1 FROM counters WHERE tenant = ?)", [tenant])
    store.reset(tenant)
    ctx.emu.rate_limiter.reset(body.tenant)  # the key's windows, or every key's
    if body.tenant is None:
        ctx.emu.extras.clear()  # the surfaces' in-memory state (Theo's limits, its health override)
        ctx.emu.tape.rewind()  # a replayed cassette can be consumed again from its start
    else:
        for extra in ctx.emu.extras.values():
            getattr(extra, "reset", lambda key: None)(body.tenant)
    seeded = await ctx.emu.fixtures.after_reset(body.tenant)  # back to the fixtures' seeded state
    ctx.emu.changes.notify()
    answer = {"ok": True, "scope": "tenant" if tenant else "all"}
    if tenant is not None:
        answer["known"] = bool(known)  # whether the emulator had seen this key (state or requests)
    return answer | {"seededKeys": seeded} if seeded else answer


routes = [
    api_route("/_emu/clock", get_clock, public=True),
    api_route("/_emu/clock/advance", advance_clock, "POST", body=ClockAdvance, public=True),
    api_route("/_emu/clock/freeze", freeze_clock, "POST", public=True),
    api_route("/_emu/settle", settle, "POST", body=SettleBody, public=True),
    api_route("/_emu/clock/resume", resume_clock, "POST", public=True),
    api_route("/_emu/reset", reset, "POST", body=ResetBody, public=True),
]
