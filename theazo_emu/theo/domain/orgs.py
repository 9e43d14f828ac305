"""Organisations: what an org-scoped key names. Owns theo_orgs.

theo-api.md §1.1: an org has a `name`, a `type` (team, agency, carrier, fmo, mga, broker)
and a `slug` (lowercase letters, digits and hyphens, derived from the name when omitted;
unique within the tenant, 409 `conflict` otherwise). A key created with `scope: "org"`
must name one of the tenant's orgs; deleting an org revokes its keys.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "theo_orgs", "org"


def slug_of(name: str) -> str:
    """The slug a name gives: lowercase ASCII letters and digits, hyphens between words."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug or "org"


def org_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "org", "name": row["name"], "slug": row["slug"], "type": row["type"],
            "created_at": row["created_at"], "updated_at": row["updated_at"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def create(t: "Tenant", name: str, org_type: str, slug: str) -> dict[str, Any]:
    now = t.now_iso()
    row = {"id": t.new_id("org"), "name": name.strip(), "slug": slug, "type": org_type,
           "created_at": now, "updated_at": now}
    t.store.insert(TABLE, row)
    return row


def slug_taken(store: "Scoped", slug: str) -> bool:
    return store.find(TABLE, "slug = ?", [slug], columns="id") is not None
