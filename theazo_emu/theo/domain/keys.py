"""Theo API keys: the ones created through /api/v1/keys or declared by fixtures, and scopes.

theo-api.md §1.1 and §3.8. Any `theo_sk_test_...` key is accepted unregistered, as its own
tenant with every scope. A key created with POST /api/v1/keys belongs to its creator's
tenant, carries scopes, and is stored as the SHA-256 of the key, never the key: its secret
is shown once, in the creation answer. The secret is a digest of the seed, the tenant and the
key id (so answers stay deterministic; an emulator key is no credential anywhere). A revoked
key is refused with 401 from its next request. Fixtures (and PUT /_emu/theo/account) may
register a test key under its own tenant, to give it scopes or allowed origins.
Owns the theo_keys table.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterable

from theazo_emu.core.auth import tenant_of
from theazo_emu.core.ids import digest_id

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "theo_keys", "API key"
PREFIX = "theo_sk_test_"
# Every scope a key may carry (theo-api.md §1.1, §3.8); a key created without `scopes` has all.
SCOPES = ("completions", "skills", "tools", "connectors", "browser", "memory", "billing")
EVERY = ("*",)  # what a route needs that only an unrestricted key (every scope) may call


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lookup(emu: "Host", token: str) -> dict[str, Any] | None:
    """The registered key with this secret (revoked or not), or None. Cross-tenant by nature:
    the key names its tenant, so it is looked up among every tenant's keys."""
    return emu.store.one("SELECT * FROM theo_keys WHERE key_hash = ?", [digest(token)])


def key_id(token: str, row: dict[str, Any] | None) -> str:
    """The id the audit log names a key by: a registered key's id, or for an unregistered test
    key an id-shaped digest of it (never the key)."""
    return row["id"] if row is not None else digest_id("key", f"theo-key|{token}")


def user_id(tenant: str) -> str:
    """The audit log's `userId`: an id-shaped digest of the tenant."""
    return digest_id("usr", tenant)


def allows(granted: Iterable[str], required: tuple[str, ...]) -> bool:
    """Whether the scopes grant one of `required` (an empty `required`: any key will do;
    EVERY: only a key with every scope)."""
    if required == EVERY:
        return set(SCOPES) <= set(granted)
    return not required or any(scope in granted for scope in required)


def key_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "api_key", "name": row["name"], "key_prefix": row["key_prefix"],
            "scopes": row["scopes"], "scope": row["scope"], "org_id": row["org_id"],
            "allowed_origins": row["allowed_origins"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "revoked_at": row["revoked_at"],
            "status": "revoked" if row["revoked_at"] else "active"}


def _secret(t: "Tenant", ident: str) -> str:
    body = hashlib.blake2b(f"{t.settings.seed}|{t.name}|{ident}|theo-key".encode(), digest_size=20).hexdigest()
    return PREFIX + body


def create(t: "Tenant", *, name: str | None, scopes: list[str], scope: str,
           org_id: str | None, allowed_origins: list[str]) -> tuple[dict[str, Any], str]:
    """A new key of this tenant: (its row, its secret). Call inside the request's transaction."""
    now = t.now_iso()
    ident = t.new_id("key")
    secret = _secret(t, ident)
    row = {"id": ident, "name": name, "key_hash": digest(secret), "key_prefix": secret[:len(PREFIX) + 4],
           "scopes": scopes, "scope": scope, "org_id": org_id, "allowed_origins": allowed_origins,
           "source": "api", "created_at": now, "updated_at": now, "revoked_at": None}
    t.store.insert(TABLE, row)
    return {**row, "tenant": t.name}, secret


def declare(emu: "Host", token: str, scopes: list[str] | None, allowed_origins: list[str],
            revoked: bool = False) -> dict[str, Any]:
    """Register a test key under its own tenant (fixtures, /_emu/theo/account): its scopes
    (None: all), allowed origins, and whether it is revoked. Declaring it again replaces them.
    Cross-tenant by nature: the key is first looked up among every tenant's (lookup)."""
    t = emu.tenant(tenant_of(token))
    tenant, now = t.name, t.now_iso()
    existing = lookup(emu, token)
    changes = {"scopes": list(SCOPES) if scopes is None else scopes, "allowed_origins": allowed_origins,
               "updated_at": now, "revoked_at": now if revoked else None}
    store = t.store
    with store.atomic():
        if existing is not None and existing["tenant"] == tenant:
            store.update(TABLE, existing["id"], changes)
            return {**existing, **changes}
        row = {"id": t.new_id("key"), "name": "declared", "key_hash": digest(token),
               "key_prefix": token[:len(PREFIX) + 4], "scope": "personal", "org_id": None, "source": "fixture",
               "created_at": now, **changes}
        store.insert(TABLE, row)
        return {**row, "tenant": tenant}


def revoke_org_keys(t: "Tenant", org_id: str) -> int:
    """Revoke every active key scoped to the org; how many."""
    now, store = t.now_iso(), t.store
    rows = store.rows(TABLE, "org_id = ? AND revoked_at IS NULL", [org_id], columns="id")
    for row in rows:
        store.update(TABLE, row["id"], {"revoked_at": now, "updated_at": now})
    return len(rows)
