"""The virtual clock: the only place that reads the system time.

Every timestamp the API returns, every billing date and every run timeline comes from
here (DESIGN.md, "The virtual clock"). A clock either flows with wall time from a start
instant or is frozen; `advance` moves it forward in both modes. Times are integer
milliseconds since the Unix epoch; `iso()` renders the one wire format we use.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable

_MS_PER_S = 1000
_MS_PER_DAY = 86_400_000


def parse_iso(text: str) -> int:
    """Milliseconds since the epoch for an ISO-8601 date or date-time (naive means UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * _MS_PER_S)


def period_start_ms(period: str, now_ms: int) -> int | None:
    """Start of the UTC day or month containing now; None for any other period (a
    session's whole life, for a session limit)."""
    now = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc)
    if period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        return None
    return int(start.timestamp() * 1000)


@lru_cache(maxsize=1024)
def iso(ms: int) -> str:
    """The wire format: UTC, millisecond precision, fixed width so strings sort as times."""
    day, in_day = divmod(ms, _MS_PER_DAY)
    seconds, milli = divmod(in_day, _MS_PER_S)
    return f"{_date(day)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{milli:03d}Z"


@lru_cache(maxsize=64)
def _date(day: int) -> str:
    """YYYY-MM-DD of a day since the epoch (strftime is the slow part of iso(); days repeat)."""
    return f"{datetime.fromtimestamp(day * 86_400, tz=timezone.utc):%Y-%m-%d}"


class Clock:
    """Virtual time that is frozen or flows at wall speed from a chosen instant."""

    def __init__(self, start_ms: int | None = None, frozen: bool = False) -> None:
        self._base_ms = _wall_ms() if start_ms is None else start_ms
        self._anchor = time.monotonic()
        self.frozen = frozen
        # Told every reading while set: a recorder notes when each request read the clock.
        self.on_read: Callable[[int], None] | None = None

    @classmethod
    def from_setting(cls, setting: str) -> "Clock":
        """`now` flows from the wall time; an ISO instant starts frozen there."""
        if setting == "now":
            return cls()
        return cls(parse_iso(setting), frozen=True)

    def now_ms(self) -> int:
        ms = self._base_ms if self.frozen else self._base_ms + int((time.monotonic() - self._anchor) * _MS_PER_S)
        if self.on_read is not None:
            self.on_read(ms)
        return ms

    def now_iso(self) -> str:
        return iso(self.now_ms())

    def advance(self, ms: int) -> None:
        """Move forward by `ms` (never backwards: schedules and timelines rely on it)."""
        self._rebase(self.now_ms() + max(0, ms))

    def set(self, target_ms: int) -> None:
        """Jump to `target_ms`; a target in the past is refused by the caller."""
        self._rebase(target_ms)

    def freeze(self) -> None:
        self._rebase(self.now_ms())
        self.frozen = True

    def resume(self) -> None:
        self._rebase(self.now_ms())
        self.frozen = False

    def _rebase(self, ms: int) -> None:
        self._base_ms = ms
        self._anchor = time.monotonic()

    def describe(self) -> dict:
        now = self.now_ms()
        return {"now": iso(now), "epochMs": now, "frozen": self.frozen}


def _wall_ms() -> int:
    return int(time.time() * _MS_PER_S)


def stopwatch() -> float:
    """Seconds on a monotonic wall clock, for pacing work (how long a batch of firings took);
    never for anything a response carries."""
    return time.perf_counter()
