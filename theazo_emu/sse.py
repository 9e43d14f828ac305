"""The one SSE helper: frames, heartbeats, and following a timeline until its end.

Every stream in the emulator is `follow(emu, poll)`: `poll()` returns the frames that
became due, whether the stream is finished, and when the next frame is due on the
virtual clock. The helper sleeps until then (in wall time, under a flowing clock) or
until `emu.changes` wakes it (clock advanced, run started, agent paused...). Framing and
heartbeats are sse-starlette's; headers are flushed before the first event, since the
SDK waits for them before it starts the run it wants to watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from .faults import CUT_AFTER
from .journal import record_event
from .jsonio import dumps_text

if TYPE_CHECKING:
    from .emulator import Emulator

SEPARATOR = "\n"  # the SDK splits on \n


@dataclass(frozen=True)
class Frame:
    """One event. `data` is sent as one line of JSON, or as is when it is a str (the OpenAI
    stream's closing `[DONE]`); `event` and `id` may be None for data-only streams."""

    event: str | None
    data: Any
    id: str | None

    def to_sse(self) -> ServerSentEvent:
        text = self.data if isinstance(self.data, str) else dumps_text(self.data)
        return ServerSentEvent(data=text, event=self.event, id=self.id, sep=SEPARATOR)


Poll = Callable[[], tuple[list[Frame], bool, int | None]]


async def follow(emu: "Emulator", poll: Poll, journal: bool = True) -> AsyncIterator[ServerSentEvent]:
    """Yield frames as the virtual clock releases them; stop after the final one.
    `journal=False` keeps the frames out of the journal (the inspector's own feed)."""
    yield ServerSentEvent(comment="stream open", sep=SEPARATOR)
    while True:
        frames, finished, next_ms = poll()
        for frame in frames:
            yield frame.to_sse()
            if journal:
                record_event(emu, "sse", event=frame.event, id=frame.id)  # the frame was handed to the transport
        if finished:
            return
        await emu.changes.wait(_wait_seconds(emu, next_ms))


def _wait_seconds(emu: "Emulator", next_ms: int | None) -> float:
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


def stream_response(emu: "Emulator", poll: Poll, journal: bool = True) -> EventSourceResponse:
    return _Stream(
        follow(emu, poll, journal), sep=SEPARATOR, ping=emu.settings.heartbeat_s,
        ping_message_factory=lambda: ServerSentEvent(comment="heartbeat", sep=SEPARATOR),
        headers={"Cache-Control": "no-cache"})
