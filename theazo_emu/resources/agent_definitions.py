"""Agent definitions: versioned agent templates (reference "Agent Definitions", sdk-compat §2-3).

Owns `agent_definitions` (one row per definition: the latest version's settings, `archived`)
and `agent_definition_versions` (every version, never changed). POST makes version 1; PUT
and rollback append a version (agents made earlier keep theirs); DELETE archives: the
definition leaves the default list and new agents from it get 409 `conflict`.
`resolve_definition()` and `agent_settings()` are how every path that creates agents applies
one (resources.agents.new_agent). An unknown definition is 404 `not_found`; rolling back to
a version that does not exist is 422 on `version`, like any other bad body value.
Response union: the SDK reads `model` and `compute` as strings and `timeout` as '300s', so
those are sent that way; the reference's objects are flattened into them: `model.id` ->
`model`, `model.maxTokens/temperature` -> `config`, `compute.provider` -> `provider`,
`compute.timeout` -> `timeout` (plus `timeoutSeconds` as a number).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain import pricing
from ..errors import Conflict, invalid
from ..http import Ctx, PageParams, api_route, list_answer, page_body, query_choice
from ..models.core import CreateAgent
from ..models.definitions import CreateDefinition, RollbackDefinition, UpdateDefinition

if TYPE_CHECKING:
    from ..emulator import Emulator

TABLE, VERSIONS = "agent_definitions", "agent_definition_versions"
KIND = "agent definition"
SETTINGS = ("name", "description", "instructions", "tools", "model", "compute", "provider", "browser",
            "timeout_s", "config", "metadata")
DEFAULTS: dict[str, Any] = {
    "description": None, "instructions": None, "tools": [], "model": pricing.DEFAULT_MODEL, "compute": "python",
    "provider": None, "browser": False, "timeout_s": 300, "config": {}, "metadata": {},
}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def definition_to_api(row: dict) -> dict[str, Any]:
    """One body both clients can read (see the module docstring)."""
    config = row["config"] or {}
    return {
        "id": row["id"], "name": row["name"], "version": row["version"], "description": row["description"],
        "instructions": row["instructions"], "tools": row["tools"] or [], "model": row["model"],
        "compute": row["compute"], "provider": row["provider"], "browser": bool(row["browser"]),
        "timeout": f"{row['timeout_s']}s", "timeoutSeconds": row["timeout_s"],
        "config": {"temperature": config.get("temperature"), "maxTokens": config.get("maxTokens")},
        "metadata": row["metadata"] or {}, "archived": bool(row["archived"]),
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }


def version_to_api(head: dict, version: dict) -> dict[str, Any]:
    """The SDK's `{version, createdAt, changelog}` plus that version's full settings."""
    body = definition_to_api({**head, **{k: version[k] for k in SETTINGS}, "version": version["version"]})
    return body | {"createdAt": version["created_at"], "changelog": version["changelog"]}


def resolve_definition(emu: "Emulator", tenant: str, definition_id: str) -> dict[str, Any]:
    """The latest version of a usable definition, as the API shows it (404 unknown, 409 archived)."""
    head = emu.store.get(TABLE, tenant, definition_id, KIND)
    if head["archived"]:
        raise Conflict(f"Agent definition {definition_id} is archived; no new agents can be created from it.",
                       {"definitionId": definition_id, "archived": True})
    return definition_to_api(head)


def agent_settings(emu: "Emulator", tenant: str, body: CreateAgent) -> dict[str, Any]:
    """Agent columns taken from `body.definition`; fields the request sets explicitly win."""
    if body.definition is None:
        return {}
    definition = resolve_definition(emu, tenant, body.definition)
    given, shape = body.model_fields_set, body.normalized()
    out: dict[str, Any] = {"definition_id": definition["id"], "definition_version": definition["version"],
                           "config": {k: v for k, v in definition["config"].items() if v is not None}}
    if body.instructions is None:
        out["instructions"] = definition["instructions"]
    if "tools" not in given:
        out["tools"] = definition["tools"]
    if "browser" not in given:
        out["browser"] = int(definition["browser"])
    if shape["model"] is None:
        out["model"] = definition["model"]
    if not isinstance(body.compute, str):
        out["compute"] = definition["compute"]
    if shape["provider"] is None and definition["provider"]:
        out["provider"] = definition["provider"]
    if shape["timeout_s"] is None:
        out["timeout_s"] = definition["timeoutSeconds"]
    return out


def _load(ctx: Ctx) -> dict:
    return ctx.emu.store.get(TABLE, ctx.tenant, ctx.params["definition_id"], KIND)


def _writable(ctx: Ctx) -> dict:
    head = _load(ctx)
    if head["archived"]:
        raise Conflict(f"Agent definition {head['id']} is archived and cannot be changed.",
                       {"definitionId": head["id"], "archived": True})
    return head


def _append_version(ctx: Ctx, head: dict, settings: dict, changelog: str | None) -> dict:
    """Write version head+1 with these settings; the head row takes them too."""
    now, version = ctx.now_iso(), head["version"] + 1
    with ctx.emu.store.atomic():
        ctx.emu.store.insert(VERSIONS, {"definition_id": head["id"], "version": version, "tenant": ctx.tenant,
                                        **settings, "changelog": changelog, "created_at": now})
        ctx.emu.store.update(TABLE, head["id"], {**settings, "version": version, "updated_at": now})
    return _load(ctx)


async def create_definition(ctx: Ctx) -> dict:
    """Create a definition (version 1) from the reference's or the SDK's body."""
    body: CreateDefinition = ctx.body
    settings, now = DEFAULTS | body.fields(), ctx.now_iso()
    settings["browser"] = int(settings["browser"])
    with ctx.emu.store.atomic():
        definition_id = ctx.emu.new_id("adef", ctx.tenant)
        row = ctx.emu.store.insert(TABLE, {"id": definition_id, "tenant": ctx.tenant, "version": 1, **settings,
                                           "archived": 0, "archived_at": None, "created_at": now, "updated_at": now})
        ctx.emu.store.insert(VERSIONS, {"definition_id": definition_id, "version": 1, "tenant": ctx.tenant,
                                        **settings, "changelog": body.changelog, "created_at": now})
    return definition_to_api(row)


async def list_definitions(ctx: Ctx) -> Any:
    """List definitions, newest first; archived ones only with includeArchived=true."""
    include = _BOOLEANS[query_choice(ctx, "includeArchived", tuple(_BOOLEANS)) or "false"]
    size = 1000 if ctx.sdk else 25  # the SDK never pages this list: give it everything
    page = PageParams.from_query(ctx, "adef", default=size, maximum=max(size, 100))
    where = "tenant = ?" if include else "tenant = ? AND archived = 0"
    rows = ctx.emu.store.page(TABLE, where, [ctx.tenant], page.limit, page.after)
    body = page_body(rows, page, definition_to_api)
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
        ctx.emu.store.update(TABLE, head["id"], {"archived": 1, "archived_at": now, "updated_at": now})
    return {"ok": True, "id": head["id"], "archived": True}


async def list_versions(ctx: Ctx) -> Any:
    """Every version of a definition, newest first (the SDK gets a bare array)."""
    head = _load(ctx)
    rows = ctx.emu.store.all(f"SELECT * FROM {VERSIONS} WHERE definition_id = ? AND tenant = ? ORDER BY version DESC",
                             [head["id"], ctx.tenant])
    data = [version_to_api(head, row) for row in rows]
    return data if ctx.sdk else {"data": data, "hasMore": False, "nextCursor": None, "cursor": None}


async def rollback_definition(ctx: Ctx) -> dict:
    """Make a new version equal to an earlier one (422 when that version does not exist)."""
    body: RollbackDefinition = ctx.body
    head = _writable(ctx)
    if body.version > head["version"]:
        raise invalid("version", f"definition {head['id']} has no version {body.version}; "
                                 f"the latest is {head['version']}")
    old = ctx.emu.store.one(f"SELECT * FROM {VERSIONS} WHERE definition_id = ? AND version = ?",
                            [head["id"], body.version])
    assert old is not None  # versions 1..latest always exist
    settings = {k: old[k] for k in SETTINGS}
    return definition_to_api(_append_version(ctx, head, settings,
                                             body.changelog or f"Rollback to version {body.version}"))


routes = [
    api_route("/v1/agent-definitions", create_definition, "POST", body=CreateDefinition, status=201),
    api_route("/v1/agent-definitions", list_definitions),
    api_route("/v1/agent-definitions/{definition_id}", get_definition),
    api_route("/v1/agent-definitions/{definition_id}", update_definition, "PUT", body=UpdateDefinition),
    api_route("/v1/agent-definitions/{definition_id}", delete_definition, "DELETE"),
    api_route("/v1/agent-definitions/{definition_id}/versions", list_versions),
    api_route("/v1/agent-definitions/{definition_id}/rollback", rollback_definition, "POST",
              body=RollbackDefinition),
]
