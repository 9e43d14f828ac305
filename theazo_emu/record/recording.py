"""Record and replay as ASGI middleware (DESIGN.md "Record and replay"); formats in cassette.py.

RecordMiddleware (`serve --record FILE`) writes one cassette line per request just before
its last byte goes out (health, journal and state reads excepted), so a killed process
keeps what it answered; with `--upstream URL` requests are proxied (upstream.py), SSE
streamed through as it arrives. ReplayMiddleware (`serve --replay FILE`) answers /v1 from
the cassette, matched on method, path, query and body, repeats consumed in order; a miss is
404 `replay_miss` (strict) or the emulator's answer (fallback). /_emu stays local.
"""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth import tenant_of, theazo_key
from ..errors import Forbidden, Unauthorized
from ..redaction import Redactor, encode_body
from ..surfaces import error_response
from .cassette import (
    REQUEST_HEADERS,
    RESPONSE_HEADER_PREFIXES,
    RESPONSE_HEADERS,
    CassetteError,
    SseParser,
    decode_body,
    dump_line,
    encode_event,
    is_sse,
    match_key,
    pick_headers,
    read_cassette,
)

if TYPE_CHECKING:
    from ..emulator import Emulator

NOT_RECORDED = ("/_emu/health", "/_emu/requests", "/_emu/state", "/_emu/ui")
_MAX_RESPONSE = 64 * 1024 * 1024


def middleware(emu: "Emulator") -> list[Middleware]:
    """The record or replay middleware the settings ask for (files are opened now, so a
    bad path or cassette is a start-up error, not a first-request one)."""
    settings = emu.settings
    if settings.record is not None and settings.replay is not None:
        raise ValueError("--record and --replay cannot be combined")
    if settings.record is not None:
        upstream = None
        if settings.upstream:
            # Imported only in proxy mode: httpx costs ~0.2 s of start-up that `serve` must not pay.
            from .upstream import Upstream
            upstream = Upstream(settings.upstream)
        return [Middleware(RecordMiddleware, emu=emu, writer=CassetteWriter(settings.record), upstream=upstream)]
    if settings.replay is not None:
        return [Middleware(ReplayMiddleware, emu=emu, interactions=read_cassette(settings.replay))]
    if settings.upstream:
        raise ValueError("--upstream needs --record FILE")
    return []


async def read_body(receive: Receive, limit: int) -> tuple[list[Message], bytes, bool]:
    """Read the request body ahead of the app (up to `limit` bytes): the messages to hand
    on, the bytes, and whether it was cut short."""
    messages, chunks, size = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if not message.get("more_body"):
            return messages, b"".join(chunks), False
        if size > limit:
            return messages, b"", True


def buffered(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the pre-read messages first, then the real ones."""
    pending = deque(messages)

    async def replay_receive() -> Message:
        return pending.popleft() if pending else await receive()

    return replay_receive


def request_record(scope: Scope, raw: bytes, cut: bool, redactor: Redactor, alias: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"method": scope["method"], "path": scope["path"],
                              "query": redactor.query(scope["query_string"]),
                              "headers": pick_headers(scope["headers"], REQUEST_HEADERS)}
    if alias:
        record["auth"] = alias
    record.update({"truncated": True} if cut else encode_body(raw, redactor, scope))
    return record


class CassetteWriter:
    """Appends one line per interaction; keys become aliases (key1, live1) here."""

    def __init__(self, path: Path) -> None:
        try:
            path.write_text("", encoding="utf-8")
        except OSError as exc:
            raise CassetteError(f"{path}: cannot write the cassette: {exc.strerror}") from None
        self.path = path
        self.ticks = 0
        self._aliases: dict[str, str] = {}  # tenant digest -> alias; never the key

    def tick(self) -> int:
        self.ticks += 1
        return self.ticks

    def alias(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """`keyN` for a test key, `liveN` for a live key, `badN` for anything else sent."""
        raw = next((v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"), None)
        if raw is None:
            return None
        digest = tenant_of(raw)
        if digest not in self._aliases:
            try:
                theazo_key(raw)
                kind = "key"
            except Forbidden:
                kind = "live"
            except Unauthorized:
                kind = "bad"
            self._aliases[digest] = f"{kind}{sum(a.startswith(kind) for a in self._aliases.values()) + 1}"
        return self._aliases[digest]

    def write(self, interaction: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(dump_line(interaction))


class Capture:
    """Watches a response on its way out: status, selected headers, body or SSE events.
    `on_complete` runs just before the last message goes out, so whoever got the whole
    answer can rely on its being recorded already."""

    def __init__(self, redactor: Redactor, on_complete: Callable[[], None] = lambda: None) -> None:
        self.redactor = redactor
        self.on_complete = on_complete
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.parser: SseParser | None = None
        self.events: list[dict[str, Any]] = []
        self.complete = False

    def wrap(self, send: Send) -> Send:
        async def capturing(message: Message) -> None:
            self.observe(message)
            if self.complete and message["type"] == "http.response.body":
                self.on_complete()
            await send(message)

        return capturing

    def observe(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = message.get("headers") or []
            self.headers = pick_headers(headers, RESPONSE_HEADERS, RESPONSE_HEADER_PREFIXES)
            if is_sse(self.headers):
                self.parser = SseParser(self.redactor)
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if self.parser is not None:
                self.events += self.parser.feed(chunk)
            elif self.size + len(chunk) <= _MAX_RESPONSE:
                self.chunks.append(chunk)
            self.size += len(chunk)
            if not message.get("more_body"):
                self.complete = True

    def response(self) -> dict[str, Any]:
        if self.status is None:  # the app raised before answering: the server sent a 500
            return {"status": 500, "headers": {}}
        out: dict[str, Any] = {"status": self.status, "headers": self.headers}
        if self.parser is not None:
            out["events"] = self.events
            if not self.complete:
                out["ended"] = "client"  # the client went away first: replay stops after these
        else:
            out.update(encode_body(b"".join(self.chunks), self.redactor))
        return out


class RecordMiddleware:
    def __init__(self, app: ASGIApp, emu: "Emulator", writer: CassetteWriter, upstream: Any = None) -> None:
        self.app, self.emu, self.writer, self.upstream = app, emu, writer, upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.upstream is not None:
            await self.app(scope, receive, self._closing(send))
            return
        if scope["type"] != "http" or scope["path"].startswith(NOT_RECORDED):
            await self.app(scope, receive, send)
            return
        redactor, start, at = self.emu.journal.redactor, self.writer.tick(), self.emu.clock.now_iso()
        messages, raw, cut = await read_body(receive, self.emu.settings.max_body_bytes)
        request = request_record(scope, raw, cut, redactor, self.writer.alias(scope["headers"]))
        written = False

        def write() -> None:
            nonlocal written
            if not written:
                written = True
                self.writer.write({"request": request, "response": capture.response(),
                                   "seq": {"start": start, "end": self.writer.tick()}, "at": at})

        capture, answered = Capture(redactor, write), True
        try:
            if self.upstream is not None:
                # False: the upstream was unreachable and a 502 was sent; that is not recorded.
                answered = await self.upstream.forward(scope, raw, buffered(messages, receive), send, capture)
            else:
                await self.app(scope, buffered(messages, receive), capture.wrap(send))
        finally:
            if answered:
                write()  # a stream the client left, or an app that raised

    def _closing(self, send: Send) -> Send:
        async def on_shutdown(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.upstream.aclose()
            await send(message)

        return on_shutdown


class ReplayMiddleware:
    def __init__(self, app: ASGIApp, emu: "Emulator", interactions: list[dict[str, Any]]) -> None:
        self.app, self.emu = app, emu
        self.strict = emu.settings.replay_mode == "strict"
        self.recorded = [i for i in interactions if not i["request"]["path"].startswith("/_emu")]
        self.queues: dict[tuple, deque[dict[str, Any]]] = defaultdict(deque)
        for interaction in self.recorded:
            self.queues[match_key(interaction["request"])].append(interaction)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emu"):
            await self.app(scope, receive, send)
            return
        redactor = self.emu.journal.redactor
        messages, raw, cut = await read_body(receive, self.emu.settings.max_body_bytes)
        request = request_record(scope, raw, cut, redactor, None)
        key = match_key(request)
        queue = self.queues.get(key)
        if queue:
            await _answer(queue.popleft()["response"], send)
        elif not self.strict:
            await self.app(scope, buffered(messages, receive), send)
        else:
            await self._miss(scope, request, key in self.queues, receive, send)

    async def _miss(self, scope: Scope, request: dict, used_up: bool, receive: Receive, send: Send) -> None:
        shown = _describe(request)
        closest = self._closest(request)
        message = f"No recorded interaction matches {shown['method']} {shown['path']}"
        if used_up:
            message += " (its recordings were all used by earlier requests)"
        if closest is not None:
            message += f"; the closest recorded request is {closest['method']} {closest['path']} (line {closest['line']})"
        details = {"request": shown, "closest": closest}
        await error_response(scope, 404, "replay_miss", message + ".", details)(scope, receive, send)

    def _closest(self, request: dict) -> dict[str, Any] | None:
        target = f"{request['path']}?{match_key(request)[2]} {match_key(request)[3]}"
        best, best_score = None, -1.0
        for interaction in self.recorded:
            recorded = interaction["request"]
            key = match_key(recorded)
            text = f"{recorded['path']}?{key[2]} {key[3]}"
            matcher = difflib.SequenceMatcher(None, target, text, autojunk=False)
            if matcher.real_quick_ratio() + 1 <= best_score:
                continue
            score = (recorded["method"].upper() == request["method"].upper()) + matcher.ratio()
            if score > best_score:
                best, best_score = interaction, score
        return None if best is None else {**_describe(best["request"]), "line": best.get("line")}


def _describe(request: dict[str, Any]) -> dict[str, Any]:
    shown = {"method": request["method"], "path": request["path"], "query": request.get("query") or {}}
    for part in ("body", "text"):
        if part in request:
            shown[part] = request[part]
    return shown


async def _answer(response: dict[str, Any], send: Send) -> None:
    """Send a recorded response; SSE event by event, then close."""
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in (response.get("headers") or {}).items()
               if k.lower() != "content-length"]
    if "events" in response:
        if not any(k == b"content-type" for k, _ in headers):
            headers.append((b"content-type", b"text/event-stream; charset=utf-8"))
        await send({"type": "http.response.start", "status": response["status"], "headers": headers})
        for event in response["events"]:
            await send({"type": "http.response.body", "body": encode_event(event), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    body = decode_body(response)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
