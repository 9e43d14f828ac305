"""Per-key rate limits for Theo (theo-api.md §3.4): requests, tokens and per-mode caps.

Off by default, like Theazo's; `--theo-rate-limit free|starter|pro|enterprise|N` sets a
tier for every key (N: N requests a minute, tokens in the free tier's proportion), and a
key may get its own (fixtures' `theoKeys`, PUT /_emu/theo/account). Windows slide over 60 s
of virtual time (advance the clock to get past one). The guard counts a request before its
endpoint runs and refuses it with 429 `rate_limit_exceeded`, or `token_limit_exceeded` once
the minute's tokens are spent; completions also count against their mode's cap (429
`mode_rate_limit_exceeded`) and book the tokens they used. Every answer to a keyed request
carries the six X-Ratelimit-* headers, resets spelled like `58s`; a 429 has `Retry-After`.
A key with no tier says so rather than invent numbers: limits and remainders `unlimited`,
resets `0s`.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from theazo_emu.core.ratelimit import WINDOW_MS, RateLimiter
from theazo_emu.theo.domain.errors import TheoError

if TYPE_CHECKING:
    from theazo_emu.core.http import ApiRoute, Ctx
    from theazo_emu.settings import Settings

STATE = "rate_limit"  # the scope-state key front.py sends rate-limit headers from (ratelimit.HEADERS_STATE)


UNLIMITED = {f"X-Ratelimit-{what}-{unit}": value for unit in ("Requests", "Tokens")
             for what, value in (("Limit", "unlimited"), ("Remaining", "unlimited"), ("Reset", "0s"))}


class Tier(NamedTuple):
    requests: int  # per minute
    tokens: int  # per minute


TIERS = {"free": Tier(60, 100_000), "starter": Tier(300, 500_000), "pro": Tier(1000, 2_000_000),
         "enterprise": Tier(5000, 10_000_000)}
# A mode class's share of the tier's requests per minute (text, code and auto: all of it).
MODE_SHARES = {"stealth": 2, "image": 3, "research": 4, "video": 6}
_MODE_CLASS = {"stealth": "stealth", "stealth_image": "stealth", "stealth_video": "stealth", "image": "image",
               "research": "research", "video": "video"}
MAX_REQUESTS = 10**9


def parse_tier(value: str | int | None) -> Tier | None:
    """The tier `free|starter|pro|enterprise|N|off` names; None when off. ValueError otherwise."""
    if value is None or value in ("", "off"):
        return None
    if isinstance(value, str) and value in TIERS:
        return TIERS[value]
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        if not 1 <= number <= MAX_REQUESTS:
            raise ValueError(f"requests per minute must be between 1 and {MAX_REQUESTS}")
        return Tier(number, number * TIERS["free"].tokens // TIERS["free"].requests)
    raise ValueError(f"expected free, starter, pro, enterprise, off or a number of requests per minute, got {value!r}")


class TheoLimiter:
    """The windows of every key, in memory (like a real limiter's)."""

    def __init__(self, setting: str | None) -> None:
        self.default = parse_tier(setting)
        self.per_key: dict[str, Tier | None] = {}  # a key's own tier (None: not limited)
        self.requests = RateLimiter(None)  # its sliding-window arithmetic, keyed by API key
        self.modes = RateLimiter(None)  # keyed by "<key> <mode class>"
        self._tokens: dict[str, deque[tuple[int, int]]] = {}

    def tier_for(self, key: str) -> Tier | None:
        return self.per_key[key] if key in self.per_key else self.default

    def reset(self, key: str | None = None) -> None:
        """Forget one key's windows, or every key's (POST /_emu/reset)."""
        self.requests.reset(key)
        if key is None:
            self.modes.reset()
            self._tokens.clear()
        else:
            self._tokens.pop(key, None)
            for kind in MODE_SHARES:
                self.modes.reset(f"{key} {kind}")

    def tokens_used(self, key: str, now_ms: int) -> tuple[int, int]:
        """(tokens in the window, seconds until the oldest leaves it)."""
        window = self._tokens.setdefault(key, deque())
        while window and window[0][0] <= now_ms - WINDOW_MS:
            window.popleft()
        reset = math.ceil((window[0][0] + WINDOW_MS - now_ms) / 1000) if window else 0
        return sum(n for _, n in window), reset

    def book_tokens(self, key: str | None, tokens: int, now_ms: int) -> None:
        if key is not None and tokens and self.tier_for(key) is not None:
            self._tokens.setdefault(key, deque()).append((now_ms, tokens))

    async def guard(self, ctx: "Ctx", route: "ApiRoute") -> None:
        """Count the request, or refuse it; leave the headers for the response."""
        if ctx.key is None:
            return
        tier = self.tier_for(ctx.key)
        if tier is None:
            ctx.request.scope.setdefault("state", {})[STATE] = UNLIMITED
            return
        now = ctx.now_ms()
        used, tokens_reset = self.tokens_used(ctx.key, now)
        if used >= tier.tokens:
            _, remaining, reset = self.requests.hit(ctx.key, tier.requests, now, count=False)
            self._headers(ctx, tier, remaining, reset, tokens_reset, used)
            raise TheoError(429, "token_limit_exceeded",
                            f"Token limit exceeded: {used} of {tier.tokens} tokens a minute. "
                            f"Retry after {tokens_reset} seconds.", {"Retry-After": str(max(1, tokens_reset))})
        accepted, remaining, reset = self.requests.hit(ctx.key, tier.requests, now)
        self._headers(ctx, tier, remaining, reset, tokens_reset, used)
        if not accepted:
            raise TheoError(429, "rate_limit_exceeded",
                            f"Rate limit exceeded: {tier.requests} requests a minute. Retry after {reset} seconds.",
                            {"Retry-After": str(max(1, reset))})

    def check_mode(self, key: str | None, mode: str, now_ms: int) -> None:
        """Count a completion against its mode's cap (429 `mode_rate_limit_exceeded`)."""
        tier = self.tier_for(key) if key is not None else None
        kind = _MODE_CLASS.get(mode)
        if tier is None or kind is None:
            return
        cap = max(1, tier.requests // MODE_SHARES[kind])
        accepted, _, reset = self.modes.hit(f"{key} {kind}", cap, now_ms)
        if not accepted:
            raise TheoError(429, "mode_rate_limit_exceeded",
                            f"Rate limit for {kind} mode exceeded: {cap} requests a minute. Retry after {reset} "
                            "seconds.", {"Retry-After": str(max(1, reset))})

    @staticmethod
    def _headers(ctx: "Ctx", tier: Tier, remaining: int, reset: int, tokens_reset: int, used: int) -> None:
        ctx.request.scope.setdefault("state", {})[STATE] = {
            "X-Ratelimit-Limit-Requests": str(tier.requests), "X-Ratelimit-Remaining-Requests": str(max(0, remaining)),
            "X-Ratelimit-Reset-Requests": f"{reset}s", "X-Ratelimit-Limit-Tokens": str(tier.tokens),
            "X-Ratelimit-Remaining-Tokens": str(max(0, tier.tokens - used)),
            "X-Ratelimit-Reset-Tokens": f"{tokens_reset}s"}


class Holder(Protocol):
    """What keeps the limiter: a tenant's handle or the Emulator (the same extras and settings)."""

    extras: dict[str, Any]
    settings: "Settings"


def limiter(holder: Holder) -> TheoLimiter:
    """This emulator's Theo limiter (made on first use, from --theo-rate-limit)."""
    found: Any = holder.extras.get("theo.rate_limit")
    if found is None:
        found = holder.extras["theo.rate_limit"] = TheoLimiter(holder.settings.theo_rate_limit)
    return found
