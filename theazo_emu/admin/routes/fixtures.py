"""Admin routes for fixtures and faults: /_emu/fixtures(/reload) and /_emu/faults(/:id).

Like the rest of /_emu they take no API key and are never faulted themselves. Rules
added here take precedence over the fixtures' (faults.py); DELETE /_emu/faults clears
both until the next reload or reset reinstalls the fixtures' rules. A reload that finds
problems answers 422 listing them (file, line, field, message) and changes nothing.
POST /_emu/fixtures adds a fixture document at run time (fixtures.py), for one key or all.
"""

from __future__ import annotations

from theazo_emu.core.errors import NotFound, Unprocessable
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.fixtures.models import FaultSpec, FixtureDocument


async def get_fixtures(ctx: Ctx) -> dict:
    """The fixture set in force: directory, files, counts, and the last refused load's problems."""
    return ctx.emu.fixtures.summary()


async def add_fixtures(ctx: Ctx) -> dict:
    """Put a fixture document in force (for `key` only, when given), seeding it now."""
    return (await ctx.emu.fixtures.add_document(ctx.body)).to_api()


async def remove_fixtures(ctx: Ctx) -> dict:
    """Forget the documents added by API (all, or `?key=`'s); the files stay in force."""
    return {"ok": True, "deleted": ctx.emu.fixtures.remove_documents(ctx.query.get("key") or None)}


async def reload_fixtures(ctx: Ctx) -> dict:
    """Reload the fixture directory now; 422 with the problems if it is broken (last good set kept)."""
    problems = await ctx.emu.fixtures.reload()
    if problems:
        raise Unprocessable(f"Fixtures not reloaded ({len(problems)} problem(s)); the last good set stays in force. "
                            f"First: {problems[0]}", [p.to_api() for p in problems])
    return {"ok": True, **ctx.emu.fixtures.summary()}


async def list_faults(ctx: Ctx) -> dict:
    """Every fault rule in the order they are tried, with their counters."""
    return {"data": [rule.to_api() for rule in ctx.emu.faults.rules()]}


async def add_fault(ctx: Ctx) -> dict:
    """Add a fault rule (tried before the fixtures' rules)."""
    return ctx.emu.faults.add(ctx.body).to_api()


async def clear_faults(ctx: Ctx) -> dict:
    """Remove every fault rule, the fixtures' included (until the next reload or reset)."""
    return {"ok": True, "deleted": ctx.emu.faults.clear()}


async def delete_fault(ctx: Ctx) -> dict:
    """Remove one fault rule."""
    rule_id = ctx.params["fault_id"]
    if not ctx.emu.faults.remove(rule_id):
        raise NotFound("fault rule", rule_id)
    return {"ok": True, "id": rule_id}


routes = [
    api_route("/_emu/fixtures", get_fixtures, public=True),
    api_route("/_emu/fixtures", add_fixtures, "POST", body=FixtureDocument, public=True, status=201),
    api_route("/_emu/fixtures", remove_fixtures, "DELETE", public=True, query=("key",)),
    api_route("/_emu/fixtures/reload", reload_fixtures, "POST", public=True),
    api_route("/_emu/faults", list_faults, public=True),
    api_route("/_emu/faults", add_fault, "POST", body=FaultSpec, public=True, status=201),
    api_route("/_emu/faults", clear_faults, "DELETE", public=True),
    api_route("/_emu/faults/{fault_id}", delete_fault, "DELETE", public=True),
]
