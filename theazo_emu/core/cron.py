"""Cron expressions on the virtual clock: both products schedule with them (Theazo's
schedules and knowledge syncs, Theo's scheduled workflows).

A cron is 5 fields (or an @hourly-style macro), UTC unless an IANA timezone is given;
`next_after(ms)` is the first occurrence strictly after `ms`. croniter checks the syntax
and computes zoned or exotic (L, #) expressions; plain UTC ones take a fast path (bisect
over the expanded fields, checked against croniter by the tests), because an advance over
a year of an hourly schedule asks for 8,760 of them. Randomised cron tokens (`R`, `H`) are
refused: they would break determinism.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_FIELD = re.compile(r"^[0-9A-Za-z*?/,#-]+$")
_NAMES = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
          "sun", "mon", "tue", "wed", "thu", "fri", "sat", "l"}
_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7))
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"}
_MINUTE_MS = 60_000
_DAY_MINUTES = 1440
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_HORIZON_DAYS = 366 * 100  # a cron with no occurrence within a century never matches


@dataclass(frozen=True)
class Cron:
    """A compiled cron expression in a timezone."""

    expr: str
    zone: str | None
    # The fast path's expanded fields (None when croniter computes this expression):
    minutes: tuple[int, ...] | None = None
    hours: tuple[int, ...] = ()
    doms: frozenset[int] | None = None
    months: frozenset[int] | None = None
    dows: frozenset[int] | None = None

    def next_after(self, ms: int) -> int | None:
        """The first occurrence strictly after `ms` (epoch ms), or None if there is none."""
        if self.minutes is not None:
            return self._fast_next(ms)
        tz = ZoneInfo(self.zone) if self.zone else timezone.utc
        try:
            nxt = croniter(self.expr, datetime.fromtimestamp(ms / 1000, tz)).get_next(float)
        except CroniterBadDateError:
            return None
        return int(round(nxt * 1000))

    def _fast_next(self, ms: int) -> int | None:
        assert self.minutes is not None
        minute = ms // _MINUTE_MS + 1
        day, of_day = divmod(minute, _DAY_MINUTES)
        hour, minute = divmod(of_day, 60)
        limit = day + _HORIZON_DAYS
        while day < limit:
            current = date.fromordinal(_EPOCH_ORDINAL + day)
            if self.months is not None and current.month not in self.months:
                following = date(current.year + current.month // 12, current.month % 12 + 1, 1)
                day, hour, minute = following.toordinal() - _EPOCH_ORDINAL, 0, 0
                continue
            if self._day_matches(current):
                found = _first_time(self.hours, self.minutes, hour, minute)
                if found is not None:
                    return ((day * _DAY_MINUTES) + found[0] * 60 + found[1]) * _MINUTE_MS
            day, hour, minute = day + 1, 0, 0
        return None

    def _day_matches(self, current: date) -> bool:
        if self.doms is not None and current.day not in self.doms:
            return False
        return self.dows is None or (current.weekday() + 1) % 7 in self.dows


def _first_time(hours: tuple[int, ...], minutes: tuple[int, ...], hour: int, minute: int) -> tuple[int, int] | None:
    """The first (hour, minute) of the sets at or after (hour, minute) within one day."""
    i = bisect_left(hours, hour)
    if i < len(hours) and hours[i] == hour:
        j = bisect_left(minutes, minute)
        if j < len(minutes):
            return hour, minutes[j]
        i += 1
    return (hours[i], minutes[0]) if i < len(hours) else None


@lru_cache(maxsize=1024)
def compile_cron(expr: str, zone: str | None = None) -> Cron:
    """Validate and compile; ValueError says what is wrong (the caller answers 422)."""
    text = " ".join(expr.split())
    text = _MACROS.get(text.lower(), text)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"must have 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}")
    for (label, low, high), field in zip(_RANGES, fields):
        _check_field(label, low, high, field)
    if not croniter.is_valid(text):
        raise ValueError("is not a valid cron expression")
    zone = check_timezone(zone)
    expanded, nth = croniter.expand(text)
    minutes, hours, doms, months, dows = expanded
    simple = not nth and "l" not in doms and (doms == ["*"] or dows == ["*"])
    if zone is None and simple:
        cron = Cron(text, None, _all(minutes, 60), _all(hours, 24), _set(doms), _set(months), _set(dows))
    else:
        cron = Cron(text, zone)
    if cron.next_after(0) is None:
        raise ValueError("never matches any date")
    return cron


def _check_field(label: str, low: int, high: int, field: str) -> None:
    if not _FIELD.match(field) or any(w.lower() not in _NAMES for w in re.findall(r"[A-Za-z]+", field)):
        raise ValueError(f"invalid {label} field {field[:40]!r}")
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"{label} step {step[:20]!r} must be a positive whole number")
        for number in re.findall(r"[0-9]+", base.split("#")[0]):
            if not low <= int(number) <= high:
                raise ValueError(f"{label} value {number[:20]} is out of range {low}-{high}")


def check_timezone(zone: str | None) -> str | None:
    """An IANA zone name, or None for UTC; ValueError for an unknown one."""
    if zone is None or zone in _UTC_NAMES:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}", zone):
        raise ValueError("must be an IANA timezone name such as 'Europe/Paris'")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {zone!r}; use an IANA name such as 'Europe/Paris'") from None
    return zone


def _all(values: list, size: int) -> tuple[int, ...]:
    return tuple(range(size)) if values == ["*"] else tuple(sorted(set(values)))


def _set(values: list) -> frozenset[int] | None:
    return None if values == ["*"] else frozenset(values)
