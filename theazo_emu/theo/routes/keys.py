"""API keys: GET/POST/DELETE /api/v1/keys, PUT and DELETE /api/v1/keys/:id (theo-api.md §1.1).

POST answers 201 with the key object and its `secret`, shown only then (stored as its
SHA-256); `scopes` default to all, `scope` is personal unless `org_id` is given (org needs
`org_id`, one of the tenant's orgs (404 otherwise): the emulator has no active team;
personal forbids it). Only an unrestricted key (every scope) manages keys: a
restricted one is 403 on every route here (surfaces/theo.SCOPE_RULES). PUT sets `allowed_origins` (CORS) and `name`. DELETE revokes (by
path, or `{"id"}` / `?id=` on the collection): the key's next request is 401; revoking
twice answers the same. Every change is audited (key.created, key.updated, key.revoked)
and key.created / key.revoked are events for webhooks. Lists are newest first, paged.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.http import PAGE, Ctx, api_route, rows_page
from theazo_emu.theo.bodies.api import CreateKey, RevokeKey, UpdateKey
from theazo_emu.theo.domain import audit, events, keys, orgs
from theazo_emu.theo.domain.errors import invalid
from theazo_emu.theo.surface import key_facts, page_body, request_facts

NOTE = "Store this key now: it is shown only once and cannot be retrieved again."


def _audit(ctx: Ctx, action: str, row: dict[str, Any], status: int = 200) -> None:
    _, key_id = key_facts(ctx)
    audit.append(ctx.t, action=action, entity_type="api_key", entity_id=row["id"], key_id=key_id,
                 request=request_facts(ctx),
                 status=status, input_summary={"name": row["name"], "scopes": row["scopes"], "scope": row["scope"],
                                               "allowedOrigins": row["allowed_origins"]},
                 output_summary={"status": "revoked" if row["revoked_at"] else "active"})


async def list_keys(ctx: Ctx) -> dict:
    """This tenant's keys (never their secrets), newest first."""
    return page_body("keys", rows_page(ctx, keys.TABLE, None, "key"), keys.key_to_api)


async def create_key(ctx: Ctx) -> dict:
    """Create a key; its secret is in this answer only."""
    body: CreateKey = ctx.body
    scope = body.scope or ("org" if body.org_id else "personal")
    if scope == "personal" and body.org_id:
        raise invalid("org_id", "must not be given for a personal key")
    if scope == "org" and not body.org_id:
        raise invalid("org_id", "is required for an org key (the emulator has no active team)")
    if body.org_id:
        ctx.store.get(orgs.TABLE, body.org_id, orgs.KIND)  # an org of this tenant, or 404
    scopes = list(dict.fromkeys(body.scopes)) if body.scopes is not None else list(keys.SCOPES)
    with ctx.store.atomic():
        row, secret = keys.create(ctx.t, name=body.name, scopes=scopes, scope=scope, org_id=body.org_id,
                                  allowed_origins=body.allowed_origins or [])
        _audit(ctx, "key.created", row, 201)
        events.emit(ctx.t, "key.created", {"key_id": row["id"], "name": row["name"],
                                                          "scopes": row["scopes"]})
    return {**keys.key_to_api(row), "secret": secret, "_note": NOTE}


async def update_key(ctx: Ctx) -> dict:
    """Set a key's `allowed_origins` (its CORS list, over the defaults) or its name."""
    body: UpdateKey = ctx.body
    row = ctx.store.get(keys.TABLE, ctx.params["key_id"], keys.KIND)
    changes: dict[str, Any] = {"updated_at": ctx.now_iso()}
    if body.allowed_origins is not None:
        changes["allowed_origins"] = body.allowed_origins
    if "name" in body.model_fields_set:
        changes["name"] = body.name
    with ctx.store.atomic():
        ctx.store.update(keys.TABLE, row["id"], changes)
        row = {**row, **changes}
        _audit(ctx, "key.updated", row)
    return keys.key_to_api(row)


async def _revoke(ctx: Ctx, ident: str | None) -> dict:
    if not ident:
        raise invalid("id", "name the key to revoke: DELETE /api/v1/keys/:id, or {\"id\": ...}")
    row = ctx.store.get(keys.TABLE, ident, keys.KIND)
    if row["revoked_at"] is None:
        row = {**row, "revoked_at": ctx.now_iso(), "updated_at": ctx.now_iso()}
        with ctx.store.atomic():
            ctx.store.update(keys.TABLE, row["id"], {"revoked_at": row["revoked_at"], "updated_at": row["updated_at"]})
            _audit(ctx, "key.revoked", row)
            events.emit(ctx.t, "key.revoked", {"key_id": row["id"], "name": row["name"]})
    return {"id": row["id"], "revoked": True, "revoked_at": row["revoked_at"]}


async def revoke_key(ctx: Ctx) -> dict:
    """Revoke a key: its next request is refused with 401."""
    return await _revoke(ctx, ctx.params["key_id"])


async def revoke_key_by_body(ctx: Ctx) -> dict:
    """Revoke the key named by `{"id"}` (or `?id=`)."""
    body: RevokeKey = ctx.body
    return await _revoke(ctx, body.id or ctx.query.get("id"))


routes = [
    api_route("/api/v1/keys", list_keys, query=PAGE),
    api_route("/api/v1/keys", create_key, "POST", body=CreateKey, status=201, reveals=("secret",)),
    api_route("/api/v1/keys", revoke_key_by_body, "DELETE", body=RevokeKey, query=("id",)),
    api_route("/api/v1/keys/{key_id}", update_key, "PUT", body=UpdateKey),
    api_route("/api/v1/keys/{key_id}", revoke_key, "DELETE"),
]
