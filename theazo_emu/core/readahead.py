"""Reading a request body ahead of the app, and handing it on unread.

Middleware that must see the body before the route does (recording, replay matching,
Theo's Idempotency-Key fingerprint) reads it here, up to a limit, and gives the app a
`receive` that hands out the same messages again, so the route reads the body as if
nobody had: an oversized body still reaches the route, which answers its own 413.
"""

from __future__ import annotations

from collections import deque

from starlette.types import Message, Receive


async def read_body(receive: Receive, limit: int) -> tuple[list[Message], bytes, bool]:
    """The messages read (to hand on), the body's bytes, and whether it was cut short: past
    `limit` bytes reading stops and the bytes are empty."""
    messages, chunks, size = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            return messages, b"", True
        if not message.get("more_body"):
            return messages, b"".join(chunks), False


def buffered(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the pre-read messages first, then the real ones."""
    pending = deque(messages)

    async def replay_receive() -> Message:
        return pending.popleft() if pending else await receive()

    return replay_receive
