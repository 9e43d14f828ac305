"""Providers: the one writer of the `providers` table, and which provider an agent gets.

Reference "Providers". Credentials are sealed like secrets (crypto.py; tenant and provider
as associated data) and never returned. Compute providers (e2b, fly, webhook) run agents;
model providers (anthropic, openai: the SDK README's bring-your-own-models) are kept, and
never run an agent nor are its default. Invariant: while a tenant has compute providers,
exactly one is the default: the first configured one, or the last one set `isDefault`;
removing the default promotes the oldest remaining one. An agent gets the provider it asked
for, else the tenant's default, else the built-in `mock` (`resolve`). The routes are
theazo/routes/providers.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import associated_data
from theazo_emu.core.errors import Conflict, Unprocessable, invalid
from theazo_emu.theazo.domain.secrets import ORG

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "providers"
BUILT_IN = "mock"
MODEL_PROVIDERS = ("anthropic", "openai")
_COMPUTE = "provider NOT IN ('anthropic', 'openai')"  # SQL for the compute providers


def kind(provider: str) -> str:
    """`model` for a bring-your-own-model provider, else `compute`."""
    return "model" if provider in MODEL_PROVIDERS else "compute"


def default_provider(t: "Tenant") -> str | None:
    row = t.store.find("providers", f"is_default = 1 AND {_COMPUTE}", order=None, columns="provider")
    return row["provider"] if row else None


def resolve(t: "Tenant", requested: str | None) -> str:
    """An agent's provider: what it asked for, else the tenant's default, else `mock`."""
    return requested or default_provider(t) or BUILT_IN


def configure(t: "Tenant", provider: str, *, credentials: dict | None = None,
              credential_ref: str | None = None, config: dict | None = None,
              is_default: bool | None = None) -> tuple[dict, bool]:
    """Create or update a provider's configuration; returns (row, created).
    `None` leaves a setting as it was; a new provider needs credentials or a credentialRef."""
    store, now, tenant = t.store, iso(t.now_ms()), t.name
    row = store.find("providers", "provider = ?", [provider], order=None)
    if row is None and credentials is None and credential_ref is None:
        raise Unprocessable(f"Provider '{provider}' is not configured yet: give 'credentials' or 'credentialRef'.",
                            [{"field": "credentials", "message": "required to configure a new provider"}])
    if credential_ref is not None and store.find("secrets", "scope = ? AND name = ?", [ORG, credential_ref],
                                                 order=None, columns="id") is None:
        raise invalid("credentialRef",
                      f"no org-wide secret named '{credential_ref}'; set it with POST /v1/secrets first")
    if is_default and kind(provider) == "model":
        raise invalid("isDefault", f"'{provider}' is a model provider; only compute providers (e2b, fly, "
                                   "webhook) can be the default")
    if is_default is False and row is not None and row["is_default"]:
        raise Conflict(f"Provider '{provider}' is the default; make another provider the default instead.",
                       {"provider": provider, "isDefault": True})
    changes: dict[str, Any] = {"updated_at": now}
    if credentials is not None:
        plaintext = json.dumps(credentials, sort_keys=True, separators=(",", ":")).encode()
        changes["ciphertext"] = t.cipher.seal(plaintext, associated_data("provider", tenant, provider))
    if credential_ref is not None:
        changes["credential_ref"] = credential_ref
    if config is not None:
        changes["config"] = config
    with store.atomic():
        has_default = default_provider(t) is not None
        make_default = kind(provider) == "compute" and (bool(is_default) or not has_default)
        if make_default:
            store.execute("UPDATE providers SET is_default = 0 WHERE tenant = :tenant AND is_default = 1")
            changes["is_default"] = 1
        if row is not None:
            store.update("providers", row["id"], changes)
            return store.get("providers", row["id"], "provider"), False
        return store.insert("providers", {
            "id": t.new_id("prv"), "tenant": tenant, "provider": provider, "ciphertext": None,
            "credential_ref": None, "config": None, "is_default": 0, "status": "active", "created_at": now,
            **changes}), True


def remove(t: "Tenant", row: dict) -> None:
    """Remove a configured provider; when it was the default, the oldest remaining one is."""
    store = t.store
    with store.atomic():
        store.delete("providers", "id = ?", [row["id"]])
        if row["is_default"]:
            store.execute("UPDATE providers SET is_default = 1 WHERE tenant = :tenant AND id = (SELECT id "
                          f"FROM providers WHERE tenant = :tenant AND {_COMPUTE} ORDER BY id LIMIT 1)")
