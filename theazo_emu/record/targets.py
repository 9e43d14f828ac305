"""Where `theazo-emu replay` sends a cassette's requests: a fresh in-process emulator
(`AppTarget`, driven over ASGI with its lifespan running, no sockets, streams included) or
a running server (`HttpTarget`, `--against URL`). Each also moves its virtual clock to the
recorded instants (replay.py): in process directly, on a server through
`POST /_emu/clock/advance` when its clock is frozen.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import httpx
from starlette.types import ASGIApp, Message

from theazo_emu.core import timers
from theazo_emu.core.clock import iso
from theazo_emu.core.redaction import Redactor, parse_body

from .cassette import SseParser, is_sse
from .replay import Answer, Outcome, Prepared, ReplayError, Target, run


class AppTarget:
    """A fresh in-process emulator, called as an ASGI app (no sockets, streams included)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app, self.timeout = app, timeout

    async def move_clock(self, at_ms: int) -> None:
        emu = self.app.state.emu  # type: ignore[attr-defined]
        if at_ms > emu.clock.now_ms():
            await timers.advance(emu, at_ms)

    async def send(self, request: Prepared, stop_after: int | None, started: asyncio.Event) -> Answer:
        path, _, query = request.path.partition("?")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
        headers.append((b"host", b"replay"))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 0), "server": ("replay", 80),
                 "state": {}}
        gone = asyncio.Event()
        state: dict[str, Any] = {"sent": False, "status": 500, "parser": None, "chunks": [], "events": []}

        async def receive() -> Message:
            if not state["sent"]:
                state["sent"] = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                content_type = next((v.decode() for k, v in message.get("headers", []) if k == b"content-type"), "")
                if is_sse({"content-type": content_type}):
                    state["parser"] = SseParser()
                started.set()
            elif message["type"] == "http.response.body":
                if state["parser"] is None:
                    state["chunks"].append(message.get("body", b""))
                    return
                state["events"] += state["parser"].feed(message.get("body", b""))
                if stop_after is not None and len(state["events"]) >= stop_after:
                    gone.set()

        call = asyncio.ensure_future(self.app(scope, receive, send))
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(call), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            gone.set()
            try:
                await asyncio.wait_for(call, 1.0)
            except asyncio.TimeoutError:
                pass
        if state["parser"] is not None:
            return Answer(state["status"], events=state["events"], timed_out=timed_out)
        return Answer(state["status"], parse_body(b"".join(state["chunks"])), timed_out=timed_out)


class HttpTarget:
    """A running server (`--against URL`), over HTTP; streams are read as they arrive."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(timeout))
        self.frozen: bool | None = None
        self.moved_to = 0

    async def aclose(self) -> None:
        await self.client.aclose()

    async def move_clock(self, at_ms: int) -> None:
        """Through the admin API, and only on a frozen clock (a flowing one moves by itself)."""
        if self.frozen is None:
            self.frozen, self.moved_to = await self._clock()
        if not self.frozen or at_ms <= self.moved_to:
            return
        self.moved_to = at_ms
        try:
            await self.client.post("/_emu/clock/advance", json={"to": iso(at_ms)})  # 422 if already past: fine
        except httpx.HTTPError as exc:
            raise ReplayError(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from None

    async def _clock(self) -> tuple[bool, int]:
        try:
            clock = (await self.client.get("/_emu/clock")).json()
            return bool(clock.get("frozen")), int(clock.get("epochMs", 0))
        except httpx.HTTPError as exc:
            raise ReplayError(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from None
        except (ValueError, AttributeError, TypeError):
            return False, 0  # not an emulator's admin API: leave its clock alone

    async def send(self, request: Prepared, stop_after: int | None, started: asyncio.Event) -> Answer:
        answer = Answer(500)

        async def exchange() -> None:
            async with self.client.stream(request.method, request.path, headers=request.headers,
                                          content=request.body) as response:
                answer.status = response.status_code
                started.set()
                if not is_sse({"content-type": response.headers.get("content-type", "")}):
                    answer.body = parse_body(await response.aread())
                    return
                parser, answer.events = SseParser(), []
                async for chunk in response.aiter_bytes():
                    answer.events += parser.feed(chunk)
                    if stop_after is not None and len(answer.events) >= stop_after:
                        return

        try:
            await asyncio.wait_for(exchange(), self.timeout)
        except asyncio.TimeoutError:
            answer.timed_out = True
        except httpx.HTTPError as exc:
            raise ReplayError(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from None
        return answer


class Lifespan:
    """Runs an ASGI app's lifespan (startup/shutdown) around an in-process replay."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> "Lifespan":
        self.task = asyncio.ensure_future(self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                                   self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        if message["type"] != "lifespan.startup.complete":
            raise ReplayError(f"the emulator did not start: {message.get('message', message['type'])}")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        if self.task is not None:
            await self.task


async def replay_cassette(interactions: list[dict[str, Any]], *, app: ASGIApp | None = None, url: str | None = None,
                          redactor: Redactor | None = None, timeout: float = 30.0,
                          key_prefix: str = "th_test_replay_", ignore_extra: bool = False,
                          on_done: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Replay against `url` if given, else against `app` in process (its lifespan running)."""
    options = {"redactor": redactor or Redactor(), "key_prefix": key_prefix, "ignore_extra": ignore_extra,
               "on_done": on_done}
    target: Target
    if url is not None:
        target = HttpTarget(url, timeout)
        try:
            return await run(target, interactions, **options)
        finally:
            await target.aclose()
    assert app is not None
    async with Lifespan(app):
        target = AppTarget(app, timeout)
        return await run(target, interactions, **options)
