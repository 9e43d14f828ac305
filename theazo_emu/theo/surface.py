"""The Theo surface (`/api/v1`): its keys, envelope, codes, scopes, paging and streams.

theo-api.md §3.5: errors are `{"error": {message, type, code, request_id}}` with
`X-Request-Id`; the kernel's failures take Theo's codes (a malformed or invalid body is
400 `validation_error`, a bad key 401 `invalid_api_key`, a missing scope 403
`insufficient_scope`, an unexpected failure 500 `server_error`). Keys: any `theo_sk_test_`
key is its own tenant; keys created through /api/v1/keys are looked up by their SHA-256
(theo/domain/keys.py), and a revoked one is 401. A Theazo key here is a 401 in this
envelope, as a Theo key is on /v1. Lists are `{<name>: [...], has_more, next_cursor}`.
Streams are sse.Frame lists sent whole, frame by frame, closing after the last.
Guards: Theo's own rate limit (X-Ratelimit-*-Requests/-Tokens) and scopes, then the
Idempotency-Key claim (a replay passes every guard a fresh request does), then faults.
Middleware (theo/middleware.py): version headers and CORS, then the Idempotency-Key store.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from starlette.middleware import Middleware

from theazo_emu import registry
from theazo_emu.core import catalog
from theazo_emu.core.auth import bearer_token, is_theo_test_key, tenant_of
from theazo_emu.core.clock import period_start_ms
from theazo_emu.core.errors import Forbidden, Unauthorized, invalid
from theazo_emu.core.http import Ctx, Json, Page, api_route, query_time
from theazo_emu.core.openapi import openapi_document
from theazo_emu.core.surface import Surface
from theazo_emu.theo.domain import keys
from theazo_emu.theo.domain.errors import error_body
from theazo_emu.theo.domain.ratelimit import limiter
from theazo_emu.theo.middleware import Idempotency, TheoHeaders, idempotency_guard

if TYPE_CHECKING:
    from theazo_emu.core.http import ApiRoute
    from theazo_emu.core.sse import Frame
    from theazo_emu.core.host import Host

DAY_MS = 86_400_000
EARLIEST, LATEST = 0, 253_402_300_799_999  # 1970-01-01 .. 9999-12-31T23:59:59.999Z
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
GENERIC = {
    "validation": (400, "validation_error"), "unauthorized": (401, "invalid_api_key"),
    "forbidden": (403, "insufficient_scope"), "not_found": (404, "not_found"), "conflict": (409, "conflict"),
    "too_large": (413, "payload_too_large"), "method_not_allowed": (405, "method_not_allowed"),
    "rate_limited": (429, "rate_limit_exceeded"), "internal": (500, "server_error"),
    "upstream": (502, "server_error"), "timeout": (504, "server_error"), "not_implemented": (501, "not_implemented"),
}
# The scopes a route needs (any one of them), by path prefix, first match wins; a route not
# listed needs none (any valid key). /health is public. Account administration (keys, orgs,
# widgets, settings) needs an unrestricted key (keys.EVERY): a key limited to some scopes must
# not mint, revoke or re-point the keys that are not.
SCOPE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/api/v1/keys", keys.EVERY),
    ("/api/v1/orgs", keys.EVERY),
    ("/api/v1/iframes", keys.EVERY),
    ("/api/v1/settings", keys.EVERY),
    ("/api/v1/completions", ("completions",)),
    ("/api/v1/chat/", ("completions",)),
    ("/api/v1/models", ("completions",)),
    ("/api/v1/conversations", ("completions", "memory")),
    ("/api/v1/usage", ("billing",)),
    ("/api/v1/audit/export", ("billing",)),
    ("/api/v1/billing/", ("billing",)),
    ("/api/v1/skills", ("skills",)),
    ("/api/v1/evi/", ("skills",)),
    ("/api/v1/tools", ("tools",)),
    ("/api/v1/browser/", ("connectors", "browser")),
    ("/api/v1/webhooks", ("completions",)),
    ("/api/v1/hooks", ("completions",)),
    ("/api/v1/events", ("completions",)),
    ("/api/v1/workflows", ("completions",)),
    ("/api/v1/images", ("completions",)),
    ("/api/v1/code", ("completions",)),
    ("/api/v1/documents", ("completions",)),
    ("/api/v1/video", ("completions",)),
    ("/api/v1/research", ("completions",)),
    ("/api/v1/audio/", ("completions",)),
    ("/api/v1/jobs/", ("completions",)),
)


def authenticate(emu: "Host", authorization: str | None) -> tuple[str | None, str]:
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("Missing API key. Send 'Authorization: Bearer theo_sk_test_...'.")
    row = keys.lookup(emu, token) if token.startswith("theo_sk_") else None
    if row is not None:
        if row["revoked_at"]:
            raise Unauthorized("This API key has been revoked.")
        return token, row["tenant"]
    if not is_theo_test_key(token):
        raise Unauthorized("Invalid API key: the emulator takes Theo test keys, 'theo_sk_test_<anything>' "
                           "(or keys created with POST /api/v1/keys).")
    return token, tenant_of(token)


def render_error(request_id: str, status: int, code: str, message: str, details: Any,
                 headers: dict[str, str]) -> Json:
    return Json(error_body(status, code, spelled_out(message, details), request_id), status_code=status,
                headers={**headers, "X-Request-Id": request_id})


def spelled_out(message: str, details: Any) -> str:
    """Theo's envelope has no details field: its message names each field's problem (the allowed
    values, an unknown field, a malformed body's line and column), as Theazo's details do."""
    if not isinstance(details, list) or not details:
        return message
    parts = [f"{d['field']}: {d['message']}" if d.get("field") != "body" else str(d["message"])
             for d in details[:10] if isinstance(d, dict) and d.get("message")]
    return f"{message.rstrip('.')} ({'; '.join(parts)})." if parts else message


def required_scopes(path: str) -> tuple[str, ...]:
    return next((scopes for prefix, scopes in SCOPE_RULES if path.startswith(prefix)), ())


def caller_key(ctx: Ctx) -> dict[str, Any] | None:
    """The caller's registered key (None for an unregistered test key), looked up once a request."""
    state = ctx.request.scope.setdefault("state", {})
    if "theo_key" not in state:
        state["theo_key"] = keys.lookup(ctx.emu, ctx.key) if ctx.key else None
    return state["theo_key"]


async def scope_guard(ctx: Ctx, route: "ApiRoute") -> None:
    """403 `insufficient_scope` for a key whose scopes do not cover the route."""
    required = required_scopes(route.path)
    if ctx.key is None or not required:
        return
    row = caller_key(ctx)
    granted = row["scopes"] if row is not None else keys.SCOPES
    if keys.allows(granted, required):
        return
    has = ", ".join(granted) or "no scopes"
    if required == keys.EVERY:
        raise Forbidden(f"{ctx.request.method} {ctx.request.url.path} is account administration: it needs an "
                        f"unrestricted key, one with every scope ({', '.join(keys.SCOPES)}); this key has: {has}.")
    raise Forbidden(f"This API key is missing the '{required[0]}' scope needed for {ctx.request.method} "
                    f"{ctx.request.url.path} (it has: {has}).")


async def rate_limit_guard(ctx: Ctx, route: "ApiRoute") -> None:
    await limiter(ctx.emu).guard(ctx, route)


def key_facts(ctx: Ctx) -> tuple[dict[str, Any] | None, str]:
    """The caller's registered key (None for an unregistered test key) and its audit id."""
    row = caller_key(ctx)
    return row, keys.key_id(ctx.key or "", row)


def request_facts(ctx: Ctx) -> dict[str, Any]:
    """What the audit log keeps of a request: route, method, request id, client address, agent."""
    request = ctx.request
    return {"route": request.scope["path"], "method": request.method,
            "request_id": request.scope.get("state", {}).get("request_id"),
            "ip_address": request.client.host if request.client else None,
            "user_agent": request.headers.get("user-agent")}


def period(ctx: Ctx, default_from_ms: int | None = None) -> tuple[int, int]:
    """[from, to] in ms from the `from` and `to` query values (ISO; a plain date as `to` is that
    whole day), inclusive; by default the current UTC month until now (or `default_from_ms`)."""
    now = ctx.now_ms()
    start, end = query_time(ctx, "from"), query_time(ctx, "to")
    for name, value in (("from", start), ("to", end)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise invalid(name, "must be between 1970-01-01 and 9999-12-31")
    if end is not None and _DATE_ONLY.match(ctx.query["to"]):
        end += DAY_MS - 1
    if start is None:
        start = default_from_ms if default_from_ms is not None else period_start_ms("month", now) or 0
    end = now if end is None else end
    if start > end:
        raise invalid("from", "must not be after 'to'")
    return start, end


def page_body(name: str, page: Page, serialize: Callable[[Any], Any]) -> dict[str, Any]:
    """`{<name>: [...], has_more, next_cursor}` (the SDK's ConversationListResponse shape)."""
    return {name: [serialize(item) for item in page.items], "has_more": page.has_more,
            "next_cursor": page.next_cursor}


def stream(ctx: Ctx, frames: list["Frame"]):  # noqa: ANN201 (an sse.FinishedStream)
    """A finished list of frames as an SSE answer: each frame whole in one write, then close
    (a `stream_cut` fault ends it early)."""
    from theazo_emu.core.sse import FinishedStream  # sse-starlette: loaded with the first stream, not at start-up

    return FinishedStream(ctx.emu, frames)


ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type", "code", "request_id"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "string"},
                       "request_id": {"type": ["string", "null"]}}}},
}

THEO = Surface(
    name="theo", prefix="/api/v1", title="Theo API", families=registry.THEO,
    authenticate=authenticate, render_error=render_error, generic=GENERIC,
    guards=("rate_limit", "scopes", "idempotency", "faults"),
    own_guards={"rate_limit": rate_limit_guard, "scopes": scope_guard, "idempotency": idempotency_guard},
    catalog=catalog.THEO, openapi="/api/v1/openapi.json",
    middleware=(Middleware(TheoHeaders, render=render_error),
                Middleware(Idempotency, render=render_error)),
    key_format="theo_sk_test_...", error_schema=ERROR_SCHEMA,
    core=lambda: [api_route("/api/v1/openapi.json", openapi_document, public=True)],
)
