"""The one SSE helper: frames, heartbeats, and following a timeline until its end.

Every stream that waits on the clock is `follow(emu, poll)`: `poll()` returns the frames that
became due, whether the stream is finished, and when the next frame is due on the
virtual clock. The helper sleeps until then (in wall time, under a flowing clock) or
until `emu.changes` wakes it (clock advanced, run started, agent paused...). Framing and
heartbeats are sse-starlette's; headers are flushed before the first event, since the
SDK waits for them before it starts the run it wants to watch. While a stream waits on a
frozen clock for its next frame, its heartbeat comment says so and how to move the clock; a
stream with nothing to show yet may say why once, after it opens (`idle`). A
stream whose frames are all known at once (a Theo completion) is a `FinishedStream`: the
frames, one write each, then the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from theazo_emu.core.faults import CUT_AFTER
from theazo_emu.core.journal import record_event
from theazo_emu.core.jsonio import dumps_text

if TYPE_CHECKING:
    from theazo_emu.core.host import Host

SEPARATOR = "\n"  # the SDK splits on \n


@dataclass(frozen=True)
class Frame:
    """One event. `data` is sent as one line of JSON, or as is when it is a str (the OpenAI
    stream's closing `[DONE]`); `event` and `id` may be None for data-only streams."""

    event: str | None
    data: Any
    id: str | None

    def text(self) -> str:
        return self.data if isinstance(self.data, str) else dumps_text(self.data)

    def to_sse(self) -> ServerSentEvent:
        return ServerSentEvent(data=self.text(), event=self.event, id=self.id, sep=SEPARATOR)

    def encode(self) -> bytes:
        """The frame's bytes, as sse-starlette writes them: `event:`, `id:`, `data:` lines, a blank line."""
        head = (f"event: {self.event}\n" if self.event is not None else "") + \
            (f"id: {self.id}\n" if self.id is not None else "")
        data = "".join(f"data: {line}\n" for line in self.text().split("\n"))
        return f"{head}{data}\n".encode()


Poll = Callable[[], tuple[list[Frame], bool, int | None]]


class Waiting:
    """What a stream waits for now: the instant of its next frame (None: an outside event)."""

    __slots__ = ("next_ms",)

    def __init__(self) -> None:
        self.next_ms: int | None = None


def heartbeat(emu: "Host", waiting: Waiting) -> ServerSentEvent:
    """The idle comment: plain, or saying that the stream waits on a frozen clock."""
    if waiting.next_ms is not None and emu.clock.frozen:
        return ServerSentEvent(comment=f"clock frozen at {emu.clock.now_iso()}; POST /_emu/clock/advance to move it",
                               sep=SEPARATOR)
    return ServerSentEvent(comment="heartbeat", sep=SEPARATOR)


async def follow(emu: "Host", poll: Poll, journal: bool = True, waiting: Waiting | None = None,
                 idle: Callable[[], str | None] | None = None) -> AsyncIterator[ServerSentEvent]:
    """Yield frames as the virtual clock releases them; stop after the final one.
    `journal=False` keeps the frames out of the journal (the inspector's own feed). When the
    first poll has nothing to send, `idle()` may give a comment saying what the stream waits for."""
    waiting = waiting or Waiting()
    yield ServerSentEvent(comment="stream open", sep=SEPARATOR)
    first = True
    while True:
        frames, finished, next_ms = poll()
        waiting.next_ms = next_ms
        if first and idle is not None and not frames and not finished and (note := idle()):
            yield ServerSentEvent(comment=note, sep=SEPARATOR)
        first = False
        for frame in frames:
            yield frame.to_sse()
            if journal:
                record_event(emu, "sse", event=frame.event, id=frame.id)  # the frame was handed to the transport
        if finished:
            return
        await emu.changes.wait(_wait_seconds(emu, next_ms))


def _wait_seconds(emu: "Host", next_ms: int | None) -> float:
    idle = emu.settings.heartbeat_s
    if next_ms is None or emu.clock.frozen:
        return idle
    return min(idle, max(0.0, (next_ms - emu.clock.now_ms()) / 1000))


class _Stream(EventSourceResponse):
    """An EventSourceResponse that honours a `stream_cut` fault on its request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        after = scope.get("state", {}).get(CUT_AFTER)
        if after is not None:
            self.body_iterator = _cut(self.body_iterator, after)
        await super().__call__(scope, receive, send)


async def _cut(items: Any, after: int) -> AsyncIterator[Any]:
    """Pass items through and end the body right after the `after`-th event (comments don't count)."""
    sent = 0
    try:
        async for item in items:
            yield item
            sent += isinstance(item, ServerSentEvent) and item.data is not None
            if sent >= after:
                return
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


class FinishedStream(Response):
    """An SSE answer whose frames are all known when it starts (a Theo completion's): each frame
    is written whole, in one write, then the response ends: no heartbeat, nothing to wait for.
    A `stream_cut` fault ends it after that many frames; frames are journaled as follow() does."""

    media_type = "text/event-stream"

    def __init__(self, emu: "Host", frames: list[Frame]) -> None:
        # Not Response.__init__, which would render a body: this one writes its frames itself.
        self.emu, self.frames, self.status_code, self.background = emu, frames, 200, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        after = scope.get("state", {}).get(CUT_AFTER)
        frames = self.frames if after is None else self.frames[:after]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no")]})
        for frame in frames:
            await send({"type": "http.response.body", "body": frame.encode(), "more_body": True})
            record_event(self.emu, "sse", event=frame.event, id=frame.id)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def stream_response(emu: "Host", poll: Poll, journal: bool = True,
                    idle: Callable[[], str | None] | None = None) -> EventSourceResponse:
    waiting = Waiting()
    return _Stream(
        follow(emu, poll, journal, waiting, idle), sep=SEPARATOR, ping=emu.settings.heartbeat_s,
        ping_message_factory=lambda: heartbeat(emu, waiting), headers={"Cache-Control": "no-cache"})
