"""Organisations: GET/POST/DELETE /api/v1/orgs (theo-api.md §1.1; theo/domain/orgs.py).

POST answers 201 with the org (`slug` derived from the name when omitted; 409 `conflict`
when the tenant has it already). DELETE names the org by `{"id"}` or `?id=` and revokes
every key scoped to it. Lists are newest first. Another tenant's id is 404.
"""

from __future__ import annotations

from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.platform import CreateOrg, DeleteOrg
from theazo_emu.theo.domain import audit, keys, orgs
from theazo_emu.theo.domain.errors import invalid
from theazo_emu.theo.surface import key_facts, request_facts


async def list_orgs(ctx: Ctx) -> dict:
    """This tenant's organisations, newest first."""
    return {"orgs": [orgs.org_to_api(row) for row in ctx.store.rows(orgs.TABLE, order="id DESC")]}


async def create_org(ctx: Ctx) -> dict:
    """Create an organisation (org-scoped keys name it)."""
    body: CreateOrg = ctx.body
    slug = body.slug or orgs.slug_of(body.name)
    if orgs.slug_taken(ctx.store, slug):
        raise Conflict(f"An org with slug '{slug}' already exists.")
    with ctx.store.atomic():
        row = orgs.create(ctx.t, body.name, body.type, slug)
        audit.append(ctx.t, action="org.created", entity_type="org", entity_id=row["id"],
                     key_id=key_facts(ctx)[1], request=request_facts(ctx), status=201,
                     input_summary={"name": row["name"], "type": row["type"], "slug": slug}, output_summary={})
    return orgs.org_to_api(row)


async def delete_org(ctx: Ctx) -> dict:
    """Delete an organisation (`{"id"}` or `?id=`); its keys are revoked."""
    body: DeleteOrg = ctx.body
    ident = body.id or ctx.query.get("id")
    if not ident:
        raise invalid("id", "name the org to delete: {\"id\": ...} or ?id=")
    row = ctx.store.get(orgs.TABLE, ident, orgs.KIND)
    with ctx.store.atomic():
        revoked = keys.revoke_org_keys(ctx.t, row["id"])
        ctx.store.delete(orgs.TABLE, "id = ?", [row["id"]])
        audit.append(ctx.t, action="org.deleted", entity_type="org", entity_id=row["id"],
                     key_id=key_facts(ctx)[1], request=request_facts(ctx), status=200,
                     input_summary={"id": row["id"]}, output_summary={"revokedKeys": revoked})
    return {"deleted": True, "id": row["id"], "revoked_keys": revoked}


routes = [
    api_route("/api/v1/orgs", list_orgs),
    api_route("/api/v1/orgs", create_org, "POST", body=CreateOrg, status=201),
    api_route("/api/v1/orgs", delete_org, "DELETE", body=DeleteOrg, query=("id",)),
]
