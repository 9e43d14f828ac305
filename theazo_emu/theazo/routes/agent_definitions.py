"""Agent definitions: versioned agent templates (reference "Agent Definitions", sdk-compat §2-3).

Owns `agent_definitions` (one row per definition: the latest version's settings, `archived`)
and `agent_definition_versions` (every version, never changed). POST makes version 1; PUT
and rollback append a version (agents made earlier keep theirs); DELETE archives: the
definition leaves the default list and new agents from it get 409 `conflict`.
How every path that creates agents applies one is domain/definitions.py's
(`resolve_definition()`, `agent_settings()`). An unknown definition is 404 `not_found`; rolling back to
a version that does not exist is 422 on `version`, like any other bad body value.
Response union: the SDK reads `model` and `compute` as strings and `timeout` as '300s', so
those are sent that way; the reference's objects are flattened into them: `model.id` ->
`model`, `model.maxTokens/temperature` -> `config`, `compute.provider` -> `provider`,
`compute.timeout` -> `timeout` (plus `timeoutSeconds` as a number).
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Conflict, invalid
from theazo_emu.core.http import PAGE, Ctx, Where, api_route, query_choice
from theazo_emu.theazo.bodies.definitions import CreateDefinition, RollbackDefinition, UpdateDefinition
from theazo_emu.theazo.domain.definitions import (
    DEFAULTS,
    KIND,
    SETTINGS,
    TABLE,
    VERSIONS,
    definition_to_api,
    version_to_api,
)
from theazo_emu.theazo.surface import is_sdk, list_answer, list_page, one_page

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["definition_id"], KIND)


def _writable(ctx: Ctx) -> dict:
    head = _load(ctx)
    if head["archived"]:
        raise Conflict(f"Agent definition {head['id']} is archived and cannot be changed.",
                       {"definitionId": head["id"], "archived": True})
    return head


def _append_version(ctx: Ctx, head: dict, settings: dict, changelog: str | None) -> dict:
    """Write version head+1 with these settings; the head row takes them too."""
    now, version = ctx.now_iso(), head["version"] + 1
    with ctx.store.atomic():
        ctx.store.insert(VERSIONS, {"definition_id": head["id"], "version": version, **settings,
                                    "changelog": changelog, "created_at": now})
        ctx.store.update(TABLE, head["id"], {**settings, "version": version, "updated_at": now})
    return _load(ctx)


async def create_definition(ctx: Ctx) -> dict:
    """Create a definition (version 1) from the reference's or the SDK's body."""
    body: CreateDefinition = ctx.body
    settings, now = DEFAULTS | body.fields(), ctx.now_iso()
    settings["browser"] = int(settings["browser"])
    with ctx.store.atomic():
        definition_id = ctx.emu.new_id("adef", ctx.tenant)
        row = ctx.store.insert(TABLE, {"id": definition_id, "version": 1, **settings, "archived": 0,
                                       "archived_at": None, "created_at": now, "updated_at": now})
        ctx.store.insert(VERSIONS, {"definition_id": definition_id, "version": 1, **settings,
                                    "changelog": body.changelog, "created_at": now})
    return definition_to_api(row)


async def list_definitions(ctx: Ctx) -> Any:
    """List definitions, newest first; archived ones only with includeArchived=true."""
    include = _BOOLEANS[query_choice(ctx, "includeArchived", tuple(_BOOLEANS)) or "false"]
    size = 1000 if is_sdk(ctx) else 25  # the SDK never pages this list: give it everything
    where = Where(ctx) if include else Where(ctx).add("archived = 0")
    body = list_page(ctx, TABLE, where, "adef", definition_to_api, default=size, maximum=max(size, 100))
    return list_answer(ctx, body)


async def get_definition(ctx: Ctx) -> dict:
    """Get a definition with its latest version's settings."""
    return definition_to_api(_load(ctx))


async def update_definition(ctx: Ctx) -> dict:
    """Update: a new version with the given fields changed; agents made earlier keep theirs."""
    body: UpdateDefinition = ctx.body
    head, changes = _writable(ctx), body.fields()
    settings = {k: head[k] for k in SETTINGS} | changes
    settings["config"] = (head["config"] or {}) | changes.get("config", {})
    settings["browser"] = int(settings["browser"])
    return definition_to_api(_append_version(ctx, head, settings, body.changelog))


async def delete_definition(ctx: Ctx) -> dict:
    """Archive a definition: it leaves the list and new agents cannot use it (repeatable)."""
    head = _load(ctx)
    if not head["archived"]:
        now = ctx.now_iso()
        ctx.store.update(TABLE, head["id"], {"archived": 1, "archived_at": now, "updated_at": now})
    return {"ok": True, "id": head["id"], "archived": True}


async def list_versions(ctx: Ctx) -> Any:
    """Every version of a definition, newest first (the SDK gets a bare array)."""
    head = _load(ctx)
    rows = ctx.store.rows(VERSIONS, "definition_id = ?", [head["id"]], order="version DESC")
    return list_answer(ctx, one_page([version_to_api(head, row) for row in rows]))


async def rollback_definition(ctx: Ctx) -> dict:
    """Make a new version equal to an earlier one (422 when that version does not exist)."""
    body: RollbackDefinition = ctx.body
    head = _writable(ctx)
    if body.version > head["version"]:
        raise invalid("version", f"definition {head['id']} has no version {body.version}; "
                                 f"the latest is {head['version']}")
    old = ctx.store.find(VERSIONS, "definition_id = ? AND version = ?", [head["id"], body.version], order=None)
    assert old is not None  # versions 1..latest always exist
    settings = {k: old[k] for k in SETTINGS}
    return definition_to_api(_append_version(ctx, head, settings,
                                             body.changelog or f"Rollback to version {body.version}"))


routes = [
    api_route("/v1/agent-definitions", create_definition, "POST", body=CreateDefinition, status=201),
    api_route("/v1/agent-definitions", list_definitions, query=("includeArchived", *PAGE)),
    api_route("/v1/agent-definitions/{definition_id}", get_definition),
    api_route("/v1/agent-definitions/{definition_id}", update_definition, "PUT", body=UpdateDefinition),
    api_route("/v1/agent-definitions/{definition_id}", delete_definition, "DELETE"),
    api_route("/v1/agent-definitions/{definition_id}/versions", list_versions),
    api_route("/v1/agent-definitions/{definition_id}/rollback", rollback_definition, "POST",
              body=RollbackDefinition),
]
