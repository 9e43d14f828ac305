"""The front door: the one app-wide ASGI layer every request passes, before its surface.

It does, in one pass and with one `send` wrapper, what every request needs whatever its
surface: a deterministic `req_` id (from the caller's tenant and the virtual clock, kept in
the scope for the renderers and sent as `X-Request-Id`), the journal entry (journal.py:
method, path, redacted query and body, tenant, status, error code, duration; admin reads
and the inspector are not journaled) with the exchange the inspector shows, and the
rate-limit headers a guard left in the scope. Plain ASGI, no BaseHTTPMiddleware: this layer
is on the path of every request, so it allocates as little as it can and parses the
Authorization header once.

It is also the outermost catch: a failure no route rendered (one in the record/replay
layer, say) is logged and, when nothing was sent yet, answered as the 500 of the surface
the path is on. It is not raised on: the server would then close the client's keep-alive
connection. Only an answer cut off mid-body must end its connection, so that exception
goes on to the server.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from theazo_emu.core import errors
from theazo_emu.core.auth import bearer_token, tenant_of
from theazo_emu.core.http import PARSED_BODY
from theazo_emu.core.journal import MAX_DETAIL_BODY, QUIET_PATHS
from theazo_emu.core.ratelimit import HEADERS_STATE
from theazo_emu.core.redaction import parse_body, redact_body

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.redaction import Redactor
    from theazo_emu.core.surface import Surface

_MAX_BODY = 16 * 1024  # larger request bodies are journaled by size only (10,000 entries must stay small)
_MAX_ERROR_BODY = 16 * 1024


class Front:
    def __init__(self, app: ASGIApp, emu: "Host", surface_for: Callable[[str], "Surface"],
                 edge_path: Callable[[str, str | None], str] = lambda path, key: path) -> None:
        self.app, self.emu = app, emu
        self.surface_for = surface_for  # which surface's envelope a failure outside every route takes
        self.edge_path = edge_path  # a path another surface serves for this key (Theo's OpenAI base URL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emu = self.emu
        auth = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
                break
        key = bearer_token(auth)
        tenant = None
        if key:
            tenant = tenant_of(key)
            emu.aliases.note(key, tenant)  # the inspector names tenants by their key's alias
        path = self.edge_path(scope["path"], key)
        if path != scope["path"]:
            scope = {**scope, "path": path, "raw_path": path.encode()}
        now = emu.clock.now_ms()
        request_id = emu.ids.request_id(tenant or "public", now)
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"], state["authorization"] = request_id, auth
        rid = request_id.encode()
        started = complete = False

        async def send_tracked(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            if scope["path"].startswith(QUIET_PATHS):
                await self.app(scope, receive, _with_headers(send_tracked, rid, state))
            else:
                await _journaled(self.app, emu, scope, receive, send_tracked, rid, state, tenant, now)
        except Exception as exc:  # a failure outside every route (routes render their own)
            if started and not complete:
                raise
            answer = errors.unexpected(self.surface_for(scope["path"]), scope, exc)
            if not started:
                await answer(scope, receive, _with_headers(send, rid, state))


def _with_headers(send: Send, rid: bytes, state: dict) -> Send:
    """`send` that adds X-Request-Id (unless the answer has one: a proxied upstream's) and the
    rate-limit headers a guard left in the scope state."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.setdefault("headers", [])
            if not any(name.lower() == b"x-request-id" for name, _ in headers):
                headers = message["headers"] = [*headers, (b"x-request-id", rid)]
            limits = state.get(HEADERS_STATE)
            if limits:
                headers += [(name.lower().encode(), value.encode()) for name, value in limits.items()]
        await send(message)

    return send_with_headers


async def _journaled(app: ASGIApp, emu: "Host", scope: Scope, receive: Receive, send: Send, rid: bytes,
                     state: dict, tenant: str | None, start: int) -> None:
    journal, clock = emu.journal, emu.clock
    request_id = state["request_id"]
    query = journal.redactor.query(scope["query_string"]) if scope["query_string"] else {}
    entry = journal.add({"kind": "request", "atMs": start, "method": scope["method"], "path": scope["path"],
                         "query": query, "tenant": tenant, "requestId": request_id, "status": None,
                         "durationMs": None})
    body: list[bytes] = []
    errors: list[bytes] = []
    chunks: list[bytes] = []  # the response body, for the inspector (the first MAX_DETAIL_BODY bytes)
    detail: dict[str, Any] = {"requestHeaders": scope["headers"], "responseHeaders": (), "chunks": chunks}
    journal.keep_detail(entry["seq"], detail)
    size = kept = 0
    send_on = _with_headers(send, rid, state)

    async def receive_logged() -> Message:
        nonlocal size
        message = await receive()
        chunk = message.get("body", b"")
        if chunk and message["type"] == "http.request":
            size += len(chunk)
            if size <= _MAX_BODY:
                body.append(chunk)
        return message

    async def send_logged(message: Message) -> None:
        nonlocal kept
        kind = message["type"]
        if kind == "http.response.start":
            entry["status"] = message["status"]
            await send_on(message)  # the headers as sent (X-Request-Id, rate limits) are the ones kept
            detail["responseHeaders"] = headers = message.get("headers", ())
            for name, value in headers:
                if name.lower() == b"x-request-id" and value != rid:  # a proxied upstream's id
                    entry["requestId"] = value.decode("latin-1")
            return
        if kind == "http.response.body":
            chunk = message.get("body", b"")
            if entry["status"] >= 400 and sum(map(len, errors)) < _MAX_ERROR_BODY:
                errors.append(chunk)
            if kept <= MAX_DETAIL_BODY:  # past it, the inspector says the body was not kept
                chunks.append(chunk)
                kept += len(chunk)
        await send_on(message)

    context = journal.current.set({"requestId": request_id, "tenant": tenant, "path": scope["path"]})
    try:
        await app(scope, receive_logged, send_logged)
    except BaseException:
        if entry["status"] is None:
            entry["status"] = 500
        raise
    finally:
        journal.current.reset(context)
        entry["durationMs"] = clock.now_ms() - start
        if size:
            entry.update(_body_fields(b"".join(body), size, journal.redactor, scope, state.get(PARSED_BODY)))
        if errors:
            entry.update(_error_code(b"".join(errors)))


def _body_fields(raw: bytes, size: int, redactor: "Redactor", scope: Scope, parsed: Any) -> dict[str, Any]:
    """The redacted JSON body (the route's own parse when it made one); other and oversized
    bodies by size only."""
    if size > _MAX_BODY:
        return {"bodyBytes": size}
    part = {"body": parsed} if parsed is not None else parse_body(raw)
    encoded = redact_body(part, redactor, scope)
    return {"body": encoded["body"]} if "body" in encoded else {"bodyBytes": size}


def _error_code(raw: bytes) -> dict[str, Any]:
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return {}
    return {"errorCode": error["code"]} if isinstance(error, dict) and isinstance(error.get("code"), str) else {}
