"""Secrets: encrypted values agents read as environment variables (reference "Secrets",
plus the SDK's /v1/sessions/:id/secrets routes, sdk-compat.md "Secrets").

A secret is named within a scope: `org` (the whole tenant) or one session's id; setting
the same name in the same scope overwrites it (createdAt kept, updatedAt moved). Values
are sealed by `emu.cipher` (crypto.py) with tenant, scope and name as associated data,
and are never returned, logged or put in an error message: responses carry metadata
only. An agent names the secrets it wants; under `--exec local` they are its exec's
environment (a session's secret wins over an org secret of the same name), and their
values are masked as `***` in the exec's output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ..clock import iso
from ..crypto import DecryptError, associated_data
from ..errors import ApiError, InternalError, NotFound, Unprocessable, invalid
from ..http import Ctx, PageParams, api_route, page_body, respond
from ..models.secrets import SessionSecrets, SetSecret, name_problem
from .sessions import load as load_session

if TYPE_CHECKING:
    from ..emulator import Emulator

ORG = "org"
MASK = "***"


class SecretNotFound(NotFound):
    def __init__(self, name: str, scope: str, hint: str = "") -> None:
        ApiError.__init__(self, f"No secret named '{name}' in scope '{scope}'.{hint}",
                          {"resource": "secret", "name": name, "scope": scope})


def secret_to_api(row: dict) -> dict[str, Any]:
    """Metadata only: the value never leaves the store."""
    return {"name": row["name"], "scope": row["scope"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def _aad(tenant: str, scope: str, name: str) -> bytes:
    return associated_data("secret", tenant, scope, name)


def put_secret(emu: "Emulator", tenant: str, scope: str, name: str, value: str) -> tuple[dict, bool]:
    """Create or overwrite the secret `name` in `scope`; returns (row, created).
    Callers have validated name and value (models/secrets.py) and the scope's session."""
    now = iso(emu.clock.now_ms())
    sealed = emu.cipher.seal(value.encode("utf-8"), _aad(tenant, scope, name))
    store = emu.store
    with store.atomic():
        row = store.one("SELECT * FROM secrets WHERE tenant = ? AND scope = ? AND name = ?", [tenant, scope, name])
        if row is not None:
            store.update("secrets", row["id"], {"ciphertext": sealed, "updated_at": now})
            return {**row, "ciphertext": sealed, "updated_at": now}, False
        return store.insert("secrets", {
            "id": emu.new_id("sec", tenant), "tenant": tenant, "scope": scope, "name": name,
            "ciphertext": sealed, "created_at": now, "updated_at": now,
        }), True


def require_known(emu: "Emulator", tenant: str, session_id: str, names: Iterable[str]) -> None:
    """422 naming every secret in `names` that neither the session nor the org holds."""
    names = list(dict.fromkeys(names))
    if not names:
        return
    known = {row["name"] for row in emu.store.all(
        "SELECT name FROM secrets WHERE tenant = ? AND scope IN (?, ?)", [tenant, ORG, session_id])}
    missing = [name[:130] for name in names if name not in known]
    if missing:
        listed, them = ", ".join(f"'{name}'" for name in missing), "them" if len(missing) > 1 else "it"
        raise Unprocessable(
            f"Unknown secret{'s' if len(missing) > 1 else ''} {listed}: set {them} with POST /v1/secrets "
            f"(org-wide or for this session) before naming {them} on an agent.",
            [{"field": "secrets", "message": f"unknown secret '{name}'"} for name in missing])


def environment(emu: "Emulator", agent: dict) -> dict[str, str]:
    """The agent's secrets by name, decrypted; a session secret shadows an org one.
    Secrets deleted since the agent was created are simply absent."""
    names = list(dict.fromkeys(agent.get("secrets") or []))
    if not names:
        return {}
    marks = ", ".join("?" for _ in names)
    rows = emu.store.all(
        f"SELECT * FROM secrets WHERE tenant = ? AND scope IN (?, ?) AND name IN ({marks})",
        [agent["tenant"], ORG, agent["session_id"], *names])
    env: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["scope"] != ORG):  # org first, then the session's overwrite
        aad = _aad(row["tenant"], row["scope"], row["name"])
        try:
            env[row["name"]] = emu.cipher.open(row["ciphertext"], aad).decode()
        except DecryptError:
            raise InternalError(f"Secret '{row['name']}' cannot be decrypted with this emulator's master key "
                                "(was it imported from a database with another key?).") from None
    return env


def mask(result: dict[str, Any], values: Iterable[str]) -> dict[str, Any]:
    """The exec result with every secret value in stdout/stderr replaced by `***`."""
    ordered = sorted({v for v in values if v}, key=len, reverse=True)
    if not ordered:
        return result
    masked = dict(result)
    for stream in ("stdout", "stderr"):
        text = masked.get(stream)
        if isinstance(text, str):
            for value in ordered:
                text = text.replace(value, MASK)
            masked[stream] = text
    return masked


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
    store = ctx.emu.store
    row = store.one("SELECT id FROM secrets WHERE tenant = ? AND scope = ? AND name = ?", [ctx.tenant, scope, name])
    if row is None:
        hint = ""
        if scope == ORG and store.one("SELECT id FROM secrets WHERE tenant = ? AND name = ? AND scope != ?",
                                      [ctx.tenant, name, ORG]):
            hint = " A session-scoped secret has this name: pass its sessionId."
        raise SecretNotFound(name, scope, hint)
    with store.atomic():
        store.db.execute("DELETE FROM secrets WHERE id = ?", [row["id"]])
    return {"ok": True}


def _list(ctx: Ctx, scope: str | None) -> dict:
    page = PageParams.from_query(ctx, "sec")
    where, params = "tenant = ?", [ctx.tenant]
    if scope is not None:
        where += " AND scope = ?"
        params.append(scope)
    rows = ctx.emu.store.page("secrets", where, params, page.limit, page.after)
    return page_body(rows, page, secret_to_api)


async def set_secret(ctx: Ctx) -> Any:
    """Set a secret (org-wide, or scoped to sessionId); the same name and scope overwrites."""
    body: SetSecret = ctx.body
    row, created = put_secret(ctx.emu, ctx.tenant, _scope(ctx, body.sessionId), body.name, body.value)
    return respond(secret_to_api(row), 201 if created else 200)


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
    body: SessionSecrets = ctx.body
    scope = _scope(ctx, ctx.params["session_id"])
    problems = body.problems()
    if problems:
        fields = sorted({d["field"] for d in problems})
        raise Unprocessable(f"Request body failed validation: {', '.join(fields)}.", problems)
    results = []
    with ctx.emu.store.atomic():
        for name, value in sorted(body.entries().items()):
            results.append(put_secret(ctx.emu, ctx.tenant, scope, name, value))
    created = any(was_created for _, was_created in results)
    return respond({"ok": True, "data": [secret_to_api(row) for row, _ in results]}, 201 if created else 200)


async def list_session_secrets(ctx: Ctx) -> Any:
    """List a session's secrets: a bare array for the SDK, else the paged envelope."""
    scope = _scope(ctx, ctx.params["session_id"])
    if ctx.sdk:
        rows = ctx.emu.store.all("SELECT * FROM secrets WHERE tenant = ? AND scope = ? ORDER BY id DESC",
                                 [ctx.tenant, scope])
        return respond([secret_to_api(row) for row in rows])
    return _list(ctx, scope)


async def delete_session_secret(ctx: Ctx) -> dict:
    """Delete one secret of a session."""
    scope = _scope(ctx, ctx.params["session_id"])
    return _delete(ctx, scope, _path_name(ctx))


routes = [
    api_route("/v1/secrets", set_secret, "POST", body=SetSecret, status=201),
    api_route("/v1/secrets", list_secrets),
    api_route("/v1/secrets/{name}", delete_secret, "DELETE"),
    api_route("/v1/sessions/{session_id}/secrets", set_session_secrets, "POST", body=SessionSecrets, status=201),
    api_route("/v1/sessions/{session_id}/secrets", list_session_secrets),
    api_route("/v1/sessions/{session_id}/secrets/{name}", delete_session_secret, "DELETE"),
]
