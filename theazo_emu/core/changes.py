"""The change feed: wakes every waiting stream or timer loop when something happened.

A stream waiting for a run to finish, or the timer loop waiting for the next due instant,
sleeps on `Changes.wait()`; whatever moves the clock or starts work calls `notify()`. It
is safe to notify from another thread: each waiter is woken on its own event loop.
"""

from __future__ import annotations

import asyncio


class Changes:
    """Wakes every waiting stream when something they might be waiting for happened."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = set()

    def notify(self) -> None:
        for loop, future in list(self._waiters):
            loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, timeout: float | None) -> None:
        """Return on the next notify(), or after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        entry = (loop, loop.create_future())
        self._waiters.add(entry)
        try:
            # asyncio.wait, not wait_for: Python 3.11's wait_for swallows a cancellation that
            # arrives as the future resolves, and a cancelled stream or timer loop would go on.
            await asyncio.wait((entry[1],), timeout=timeout)
        finally:
            self._waiters.discard(entry)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
