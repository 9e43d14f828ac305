"""Things that happen at virtual instants, fired in time order, each exactly once.

A `TimerSource` (schedules, workflow delays, approval timeouts, ...) tells the earliest
instant it has something due (`next_due`) and does everything due up to an instant
(`fire`). `fire_until()` walks the clock through every due instant in order, setting the
clock to each before firing it, so a firing sees the time it was due at; the clock then
lands on the target. Asking every source after every firing is what a year of an hourly
schedule would mostly spend its time on, so `fire` is also told the horizon before which
no other source has anything due: a source may fire its own later instants up to it.
Under a flowing clock `run_loop()` (started by the app's lifespan) does the same as wall
time passes. Runs need no timer: their status derives from the clock.

`advance()`, behind `POST /_emu/clock/advance`, never blocks the server: it fires in
batches of virtual time sized to take about BATCH_S of wall time each, moves the clock to
the end of each batch and lets the event loop turn between them, so health checks,
streams and API calls are answered meanwhile. What fired is summarised (`Fired`:
counts per source, the first and last FIRED_SHOWN firings), since a week of an
every-minute schedule is 10,080 of them. Batching changes nothing that fires or when.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import stopwatch
from theazo_emu.core.host import TimerSource  # noqa: F401 (declared with the host it is handed)

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store


def dues(emu: "Host", store: "Store") -> list[int | None]:
    """Every source's next due instant (None: nothing due), in registration order; each is
    handed the whole store (its rows are every tenant's)."""
    return [source.next_due(emu, store) for source in emu.timers]


def _earliest(emu: "Host", store: "Store") -> tuple[int, int, list[int | None]] | None:
    """(earliest due instant, index of its source, every source's next_due), or None;
    on a tie the source registered first fires first."""
    dues_ = dues(emu, store)
    pending = [(due, index) for index, due in enumerate(dues_) if due is not None]
    return (*min(pending), dues_) if pending else None


def _horizon(dues: list[int | None], index: int, target_ms: int) -> int:
    """How far the source at `index` may fire ahead: up to the target and to what the
    others have due (one ms before, for sources registered earlier: they win ties)."""
    return min([target_ms, *(due - (other < index) for other, due in enumerate(dues)
                             if due is not None and other != index)])


def reach(emu: "Host", due_ms: int) -> None:
    """Move the clock forward to an instant something is due at (never back): the one way
    time moves while firing, here or inside a source that fires ahead to its horizon."""
    if due_ms > emu.clock.now_ms():
        emu.clock.set(due_ms)


def fire_until(emu: "Host", target_ms: int) -> list[dict[str, Any]]:
    """Fire everything due up to `target_ms` in time order, moving the clock to each instant."""
    fired: list[dict[str, Any]] = []
    store = emu.store  # every tenant's rows: what the sources are handed
    while (earliest := _earliest(emu, store)) is not None and earliest[0] <= target_ms:
        due, index, due_by_source = earliest
        reach(emu, due)
        fired.extend(emu.timers[index].fire(emu, store, due, _horizon(due_by_source, index, target_ms)))
    return fired


MAX_ADVANCE_MS = 10 * 365 * 86_400_000  # the longest advance one request may ask for (10 years)
BATCH_S = 0.005  # wall time a batch aims at before the advance lets other requests in
# A real wait between batches, not a bare yield: the loop then runs every request that
# arrived during the batch to its end, and the process leaves the CPU to its clients.
PAUSE_S = 0.001
FIRED_SHOWN = 50  # firings an answer lists at each end of the interval


class Fired:
    """What an advance fired: a count per source, and the first and last FIRED_SHOWN firings."""

    def __init__(self) -> None:
        self.count = 0
        self.by_source: Counter[str] = Counter()
        self.first: list[dict[str, Any]] = []
        self.last: deque[dict[str, Any]] = deque(maxlen=FIRED_SHOWN)

    def add(self, fired: list[dict[str, Any]]) -> None:
        for item in fired:
            self.count += 1
            self.by_source[item.get("type", "other")] += 1
            (self.first if len(self.first) < FIRED_SHOWN else self.last).append(item)

    def to_api(self) -> dict[str, Any]:
        """`fired` (every firing when there are at most 2 x FIRED_SHOWN, else the first and the
        last FIRED_SHOWN, with `omitted` saying how many in between are not listed),
        `firedCount` and `firedBySource`."""
        omitted = self.count - len(self.first) - len(self.last)
        body = {"fired": [*self.first, *self.last], "firedCount": self.count,
                "firedBySource": dict(sorted(self.by_source.items()))}
        return body | {"omitted": omitted} if omitted else body


async def advance(emu: "Host", target_ms: int, fired: Fired | None = None) -> Fired:
    """Advance the clock to `target_ms`, firing what falls in between, in batches that let
    the event loop answer other requests meanwhile (see the module docstring)."""
    fired = fired if fired is not None else Fired()
    span = 60_000  # virtual ms in the next batch: doubled or halved to keep a batch near BATCH_S
    reached = emu.clock.now_ms()
    while True:
        step = min(target_ms, reached + span)
        began = stopwatch()
        fired.add(fire_until(emu, step))
        took = stopwatch() - began
        reached = step
        if reached > emu.clock.now_ms():
            emu.clock.set(reached)
        if reached >= target_ms:
            break
        span = span * 2 if took < BATCH_S / 2 else max(1, span // 2) if took > BATCH_S else span
        emu.changes.notify()  # streams release what the clock has passed so far
        await asyncio.sleep(PAUSE_S)
    emu.save_clock()
    emu.changes.notify()
    return fired


async def run_loop(emu: "Host") -> None:
    """Under a flowing clock, fire what falls due as wall time passes."""
    while True:
        earliest = _earliest(emu, emu.store)
        now = emu.clock.now_ms()
        if earliest is not None and earliest[0] <= now and not emu.clock.frozen:
            if fire_until(emu, now):
                emu.changes.notify()
            continue
        wait = 1.0 if earliest is None or emu.clock.frozen else min(1.0, (earliest[0] - now) / 1000)
        await emu.changes.wait(max(0.001, wait))
