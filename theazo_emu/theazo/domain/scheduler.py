"""Cron on the virtual clock: next-run times, and the timer that fires due schedules.

Reference section "Schedules". A cron is 5 fields (or an @hourly-style macro), UTC unless an
IANA timezone is given; `next_after(ms)` is the first occurrence strictly after `ms`.
croniter checks the syntax and computes zoned or exotic (L, #) expressions; plain UTC ones
take a fast path (bisect over the expanded fields, checked against croniter by the tests),
because an advance over a year of an hourly schedule asks for 8,760 of them. `ScheduleTimer`
fires every active schedule whose `next_run_ms` (indexed; NULL while paused) is due, in time
order, exactly once each: the action runs, one history row is written, `next_run_ms` moves on.
Randomised cron tokens (`R`, `H`) are refused: they would break determinism.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from theazo_emu.core import timers
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain import actions

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

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


class ScheduleTimer:
    """The timers.TimerSource of schedules (registered on every emulator by create_app)."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar("SELECT MIN(next_run_ms) FROM schedules")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        """Fire what is due at `at_ms`, then later occurrences up to the horizon, in (instant,
        id) order, while every firing so far was an agent-run: that writes agents, runs and
        the ledger, which no other timer source waits on, whereas a workflow-run may make a
        workflow step due, so after one every source is asked again."""
        rows = store.all("SELECT * FROM schedules WHERE next_run_ms <= ? ORDER BY next_run_ms, id", [horizon_ms])
        queue = [(row["next_run_ms"], row["id"], row) for row in rows]  # sorted, so already a heap
        fired: list[dict[str, Any]] = []
        sessions: dict[tuple[str, str], dict] = {}  # see actions.run
        ahead = True
        while queue and (queue[0][0] <= at_ms or ahead):
            due, ident, schedule = heapq.heappop(queue)
            timers.reach(emu, due)
            following = compile_cron(schedule["cron"], schedule["timezone"]).next_after(due)
            fired.append(fire_one(emu.tenant(schedule["tenant"]), schedule, following, sessions))
            ahead = ahead and schedule["action"]["type"] == "agent-run"
            if following is not None and following <= horizon_ms:
                moved = schedule | {"next_run_ms": following, "last_run_ms": due}  # as _record wrote it
                heapq.heappush(queue, (following, ident, moved))
        return fired


def fire_one(t: "Tenant", schedule: dict, following: int | None,
             sessions: dict[tuple[str, str], dict]) -> dict[str, Any]:
    """Run one due occurrence: its action, its history row and the next occurrence
    (`following`) commit together; a refused action is rolled back and its refusal recorded.
    `sessions` carries users' sessions from firing to firing (see actions.run)."""
    due = schedule["next_run_ms"]
    fired = {"type": "schedule", "scheduleId": schedule["id"], "scheduledAt": iso(due)}
    try:
        with t.store.atomic():
            started = actions.run(t, schedule["action"], default_user=actions.SCHEDULE_USER,
                                  fallback_task=f"Scheduled run: {schedule['name']}", sessions=sessions)
            exec_id = _record(t, schedule, following, started, None)
    except ApiError as exc:
        failure = {"code": exc.code, "message": exc.message}
        with t.store.atomic():
            exec_id = _record(t, schedule, following, None, failure)
        return fired | {"executionId": exec_id, "status": "failed", "error": failure}
    return fired | {"executionId": exec_id, "status": "started", "taskId": started.task_id} \
        | actions.agent_resolution(started.agent, started.resolved)


def _record(t: "Tenant", schedule: dict, following: int | None, started: actions.Started | None,
            failure: dict | None) -> str:
    """Write the history row and move the schedule to its next occurrence; the execution id."""
    exec_id = t.new_id("exec")
    t.store.insert("schedule_executions", {
        "id": exec_id, "tenant": t.name, "schedule_id": schedule["id"],
        "scheduled_ms": schedule["next_run_ms"], "started_ms": t.now_ms(),
        "status": "failed" if failure else "started", "task_id": started.task_id if started else None,
        "agent_id": started.agent_id if started else None, "session_id": started.session_id if started else None,
        "workflow_run_id": started.workflow_run_id if started else None, "failure": failure,
        "agent": actions.agent_ref(schedule["action"]), "agent_config": started.resolved if started else None,
    })
    t.store.update("schedules", schedule["id"], {"next_run_ms": following, "last_run_ms": schedule["next_run_ms"]})
    return exec_id
