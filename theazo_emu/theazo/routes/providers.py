"""Providers: the compute backends a tenant configures (reference "Providers", plus the
BYOI form `PUT /v1/providers/:provider` from sdk-compat.md "Secrets").

Configurable providers are e2b, fly and webhook for compute (`docker` and `mock` need no
configuration), anthropic and openai for models (domain/providers.py); nothing is
provisioned and no model is called. Credentials are never returned. The table, its
default-provider invariant and how agents pick a provider are domain/providers.py's.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import ApiError, Conflict, NotFound, invalid
from theazo_emu.core.http import Ctx, api_route, respond
from theazo_emu.theazo.bodies.providers import CONFIGURABLE, CreateProvider, UpdateProvider
from theazo_emu.theazo.domain import providers
from theazo_emu.theazo.domain.providers import TABLE
from theazo_emu.theazo.surface import one_page


class ProviderNotConfigured(NotFound):
    def __init__(self, provider: str) -> None:
        ApiError.__init__(self, f"Provider '{provider}' is not configured.", {"resource": "provider", "id": provider})


def provider_to_api(row: dict) -> dict[str, Any]:
    """The provider without its credentials (they are never returned)."""
    return {"provider": row["provider"], "kind": providers.kind(row["provider"]),
            "isDefault": bool(row["is_default"]), "status": row["status"],
            "credentialRef": row["credential_ref"], "config": row["config"] or {},
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def _path_provider(ctx: Ctx) -> str:
    provider = ctx.params["provider"]
    if provider not in CONFIGURABLE:
        raise invalid("provider", f"unknown provider '{provider[:100]}'; configurable providers are "
                                  f"{', '.join(CONFIGURABLE)}")
    return provider


async def list_providers(ctx: Ctx) -> dict:
    """List the configured providers, oldest first."""
    return one_page([provider_to_api(row) for row in ctx.store.rows(TABLE)])


async def create_provider(ctx: Ctx) -> Any:
    """Configure a provider (or reconfigure it: credentials replaced)."""
    body: CreateProvider = ctx.body
    is_default = body.isDefault if "isDefault" in body.model_fields_set else None
    row, created = providers.configure(ctx.t, body.provider, credentials=body.credentials, is_default=is_default)
    return respond(provider_to_api(row), 201 if created else 200)


async def update_provider(ctx: Ctx) -> Any:
    """Configure a provider by path, with credentials or an org secret's name (BYOI)."""
    body: UpdateProvider = ctx.body
    row, created = providers.configure(ctx.t, _path_provider(ctx), credentials=body.credentials,
                             credential_ref=body.credentialRef, config=body.config, is_default=body.isDefault)
    return respond(provider_to_api(row), 201 if created else 200)


async def delete_provider(ctx: Ctx) -> dict:
    """Remove a provider; 409 while agents that are not terminated use it."""
    provider = _path_provider(ctx)
    row = ctx.store.find(TABLE, "provider = ?", [provider])
    if row is None:
        raise ProviderNotConfigured(provider)
    active = ctx.store.count("agents", "provider = ? AND status != 'terminated'", [provider])
    if active:
        raise Conflict(f"Provider '{provider}' has {active} active agent{'s' if active > 1 else ''}; "
                       f"terminate {'them' if active > 1 else 'it'} before removing the provider.",
                       {"provider": provider, "activeAgents": active})
    providers.remove(ctx.t, row)
    return {"ok": True}


routes = [
    api_route("/v1/providers", list_providers),
    api_route("/v1/providers", create_provider, "POST", body=CreateProvider, status=201, also=(200,)),
    api_route("/v1/providers/{provider}", update_provider, "PUT", body=UpdateProvider, also=(201,)),
    api_route("/v1/providers/{provider}", delete_provider, "DELETE"),
]
