"""Embeddable widgets: /api/v1/iframes (list, create), /:id (patch, delete), /:id/duplicate,
/:id/preview-token, /:id/verify, and the embed page their snippet frames
(theo-api.md §1.2; theo/domain/iframes.py).

The real service takes the dashboard's session here; the emulator takes the Theo API key,
as on every /api/v1 route. `api_key_id` must name one of the caller's keys (POST
/api/v1/keys) that is not revoked, else 400 `validation_error`: it is a field of the body,
not the resource the path names. Create and duplicate answer 201 with the widget
({id, name, status, embed_snippet, ...}); the list is `{configs}`, newest first; PATCH
changes the fields given (`security`'s two each on their own) and answers the widget;
DELETE answers `{deleted: true, id}`. preview-token answers `{token, expires_at,
preview_url}`; verify answers `{verified, checks, problems}` and, when verified, stamps
`verified_at`. The embed page (no key: the id is public, as a pasted snippet's is) serves
an active widget with a live key, with `Content-Security-Policy: frame-ancestors` its
allowed origins; with a valid `preview_token` it serves the widget in any state. Another
tenant's id is 404.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from theazo_emu.core.clock import iso
from theazo_emu.core.http import Ctx, api_route, public_row
from theazo_emu.theo.bodies.api import NoBody
from theazo_emu.theo.bodies.platform import CreateIframe, UpdateIframe
from theazo_emu.theo.domain import iframes
from theazo_emu.theo.domain.errors import TheoError


def _base(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _widget(ctx: Ctx) -> dict[str, Any]:
    return ctx.store.get(iframes.TABLE, ctx.params["iframe_id"], iframes.KIND)


def _answer(ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    return iframes.config_to_api(_base(ctx), row)


def _usable_key(ctx: Ctx, key_id: str) -> str:
    if iframes.active_key(ctx.store, key_id) is None:
        raise TheoError(400, "validation_error", f"api_key_id: {key_id!r} is not one of your active API keys "
                                                 "(create one with POST /api/v1/keys).")
    return key_id


async def list_iframes(ctx: Ctx) -> dict:
    """This tenant's widgets, newest first."""
    return {"configs": [_answer(ctx, row) for row in ctx.store.rows(iframes.TABLE, order="id DESC")]}


async def create_iframe(ctx: Ctx) -> dict:
    """Create a widget that speaks with one of the caller's API keys."""
    body: CreateIframe = ctx.body
    now = ctx.now_iso()
    with ctx.store.atomic():
        row = {"id": ctx.t.new_id("ifr"), "name": body.name, "status": "active",
               "api_key_id": _usable_key(ctx, body.api_key_id), "appearance": body.appearance,
               "behavior": body.behavior,
               "security": {"requireTurnstile": body.security.requireTurnstile,
                            "allowedOrigins": list(dict.fromkeys(body.security.allowedOrigins or []))},
               "verified_at": None, "created_at": now, "updated_at": now}
        ctx.store.insert(iframes.TABLE, row)
    return _answer(ctx, row)


async def update_iframe(ctx: Ctx) -> dict:
    """Change the fields given; appearance and behavior are replaced whole."""
    body: UpdateIframe = ctx.body
    row = _widget(ctx)
    changes: dict[str, Any] = {"updated_at": ctx.now_iso()}
    for field in ("name", "status", "appearance", "behavior"):
        if getattr(body, field) is not None:
            changes[field] = getattr(body, field)
    if body.api_key_id is not None:
        changes["api_key_id"] = _usable_key(ctx, body.api_key_id)
    if body.security is not None:
        security = dict(row["security"])
        if body.security.requireTurnstile is not None:
            security["requireTurnstile"] = body.security.requireTurnstile
        if body.security.allowedOrigins is not None:
            security["allowedOrigins"] = list(dict.fromkeys(body.security.allowedOrigins))
        changes["security"] = security
    ctx.store.update(iframes.TABLE, row["id"], changes)
    return _answer(ctx, {**row, **changes})


async def delete_iframe(ctx: Ctx) -> dict:
    """Delete a widget (its snippet stops serving)."""
    row = _widget(ctx)
    ctx.store.delete(iframes.TABLE, "id = ?", [row["id"]])
    return {"deleted": True, "id": row["id"]}


async def duplicate_iframe(ctx: Ctx) -> dict:
    """Copy a widget under a new id, named `<name> (copy)`."""
    row = _widget(ctx)
    now = ctx.now_iso()
    with ctx.store.atomic():
        copy = {**row, "id": ctx.t.new_id("ifr"), "name": iframes.copy_name(row["name"]),
                "verified_at": None, "created_at": now, "updated_at": now}
        ctx.store.insert(iframes.TABLE, copy)
    return _answer(ctx, copy)


async def preview_token(ctx: Ctx) -> dict:
    """A short-lived token that opens the widget's embed page in any state (15 min, virtual clock)."""
    row = _widget(ctx)
    token, expires = iframes.preview_token(ctx.t, row)
    return {"iframe_id": row["id"], "token": token, "expires_at": iso(expires),
            "preview_url": f"{iframes.embed_url(_base(ctx), row['id'])}?preview_token={token}"}


async def verify_iframe(ctx: Ctx) -> dict:
    """Check the widget can serve: active, its key live, its origins https and admitted by the key."""
    row = _widget(ctx)
    checks = iframes.checks(ctx.store, row)
    problems = [check["detail"] for check in checks if not check["passed"]]
    if not problems:
        ctx.store.update(iframes.TABLE, row["id"], {"verified_at": ctx.now_iso()})
    return {"id": row["id"], "verified": not problems, "checks": checks, "problems": problems}


async def embed_page(ctx: Ctx) -> HTMLResponse:
    """Public: the page a widget's embed snippet frames (with `preview_token`: in any state)."""
    row = public_row(ctx, iframes.TABLE, ctx.params["iframe_id"], iframes.KIND)
    token = ctx.query.get("preview_token")
    if token is not None:
        problem = iframes.preview_problem(ctx.t, row, token)
        if problem:
            raise TheoError(403, "invalid_token", problem)
        ancestors = "frame-ancestors *"
    else:
        problems = iframes.serving_problems(ctx.store, row)
        if problems:
            raise TheoError(403, "widget_unavailable", " ".join(problems))
        ancestors = iframes.frame_ancestors(row)
    return HTMLResponse(iframes.page(row, preview=token is not None),
                        headers={"Content-Security-Policy": ancestors, "Cache-Control": "no-store"})


routes = [
    api_route("/api/v1/iframes", list_iframes),
    api_route("/api/v1/iframes", create_iframe, "POST", body=CreateIframe, status=201),
    api_route("/api/v1/iframes/{iframe_id}", update_iframe, "PATCH", body=UpdateIframe),
    api_route("/api/v1/iframes/{iframe_id}", delete_iframe, "DELETE"),
    api_route("/api/v1/iframes/{iframe_id}/duplicate", duplicate_iframe, "POST", body=NoBody, status=201),
    api_route("/api/v1/iframes/{iframe_id}/preview-token", preview_token, "POST", body=NoBody),
    api_route("/api/v1/iframes/{iframe_id}/verify", verify_iframe, "POST", body=NoBody),
    api_route("/api/v1/embed/iframes/{iframe_id}", embed_page, public=True, query=("preview_token",),
              media="text/html"),
]
