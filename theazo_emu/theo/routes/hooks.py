"""Hooks and events: /api/v1/hooks (create, list with the presets, patch, delete, history)
and POST /api/v1/events (publish an event; which hooks and webhooks it reached).

theo-api.md §1.3; matching and executions are theo/domain/hooks.py. A hook is made from a
preset (`hook_preset_id`: its pattern, and its default skill unless `skill_slug` says
another) or an `event_pattern`. History is at GET /hooks/:id (the docs: the hook and its
executions) and GET /hooks/:id/executions (the SDK: `{executions}`), newest first. An
event published here also starts the tenant's enabled workflows whose trigger is that event
type (`triggerConfig.eventType`) and runs its installed skills whose event trigger matches
(triggers.py; `matchedSkills` counts them). Another tenant's id is 404.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.platform import CreateHook, PublishEvent, UpdateHook
from theazo_emu.theo.domain import events, triggers, workflows
from theazo_emu.theo.domain import hooks as domain


def _hook(ctx: Ctx) -> dict[str, Any]:
    return ctx.store.get(domain.TABLE, ctx.params["hook_id"], domain.KIND)


def _executions(ctx: Ctx, hook_id: str) -> list[dict[str, Any]]:
    rows = ctx.store.rows(domain.EXECUTIONS, "hook_id = ?", [hook_id], order="id DESC", limit=100)
    return [domain.execution_to_api(row) for row in rows]


async def list_hooks(ctx: Ctx) -> dict:
    """This tenant's hooks, newest first, and the presets a hook can start from."""
    return {"hooks": [domain.hook_to_api(row) for row in ctx.store.rows(domain.TABLE, order="id DESC")],
            "presets": list(domain.PRESETS)}


async def create_hook(ctx: Ctx) -> dict:
    """Run a skill when an event matches a pattern (or a preset's)."""
    body: CreateHook = ctx.body
    preset = domain.PRESETS_BY_ID.get(body.hook_preset_id or "")
    now = ctx.now_iso()
    with ctx.store.atomic():
        row = {"id": ctx.t.new_id("hook"), "hook_preset_id": body.hook_preset_id,
               "event_pattern": preset["event_pattern"] if preset else body.event_pattern,
               "skill_slug": body.skill_slug, "enabled": 1, "cooldown_minutes": body.cooldown_minutes,
               "config": body.config or {}, "consecutive_failures": 0, "last_fired_ms": None, "created_at": now,
               "updated_at": now}
        ctx.store.insert(domain.TABLE, row)
    return domain.hook_to_api(row)


async def get_hook(ctx: Ctx) -> dict:
    """A hook and its execution history."""
    row = _hook(ctx)
    return {**domain.hook_to_api(row), "executions": _executions(ctx, row["id"])}


async def update_hook(ctx: Ctx) -> dict:
    """Turn a hook on or off, change its cooldown or config."""
    body: UpdateHook = ctx.body
    row = _hook(ctx)
    changes: dict[str, Any] = {"updated_at": ctx.now_iso()}
    if body.enabled is not None:
        changes["enabled"] = int(body.enabled)
    if "cooldown_minutes" in body.model_fields_set:
        changes["cooldown_minutes"] = body.cooldown_minutes
    if body.config is not None:
        changes["config"] = body.config
    ctx.store.update(domain.TABLE, row["id"], changes)
    return {"updated": True, **domain.hook_to_api({**row, **changes})}


async def delete_hook(ctx: Ctx) -> dict:
    """Delete a hook and its history."""
    row = _hook(ctx)
    with ctx.store.atomic():
        ctx.store.delete(domain.EXECUTIONS, "hook_id = ?", [row["id"]])
        ctx.store.delete(domain.TABLE, "id = ?", [row["id"]])
    return {"deleted": True, "id": row["id"]}


async def hook_executions(ctx: Ctx) -> dict:
    """A hook's executions, newest first."""
    return {"executions": _executions(ctx, _hook(ctx)["id"])}


async def publish_event(ctx: Ctx) -> dict:
    """Publish an event: it runs matching hooks, reaches subscribed webhooks, event workflows and skills."""
    body: PublishEvent = ctx.body
    data = {"orgId": body.orgId, "payload": body.payload, "sourceConnector": body.sourceConnector}
    with ctx.store.atomic():
        published = events.publish(ctx.t, body.eventType, data)
        started = workflows.run_for_event(ctx.t, body.eventType, published.event)
        ran = triggers.run_for_event(ctx.t, published.event)
    return {**published.event, "accepted": True, "matchedHooks": published.hooks,
            "matchedWebhooks": published.webhooks, "matchedWorkflows": len(started), "matchedSkills": len(ran)}


routes = [
    api_route("/api/v1/hooks", list_hooks),
    api_route("/api/v1/hooks", create_hook, "POST", body=CreateHook, status=201),
    api_route("/api/v1/hooks/{hook_id}", get_hook),
    api_route("/api/v1/hooks/{hook_id}", update_hook, "PATCH", body=UpdateHook),
    api_route("/api/v1/hooks/{hook_id}", delete_hook, "DELETE"),
    api_route("/api/v1/hooks/{hook_id}/executions", hook_executions),
    api_route("/api/v1/events", publish_event, "POST", body=PublishEvent),
]
