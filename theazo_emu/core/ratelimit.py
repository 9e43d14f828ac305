"""Rate limits per API key: a sliding one-minute window on the virtual clock (reference "Rate limits").

Off by default. `--rate-limit free|cloud|team|N` sets one limit for every key (60, 300,
1000 or N requests per minute); `emu.rate_limiter.set_limit(key, ...)` (or its `per_key`
dict, {API key: per-minute limit or None}) overrides it for one key, for fixtures and
tests. Only accepted requests count.
Over the limit: 429 `rate_limited` with `Retry-After` (seconds) and `details.retryAfter`.
Every response to a limited key carries X-RateLimit-Limit/-Remaining/-Reset (Reset =
seconds until the oldest counted request leaves the window). Keyless public routes are
never limited, nor is the admin surface (it asks for no guards). Windows live in memory,
like a real limiter's.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from theazo_emu.core.errors import RateLimited

if TYPE_CHECKING:
    from theazo_emu.core.http import ApiRoute, Ctx

WINDOW_MS = 60_000
PLANS = {"free": 60, "cloud": 300, "team": 1000}
MAX_PER_MINUTE = 10**9
HEADERS_STATE = "rate_limit"  # where the guard leaves the header values, in the ASGI scope's state (front.py sends them)


def parse_limit(value: str | int | None) -> int | None:
    """Requests per minute for `free|cloud|team|off|N`; None when off. ValueError otherwise."""
    if value is None or value == "" or value == "off":
        return None
    if isinstance(value, int):
        number = value
    elif value in PLANS:
        return PLANS[value]
    elif value.isdigit():
        number = int(value)
    else:
        raise ValueError(f"expected free, cloud, team, off or a number of requests per minute, got {value!r}")
    if not 1 <= number <= MAX_PER_MINUTE:
        raise ValueError(f"requests per minute must be between 1 and {MAX_PER_MINUTE}")
    return number


class RateLimiter:
    """Sliding-window counters per key; `per_key` maps an API key to its own per-minute limit."""

    def __init__(self, setting: str | int | None) -> None:
        self.default = parse_limit(setting)
        self.per_key: dict[str, int | None] = {}  # None exempts the key
        self._hits: dict[str, deque[int]] = {}

    def set_limit(self, key: str, setting: str | int | None) -> None:
        """Give one API key its own limit (`free|cloud|team|N`), or `off` to exempt it."""
        self.per_key[key] = parse_limit(setting)

    def limit_for(self, key: str) -> int | None:
        return self.per_key[key] if key in self.per_key else self.default

    def reset(self, key: str | None = None) -> None:
        """Forget the windows of one key, or of all."""
        if key is None:
            self._hits.clear()
        else:
            self._hits.pop(key, None)

    def hit(self, key: str, limit: int, now_ms: int, count: bool = True) -> tuple[bool, int, int]:
        """Count a request if there is room: (accepted, remaining, seconds until a slot frees).
        With `count=False` only look: whether there is room, counting nothing."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now_ms - WINDOW_MS:
            hits.popleft()
        room = len(hits) < limit
        if room and count:
            hits.append(now_ms)
        reset = math.ceil((hits[0] + WINDOW_MS - now_ms) / 1000) if hits else 0
        return room, max(0, limit - len(hits)), reset

    async def guard(self, ctx: "Ctx", route: "ApiRoute") -> None:
        """Refuse a request over its key's limit; leave the header values for the middleware."""
        if ctx.key is None:
            return
        limit = self.limit_for(ctx.key)
        if limit is None:
            return
        accepted, remaining, reset = self.hit(ctx.key, limit, ctx.now_ms())
        ctx.request.scope.setdefault("state", {})[HEADERS_STATE] = {
            "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
        if not accepted:
            raise RateLimited(f"Too many requests. Retry after {reset} seconds.",
                              {"retryAfter": reset, "limit": limit, "windowSeconds": WINDOW_MS // 1000},
                              headers={"Retry-After": str(reset)})
