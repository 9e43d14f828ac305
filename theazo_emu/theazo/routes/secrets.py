"""Secrets: the routes of encrypted values agents read as environment variables (reference
"Secrets", plus the SDK's /v1/sessions/:id/secrets routes, sdk-compat.md "Secrets").

Setting the same name in the same scope (`org`, or one session's id) overwrites it
(createdAt kept, updatedAt moved). Sealing, and what agents get of them, is
domain/secrets.py's. Values are never returned, logged or put in an error message:
responses carry metadata only.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import ApiError, NotFound, Unprocessable, invalid
from theazo_emu.core.http import PAGE, Ctx, Where, api_route, respond, validate
from theazo_emu.theazo.bodies.secrets import SecretMap, SessionSecrets, SetSecret, SetSecrets, name_problem
from theazo_emu.theazo.domain.secrets import ORG, TABLE, put_secret
from theazo_emu.theazo.routes.sessions import load as load_session
from theazo_emu.theazo.surface import is_sdk, list_page


class SecretNotFound(NotFound):
    def __init__(self, name: str, scope: str, hint: str = "") -> None:
        ApiError.__init__(self, f"No secret named '{name}' in scope '{scope}'.{hint}",
                          {"resource": "secret", "name": name, "scope": scope})


def secret_to_api(row: dict) -> dict[str, Any]:
    """Metadata only: the value never leaves the store."""
    return {"name": row["name"], "scope": row["scope"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


# ---- endpoints ----

def _scope(ctx: Ctx, session_id: str | None) -> str:
    """`org`, or the id of one of the caller's sessions (404 for anyone else's)."""
    return ORG if not session_id else load_session(ctx, session_id)["id"]


def _path_name(ctx: Ctx) -> str:
    name = ctx.params["name"]
    problem = name_problem(name)
    if problem:
        raise invalid("name", problem)
    return name


def _delete(ctx: Ctx, scope: str, name: str) -> dict:
    if not ctx.store.delete(TABLE, "scope = ? AND name = ?", [scope, name]):
        hint = ""
        if scope == ORG and ctx.store.find(TABLE, "name = ? AND scope != ?", [name, ORG]):
            hint = " A session-scoped secret has this name: pass its sessionId."
        raise SecretNotFound(name, scope, hint)
    return {"ok": True}


def _list(ctx: Ctx, scope: str | None) -> dict:
    where = Where(ctx) if scope is None else Where(ctx).add("scope = ?", scope)
    return list_page(ctx, TABLE, where, "sec", secret_to_api)


async def set_secret(ctx: Ctx) -> Any:
    """Set a secret, or several from a `{NAME: value}` map (org-wide, or scoped to sessionId).

    The same name and scope overwrites."""
    sent: SetSecrets = ctx.body
    if sent.is_map:
        return _put_map(ctx, _scope(ctx, sent.sessionId), sent)
    body: SetSecret = validate(SetSecret, sent.named())
    row, created = put_secret(ctx.t, _scope(ctx, body.sessionId), body.name, body.value)
    return respond(secret_to_api(row), 201 if created else 200)


def _put_map(ctx: Ctx, scope: str, body: SecretMap) -> Any:
    """Every secret of a `{NAME: value}` map, all or none: `{ok, data}`, 201 when one is new."""
    problems = body.problems()
    if problems:
        fields = sorted({d["field"] for d in problems})
        raise Unprocessable(f"Request body failed validation: {', '.join(fields)}.", problems)
    results = []
    with ctx.store.atomic():
        for name, value in sorted(body.entries().items()):
            results.append(put_secret(ctx.t, scope, name, value))
    created = any(was_created for _, was_created in results)
    return respond({"ok": True, "data": [secret_to_api(row) for row, _ in results]}, 201 if created else 200)


async def list_secrets(ctx: Ctx) -> dict:
    """List secret metadata, newest first: all of them, or one session's (?sessionId=)."""
    session_id = ctx.query.get("sessionId")
    return _list(ctx, _scope(ctx, session_id) if session_id else None)


async def delete_secret(ctx: Ctx) -> dict:
    """Delete a secret by name (?sessionId= for a session-scoped one)."""
    scope = _scope(ctx, ctx.query.get("sessionId"))
    return _delete(ctx, scope, _path_name(ctx))


async def set_session_secrets(ctx: Ctx) -> Any:
    """Set several secrets of a session from a `{NAME: value}` map (the SDK's form)."""
    return _put_map(ctx, _scope(ctx, ctx.params["session_id"]), ctx.body)


async def list_session_secrets(ctx: Ctx) -> Any:
    """List a session's secrets: a bare array for the SDK, else the paged envelope."""
    scope = _scope(ctx, ctx.params["session_id"])
    if is_sdk(ctx):
        return respond([secret_to_api(row) for row in ctx.store.rows(TABLE, "scope = ?", [scope], order="id DESC")])
    return _list(ctx, scope)


async def delete_session_secret(ctx: Ctx) -> dict:
    """Delete one secret of a session."""
    scope = _scope(ctx, ctx.params["session_id"])
    return _delete(ctx, scope, _path_name(ctx))


routes = [
    api_route("/v1/secrets", set_secret, "POST", body=SetSecrets, status=201, also=(200,)),
    api_route("/v1/secrets", list_secrets, query=("sessionId", *PAGE)),
    api_route("/v1/secrets/{name}", delete_secret, "DELETE", query=("sessionId",)),
    api_route("/v1/sessions/{session_id}/secrets", set_session_secrets, "POST", body=SessionSecrets, status=201,
              also=(200,)),
    api_route("/v1/sessions/{session_id}/secrets", list_session_secrets),
    api_route("/v1/sessions/{session_id}/secrets/{name}", delete_session_secret, "DELETE"),
]
