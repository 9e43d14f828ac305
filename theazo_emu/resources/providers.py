"""Providers: the compute backends a tenant configures (reference "Providers", plus the
BYOI form `PUT /v1/providers/:provider` from sdk-compat.md "Secrets").

Configurable providers are e2b, fly and webhook; their credentials are sealed like
secrets (crypto.py; tenant and provider as associated data) and never returned. Invariant:
while a tenant has providers, exactly one is the default: the first configured one, or
the last one set `isDefault`; deleting the default promotes the oldest remaining one.
Agents resolve their provider with `resolve()`: the request's, else the default, else
the built-in `mock` (`docker` and `mock` need no configuration). Nothing is provisioned.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..crypto import associated_data
from ..errors import ApiError, Conflict, NotFound, Unprocessable, invalid
from ..http import Ctx, api_route, respond
from ..models.providers import CONFIGURABLE, CreateProvider, UpdateProvider
from .secrets import ORG

if TYPE_CHECKING:
    from ..emulator import Emulator

BUILT_IN = "mock"


class ProviderNotConfigured(NotFound):
    def __init__(self, provider: str) -> None:
        ApiError.__init__(self, f"Provider '{provider}' is not configured.", {"resource": "provider", "id": provider})


def provider_to_api(row: dict) -> dict[str, Any]:
    """The provider without its credentials (they are never returned)."""
    return {"provider": row["provider"], "isDefault": bool(row["is_default"]), "status": row["status"],
            "credentialRef": row["credential_ref"], "config": row["config"] or {},
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def default_provider(emu: "Emulator", tenant: str) -> str | None:
    row = emu.store.one("SELECT provider FROM providers WHERE tenant = ? AND is_default = 1", [tenant])
    return row["provider"] if row else None


def resolve(emu: "Emulator", tenant: str, requested: str | None) -> str:
    """An agent's provider: what it asked for, else the tenant's default, else `mock`."""
    return requested or default_provider(emu, tenant) or BUILT_IN


def configure(emu: "Emulator", tenant: str, provider: str, *, credentials: dict | None = None,
              credential_ref: str | None = None, config: dict | None = None,
              is_default: bool | None = None) -> tuple[dict, bool]:
    """Create or update a provider's configuration; returns (row, created).
    `None` leaves a setting as it was; a new provider needs credentials or a credentialRef."""
    store, now = emu.store, iso(emu.clock.now_ms())
    row = store.one("SELECT * FROM providers WHERE tenant = ? AND provider = ?", [tenant, provider])
    if row is None and credentials is None and credential_ref is None:
        raise Unprocessable(f"Provider '{provider}' is not configured yet: give 'credentials' or 'credentialRef'.",
                            [{"field": "credentials", "message": "required to configure a new provider"}])
    if credential_ref is not None and store.one("SELECT id FROM secrets WHERE tenant = ? AND scope = ? AND name = ?",
                                                [tenant, ORG, credential_ref]) is None:
        raise invalid("credentialRef",
                      f"no org-wide secret named '{credential_ref}'; set it with POST /v1/secrets first")
    if is_default is False and row is not None and row["is_default"]:
        raise Conflict(f"Provider '{provider}' is the default; make another provider the default instead.",
                       {"provider": provider, "isDefault": True})
    changes: dict[str, Any] = {"updated_at": now}
    if credentials is not None:
        plaintext = json.dumps(credentials, sort_keys=True, separators=(",", ":")).encode()
        changes["ciphertext"] = emu.cipher.seal(plaintext, associated_data("provider", tenant, provider))
    if credential_ref is not None:
        changes["credential_ref"] = credential_ref
    if config is not None:
        changes["config"] = config
    with store.atomic():
        has_default = default_provider(emu, tenant) is not None
        make_default = bool(is_default) or not has_default
        if make_default:
            store.db.execute("UPDATE providers SET is_default = 0 WHERE tenant = ? AND is_default = 1", [tenant])
            changes["is_default"] = 1
        if row is not None:
            store.update("providers", row["id"], changes)
            return store.get("providers", tenant, row["id"], "provider"), False
        return store.insert("providers", {
            "id": emu.new_id("prv", tenant), "tenant": tenant, "provider": provider, "ciphertext": None,
            "credential_ref": None, "config": None, "is_default": 0, "status": "active", "created_at": now,
            **changes}), True


def _path_provider(ctx: Ctx) -> str:
    provider = ctx.params["provider"]
    if provider not in CONFIGURABLE:
        raise invalid("provider", f"unknown provider '{provider[:100]}'; configurable providers are "
                                  f"{', '.join(CONFIGURABLE)}")
    return provider


async def list_providers(ctx: Ctx) -> dict:
    """List the configured providers, oldest first."""
    rows = ctx.emu.store.all("SELECT * FROM providers WHERE tenant = ? ORDER BY id", [ctx.tenant])
    return {"data": [provider_to_api(row) for row in rows], "nextCursor": None, "cursor": None, "hasMore": False}


async def create_provider(ctx: Ctx) -> Any:
    """Configure a provider (or reconfigure it: credentials replaced)."""
    body: CreateProvider = ctx.body
    is_default = body.isDefault if "isDefault" in body.model_fields_set else None
    row, created = configure(ctx.emu, ctx.tenant, body.provider, credentials=body.credentials, is_default=is_default)
    return respond(provider_to_api(row), 201 if created else 200)


async def update_provider(ctx: Ctx) -> Any:
    """Configure a provider by path, with credentials or an org secret's name (BYOI)."""
    body: UpdateProvider = ctx.body
    row, created = configure(ctx.emu, ctx.tenant, _path_provider(ctx), credentials=body.credentials,
                             credential_ref=body.credentialRef, config=body.config, is_default=body.isDefault)
    return respond(provider_to_api(row), 201 if created else 200)


async def delete_provider(ctx: Ctx) -> dict:
    """Remove a provider; 409 while agents that are not terminated use it."""
    provider, store = _path_provider(ctx), ctx.emu.store
    row = store.one("SELECT * FROM providers WHERE tenant = ? AND provider = ?", [ctx.tenant, provider])
    if row is None:
        raise ProviderNotConfigured(provider)
    active = store.scalar("SELECT COUNT(*) FROM agents WHERE tenant = ? AND provider = ? AND status != 'terminated'",
                          [ctx.tenant, provider])
    if active:
        raise Conflict(f"Provider '{provider}' has {active} active agent{'s' if active > 1 else ''}; "
                       f"terminate {'them' if active > 1 else 'it'} before removing the provider.",
                       {"provider": provider, "activeAgents": active})
    with store.atomic():
        store.db.execute("DELETE FROM providers WHERE id = ?", [row["id"]])
        if row["is_default"]:
            store.db.execute("UPDATE providers SET is_default = 1 WHERE id = (SELECT id FROM providers "
                             "WHERE tenant = ? ORDER BY id LIMIT 1)", [ctx.tenant])
    return {"ok": True}


routes = [
    api_route("/v1/providers", list_providers),
    api_route("/v1/providers", create_provider, "POST", body=CreateProvider, status=201),
    api_route("/v1/providers/{provider}", update_provider, "PUT", body=UpdateProvider),
    api_route("/v1/providers/{provider}", delete_provider, "DELETE"),
]
