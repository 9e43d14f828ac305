"""Things that happen at virtual instants, fired in time order, each exactly once.

A `TimerSource` (schedules, workflow delays, approval timeouts, ...) tells the earliest
instant it has something due (`next_due`) and does everything due up to an instant
(`fire`). `advance_to()` walks the clock through every due instant in order, setting the
clock to each before firing it, so a firing sees the time it was due at; the clock then
lands on the target. Asking every source after every firing is what a year of an hourly
schedule would mostly spend its time on, so `fire` is also told the horizon before which
no other source has anything due: a source may fire its own later instants up to it.
Under a flowing clock `run_loop()` (started by the app's lifespan) does the same as wall
time passes. Runs need no timer: their status derives from the clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .emulator import Emulator


class TimerSource(Protocol):
    def next_due(self, emu: "Emulator") -> int | None:
        """The earliest instant (epoch ms) at which something is due, or None."""

    def fire(self, emu: "Emulator", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        """Do everything due at or before `at_ms`; describe what happened. Nothing of another
        source is due before `horizon_ms` (>= at_ms): a source may go on to fire its own
        instants up to it, in time order with the clock set to each (as fire_until would),
        but only while what it fires makes nothing due for another source."""


def _earliest(emu: "Emulator") -> tuple[int, int, list[int | None]] | None:
    """(earliest due instant, index of its source, every source's next_due), or None;
    on a tie the source registered first fires first."""
    dues = [source.next_due(emu) for source in emu.timers]
    pending = [(due, index) for index, due in enumerate(dues) if due is not None]
    return (*min(pending), dues) if pending else None


def _horizon(dues: list[int | None], index: int, target_ms: int) -> int:
    """How far the source at `index` may fire ahead: up to the target and to what the
    others have due (one ms before, for sources registered earlier: they win ties)."""
    return min([target_ms, *(due - (other < index) for other, due in enumerate(dues)
                             if due is not None and other != index)])


def fire_until(emu: "Emulator", target_ms: int) -> list[dict[str, Any]]:
    """Fire everything due up to `target_ms` in time order, moving the clock to each instant."""
    fired: list[dict[str, Any]] = []
    while (earliest := _earliest(emu)) is not None and earliest[0] <= target_ms:
        due, index, dues = earliest
        if due > emu.clock.now_ms():
            emu.clock.set(due)
        fired.extend(emu.timers[index].fire(emu, due, _horizon(dues, index, target_ms)))
    return fired


def advance_to(emu: "Emulator", target_ms: int) -> list[dict[str, Any]]:
    """Advance the clock to `target_ms`, firing what falls in between; wakes the streams."""
    fired = fire_until(emu, target_ms)
    if target_ms > emu.clock.now_ms():
        emu.clock.set(target_ms)
    emu.save_clock()
    emu.changes.notify()
    return fired


async def run_loop(emu: "Emulator") -> None:
    """Under a flowing clock, fire what falls due as wall time passes."""
    while True:
        earliest = _earliest(emu)
        now = emu.clock.now_ms()
        if earliest is not None and earliest[0] <= now and not emu.clock.frozen:
            if fire_until(emu, now):
                emu.changes.notify()
            continue
        wait = 1.0 if earliest is None or emu.clock.frozen else min(1.0, (earliest[0] - now) / 1000)
        await emu.changes.wait(max(0.001, wait))
