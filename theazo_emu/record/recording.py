"""Recording (DESIGN.md "Record and replay"); the format is in cassette.py, the header in header.py.

A `Recorder` (`serve --record FILE`, or `POST /_emu/record` on a running server; see
tape.py) writes one cassette line per request just before its last byte goes out (health,
journal, state and inspector reads, and the record switch itself, excepted), so a killed
process keeps what it answered (and, for an answer that issues an API key, the alias requests with
that key will carry: `issued`); with `--upstream URL` requests are proxied (upstream.py),
SSE streamed through as it arrives. Keys become aliases (key1, theo1, live1, bad1) here,
in the Authorization header and wherever an admin call names a key (`{"tenant":
"th_test_..."}` becomes `"<key:key1>"`), so no key reaches a cassette. Each line also holds
the instant its handling first read the virtual clock (`readAt`: under a flowing clock it
is later than `at` by whatever came first, a family's first import say), so a replay can
set the clock to exactly what the endpoint saw. Serving from a cassette is replaying.py's.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from theazo_emu.core.auth import KeyAliases, key_kind
from theazo_emu.core.clock import iso
from theazo_emu.core.readahead import buffered, read_body
from theazo_emu.core.redaction import Redactor, encode_body

from .cassette import (
    REQUEST_HEADERS,
    RESPONSE_HEADER_PREFIXES,
    RESPONSE_HEADERS,
    CassetteError,
    SseParser,
    dump_line,
    is_sse,
    pick_headers,
)
from .header import make_header

if TYPE_CHECKING:
    from starlette.responses import Response

    from ..core.host import Host

NOT_RECORDED = ("/_emu/health", "/_emu/requests", "/_emu/state", "/_emu/ui", "/_emu/record")
_MAX_RESPONSE = 64 * 1024 * 1024


def request_record(scope: Scope, raw: bytes, cut: bool, redactor: Redactor, alias: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"method": scope["method"], "path": scope["path"],
                              "query": redactor.query(scope["query_string"]),
                              "headers": pick_headers(scope["headers"], REQUEST_HEADERS)}
    if alias:
        record["auth"] = alias
    record.update({"truncated": True} if cut else encode_body(raw, redactor, scope))
    return record


KEY_MARK = "<key:{}>"
_KEY_PREFIXES = ("th_test_", "th_live_", "theo_sk_")


def alias_keys(value: Any, aliases: KeyAliases) -> Any:
    """JSON with every API key replaced by its alias mark (`<key:key1>`)."""
    if isinstance(value, str):
        if value.startswith(_KEY_PREFIXES) and key_kind(value) != "bad":
            return KEY_MARK.format(aliases.note(value))
        return value
    if isinstance(value, dict):
        return {k: alias_keys(v, aliases) for k, v in value.items()}
    if isinstance(value, list):
        return [alias_keys(v, aliases) for v in value]
    return value


class CassetteWriter:
    """Writes the header, then appends one line per interaction."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        try:
            path.write_text(dump_line(header), encoding="utf-8")
        except OSError as exc:
            raise CassetteError(f"{path}: cannot write the cassette: {exc.strerror}") from None
        self.path = path
        self.header = header
        self.ticks = 0
        self.written = 0
        self.aliases = KeyAliases()  # this cassette's own numbering: replay matches on it

    def tick(self) -> int:
        self.ticks += 1
        return self.ticks

    def alias(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        raw = next((v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"), None)
        return self.aliases.alias(raw)

    def issued(self, body: bytes) -> dict[str, str] | None:
        """When an answer issues an API key (`{"id", "secret"}` whose secret is shaped like a key,
        as Theo's POST /api/v1/keys answers), the alias requests with that key will carry and the
        key's id: replay then sends the key it is issued in turn."""
        try:
            value = json.loads(body) if body[:1] == b"{" else None
        except ValueError:
            return None
        if not (isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("secret"), str)):
            return None
        if key_kind(value["secret"]) in ("bad", "live"):
            return None  # a signing secret, not a key
        alias = self.aliases.note(value["secret"])
        return {"alias": alias, "id": value["id"]} if alias else None

    def write(self, interaction: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(dump_line(interaction))
        self.written += 1


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


class Recorder:
    """The tape handler that records every interaction (tape.py)."""

    def __init__(self, emu: "Host", path: Path, upstream_url: str | None = None) -> None:
        self.emu = emu
        self.writer = CassetteWriter(path, make_header(emu))  # a bad path fails here, at start
        # The clock readings of the request being handled, per asyncio context (see readAt).
        self._reads: ContextVar[list[int] | None] = ContextVar(f"theazo_emu_reads_{id(self)}", default=None)
        emu.clock.on_read = self._note
        self.upstream = None
        if upstream_url:
            # Imported only in proxy mode: httpx costs ~0.2 s of start-up that `serve` must not pay.
            from .upstream import Upstream
            self.upstream = Upstream(upstream_url)

    def describe(self) -> dict[str, Any]:
        return {"mode": "recording", "file": str(self.writer.path.resolve()), "interactions": self.writer.written,
                "upstream": self.upstream.base_url if self.upstream else None, "header": self.writer.header}

    def rewind(self) -> None:
        """A reset does not touch a recording: the reset itself is recorded."""

    def _note(self, ms: int) -> None:
        reads = self._reads.get()
        if reads is not None and not reads:
            reads.append(ms)

    async def aclose(self) -> None:
        if self.emu.clock.on_read == self._note:
            self.emu.clock.on_read = None
        if self.upstream is not None:
            await self.upstream.aclose()

    async def handle(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                     error_response: Callable[..., "Response"]) -> None:
        if scope["path"].startswith(NOT_RECORDED):
            await app(scope, receive, send)
            return
        clock, writer = self.emu.clock, self.writer
        redactor, start, at = self.emu.journal.redactor, writer.tick(), clock.now_iso()
        messages, raw, cut = await read_body(receive, self.emu.settings.max_body_bytes)
        request = request_record(scope, raw, cut, redactor, writer.alias(scope["headers"]))
        if scope["path"].startswith("/_emu"):  # admin calls may name keys: {"tenant": "th_test_..."}
            request = alias_keys(request, writer.aliases)
        written, reads = False, []
        reading = self._reads.set(reads)

        def write() -> None:
            nonlocal written
            if not written:
                written = True
                line = {"request": request, "response": capture.response(),
                        "seq": {"start": start, "end": writer.tick()}, "at": at}
                issued = writer.issued(b"".join(capture.chunks)) if capture.status in (200, 201) else None
                writer.write(line | ({"readAt": iso(reads[0])} if reads else {}) | {"endAt": clock.now_iso()}
                             | ({"issued": issued} if issued else {}))

        capture, answered = Capture(redactor, write), True
        try:
            if self.upstream is not None:
                # False: the upstream was unreachable and a 502 was sent; that is not recorded.
                answered = await self.upstream.forward(scope, raw, buffered(messages, receive), send, capture.wrap,
                                                       error_response)
            else:
                await app(scope, buffered(messages, receive), capture.wrap(send))
        finally:
            self._reads.reset(reading)
            if answered:
                write()  # a stream the client left, or an app that raised
