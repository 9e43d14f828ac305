"""The Theo surface's middleware: version headers and CORS, and Idempotency-Key replay.

Both run inside the surface's Mount, outside its error handlers, so they see every answer
of /api/v1, errors included, and nothing of the other surfaces.

`TheoHeaders` (theo-api.md §3.2, §3.3): every answer carries `Theo-Version` and
`Theo-Api-Version` (the sources disagree on the name: both are sent); a request whose
`Theo-Api-Version` is an older date gets `Theo-Deprecation`; one that is not a date is 400.
CORS: no `Origin` (server to server) gets `Access-Control-Allow-Origin: *`; an `Origin`
must be one of the key's `allowed_origins` when it has some, else one of the defaults
(hitheo.ai, api.hitheo.ai, docs.hitheo.ai), and is echoed back, or the request is refused
with 403 `origin_not_allowed` and no CORS header. A preflight (OPTIONS with
Access-Control-Request-Method) carries no key, so it cannot know which origins the key will
allow: it is answered 204 for any origin, telling nothing of any key's list, and the request
that follows it (with its key) is the one checked.

`Idempotency` (§3.1): a POST with `Idempotency-Key` (1-256 of A-Z a-z 0-9 - _ . :, else
400) is claimed per tenant (theo/domain/idempotency.py), but only once the request has passed
every guard a fresh one passes (key, origin, rate limit, scopes): `idempotency_guard` runs in
the route, after those. A repeat of the same request within 24 h replays the stored status,
headers and body (a stream frame by frame) with `X-Idempotent-Replay: true` and the original
X-Request-Id; a duplicate while the first still runs is 409 `conflict`; the same key with a
different request is 422 `idempotency_key_reused`. Answers that a retry should redo are not
stored: 401, 403, 429, 5xx, and a stream cut by a fault. A secret an answer shows once (the
route's `reveals`: a new API key, a signing secret) is never stored: a replay answers it as
null, with a `_note` saying so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from theazo_emu.core import jsonio
from theazo_emu.core.auth import bearer_token
from theazo_emu.core.faults import CUT_AFTER
from theazo_emu.core.readahead import buffered, read_body
from theazo_emu.theo.domain import idempotency, keys
from theazo_emu.theo.domain.engines import VERSION
from theazo_emu.theo.domain.errors import TheoError

if TYPE_CHECKING:
    from theazo_emu.core.http import ApiRoute, Ctx
    from theazo_emu.core.surface import RenderError

DEFAULT_ORIGINS = ("https://hitheo.ai", "https://api.hitheo.ai", "https://docs.hitheo.ai")
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Theo-Api-Version, X-Theazo-Emu-Fault"
EXPOSE_HEADERS = ("X-Request-Id, Theo-Version, Theo-Api-Version, Theo-Deprecation, X-Idempotent-Replay, Retry-After, "
                  "X-Ratelimit-Limit-Requests, X-Ratelimit-Remaining-Requests, X-Ratelimit-Reset-Requests, "
                  "X-Ratelimit-Limit-Tokens, X-Ratelimit-Remaining-Tokens, X-Ratelimit-Reset-Tokens, X-Cache")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def _request_id(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "")


def _adding(send: Send, headers: list[tuple[str, str]]) -> Send:
    async def send_with(message: Message) -> None:
        if message["type"] == "http.response.start" and headers:
            message["headers"] = [*message.get("headers", []),
                                  *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers)]
        await send(message)

    return send_with


class TheoHeaders:
    def __init__(self, app: ASGIApp, render: "RenderError") -> None:
        self.app, self.render = app, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        added = [("Theo-Version", VERSION), ("Theo-Api-Version", VERSION)]
        asked = headers.get("theo-api-version")
        if asked is not None and not _DATE.match(asked.strip()):
            await self._refuse(scope, receive, send, added, 400, "validation_error",
                               f"Invalid Theo-Api-Version {asked[:40]!r}: expected a date such as {VERSION}.")
            return
        if asked is not None and asked.strip() < VERSION:
            added.append(("Theo-Deprecation", f'version="{asked.strip()}"; current="{VERSION}"'))
        origin = headers.get("origin")
        if origin is None:
            added.append(("Access-Control-Allow-Origin", "*"))
        elif scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, added, origin)
            return
        elif origin in self._allowed(scope, headers):
            added += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                      ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
        else:
            await self._refuse(scope, receive, send, added, 403, "origin_not_allowed",
                               f"Origin {origin[:200]} is not allowed for this key. Allowed by default: "
                               f"{', '.join(DEFAULT_ORIGINS)}; a key's own list is set with PUT /api/v1/keys/:id "
                               "{\"allowed_origins\": [...]}.")
            return
        await self.app(scope, receive, _adding(send, added))

    @staticmethod
    def _allowed(scope: Scope, headers: Headers) -> tuple[str, ...]:
        """The key's allowed origins when it has some, else the defaults."""
        token = bearer_token(headers.get("authorization"))
        row = keys.lookup(scope["app"].state.emu, token) if token else None
        return tuple(row["allowed_origins"]) if row and row["allowed_origins"] else DEFAULT_ORIGINS

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, added: list[tuple[str, str]],
                         origin: str) -> None:
        headers = [*added, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                   ("Access-Control-Allow-Methods", ALLOW_METHODS), ("Access-Control-Allow-Headers", ALLOW_HEADERS),
                   ("Access-Control-Max-Age", "86400"), ("X-Request-Id", _request_id(scope))]
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, added: list[tuple[str, str]], status: int,
                      code: str, message: str) -> None:
        response = self.render(_request_id(scope), status, code, message, None, dict(added))
        await response(scope, receive, send)


class Pending:
    """An Idempotency-Key request on its way through the route: its key and fingerprint,
    whether the guard claimed it, and which answer fields must not be stored."""

    __slots__ = ("key", "fingerprint", "tenant", "reveals")

    def __init__(self, key: str, fingerprint: str) -> None:
        self.key, self.fingerprint = key, fingerprint
        self.tenant: str | None = None  # the tenant that claimed it (None: not claimed)
        self.reveals: tuple[str, ...] = ()


NOT_STORED = frozenset({401, 403, 429})
PENDING = "theo_idempotency"  # where the middleware leaves a Pending, in the ASGI scope's state
SECRET_NOTE = ("This is a replay of an Idempotency-Key request: the secret was shown once, in the first answer, "
               "and is never stored. If it was lost, revoke this one and create another.")


class Idempotency:
    """Reads the body of a keyed POST (its fingerprint), lets the route's guard claim it, and
    stores the answer the claimed request gave."""

    def __init__(self, app: ASGIApp, render: "RenderError") -> None:
        self.app, self.render = app, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get("idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        emu = scope["app"].state.emu
        if not idempotency.KEY.match(key):
            await self.render(_request_id(scope), 400, "validation_error",
                              "Invalid Idempotency-Key: 1 to 256 letters, digits, '-', '_', '.' or ':'.", None,
                              {})(scope, receive, send)
            return
        messages, raw, cut = await read_body(receive, emu.settings.max_body_bytes)
        if cut:
            await self.app(scope, buffered(messages, receive), send)  # over the limit: the route's 413
            return
        pending = Pending(key, idempotency.fingerprint(scope["method"], scope["path"],
                                                       scope["query_string"].decode("latin-1"), raw))
        scope.setdefault("state", {})[PENDING] = pending
        status, headers, body, done, stream = 500, {}, [], False, False

        async def capture(message: Message) -> None:
            nonlocal status, headers, done, stream
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])}
                stream = headers.get("content-type", "").startswith("text/event-stream")
            elif message["type"] == "http.response.body" and pending.tenant is not None:
                body.append(message.get("body", b""))
                done = not message.get("more_body", False)
            await send(message)

        stored = False
        try:
            await self.app(scope, buffered(messages, receive), capture)
            cut = scope["state"].get(CUT_AFTER) is not None
            if pending.tenant is not None and done and status < 500 and status not in NOT_STORED and not cut:
                whole = b"".join(body)
                kept = _without_secrets(whole, pending.reveals)
                if kept is not whole:
                    headers["content-length"] = str(len(kept))
                idempotency.answer(emu.tenant(pending.tenant), key, status, headers, kept, stream, _request_id(scope))
                stored = True
        finally:
            if pending.tenant is not None and not stored:
                idempotency.release(emu.tenant(pending.tenant), key)


async def idempotency_guard(ctx: "Ctx", route: "ApiRoute") -> "Replay | None":
    """Claim the request's Idempotency-Key now that it passed every other guard: replay the
    stored answer, refuse a duplicate (409) or a reused key (422), or let it run."""
    pending: Pending | None = ctx.request.scope["state"].get(PENDING)
    if pending is None or ctx.key is None:
        return None
    claim = idempotency.claim(ctx.t, pending.key, pending.fingerprint)
    if claim.outcome == "replay":
        return Replay(claim.record)
    if claim.outcome == "busy":
        raise TheoError(409, "conflict", "A request with this Idempotency-Key is still being processed; retry once "
                                         "it has finished.", {"Retry-After": "1"})
    if claim.outcome == "reused":
        raise TheoError(422, "idempotency_key_reused", "This Idempotency-Key was already used with a different "
                                                       "request (method, path or body); use a new key for a new "
                                                       "request.")
    pending.tenant, pending.reveals = ctx.tenant, route.declared.reveals
    return None


def _without_secrets(body: bytes, reveals: tuple[str, ...]) -> bytes:
    """The answer as it may be kept: each revealed secret null, and a note saying why."""
    if not reveals:
        return body
    answer = jsonio.loads(body)
    if not isinstance(answer, dict) or not any(answer.get(name) is not None for name in reveals):
        return body
    return jsonio.dumps({**answer, **dict.fromkeys(reveals), "_note": SECRET_NOTE})


class Replay:
    """The stored answer again: a stream frame by frame (each whole frame in one write)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = self.record
        headers = idempotency.decoded_headers(record)
        headers.setdefault("x-request-id", record["request_id"] or "")
        headers["x-idempotent-replay"] = "true"
        await send({"type": "http.response.start", "status": record["status"],
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]})
        body: bytes = record["body"] or b""
        if record["stream"]:
            for frame in filter(None, body.split(b"\n\n")):
                await send({"type": "http.response.body", "body": frame + b"\n\n", "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({"type": "http.response.body", "body": body, "more_body": False})
