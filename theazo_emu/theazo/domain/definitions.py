"""Agent definitions as the other families use them: resolving one, and the agent settings it gives.

Reference "Agent Definitions". `resolve_definition()` answers the latest version of a usable
definition (404 unknown, 409 archived); `agent_settings()` is how new_agent applies one:
fields the create body sets explicitly win. The serializers are here because schedules,
channels and the inspector show definitions too. The versioned CRUD is theazo/routes/agent_definitions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.errors import Conflict
from theazo_emu.theazo.domain import pricing
from theazo_emu.theazo.domain.agent_config import AgentConfig

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, VERSIONS = "agent_definitions", "agent_definition_versions"
KIND = "agent definition"


SETTINGS = ("name", "description", "instructions", "tools", "model", "compute", "provider", "browser",
            "timeout_s", "config", "metadata")


DEFAULTS: dict[str, Any] = {
    "description": None, "instructions": None, "tools": [], "model": pricing.DEFAULT_MODEL, "compute": "python",
    "provider": None, "browser": False, "timeout_s": 300, "config": {}, "metadata": {},
}


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
    changelog = version["changelog"]
    if changelog is None:  # the SDK types it `string`
        changelog = "Initial version" if version["version"] == 1 else ""
    return body | {"createdAt": version["created_at"], "changelog": changelog}


def resolve_definition(t: "Tenant", definition_id: str) -> dict[str, Any]:
    """The latest version of a usable definition, as the API shows it (404 unknown, 409 archived)."""
    head = t.store.get(TABLE, definition_id, KIND)
    if head["archived"]:
        raise Conflict(f"Agent definition {definition_id} is archived; no new agents can be created from it.",
                       {"definitionId": definition_id, "archived": True})
    return definition_to_api(head)


def agent_settings(t: "Tenant", config: AgentConfig) -> dict[str, Any]:
    """Agent columns taken from `config.definition`; fields the request sets explicitly win."""
    if config.definition is None:
        return {}
    definition = resolve_definition(t, config.definition)
    given, shape = config.model_fields_set, config.normalized()
    out: dict[str, Any] = {"definition_id": definition["id"], "definition_version": definition["version"],
                           "config": {k: v for k, v in definition["config"].items() if v is not None}}
    if config.instructions is None:
        out["instructions"] = definition["instructions"]
    if "tools" not in given:
        out["tools"] = definition["tools"]
    if "browser" not in given:
        out["browser"] = int(definition["browser"])
    if shape["model"] is None:
        out["model"] = definition["model"]
    if not isinstance(config.compute, str):
        out["compute"] = definition["compute"]
    if shape["provider"] is None and definition["provider"]:
        out["provider"] = definition["provider"]
    if shape["timeout_s"] is None:
        out["timeout_s"] = definition["timeoutSeconds"]
    return out
