"""Things that happen at virtual instants, fired in time order, each exactly once.

A `TimerSource` (schedules, workflow delays, approval timeouts, ...) tells the earliest
instant it has something due (`next_due`) and does everything due up to an instant
(`fire`). `advance_to()` walks the clock through every due instant in order, setting the
clock to each before firing it, so a firing sees the time it was due at; the clock then
lands on the target. Under a flowing clock `run_loop()` (started by the app's lifespan)
does the same as wall time passes. Runs need no timer: their status derives from the clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .emulator import Emulator


class TimerSource(Protocol):
    def next_due(self, emu: "Emulator") -> int | None:
        """The earliest instant (epoch ms) at which something is due, or None."""

    def fire(self, emu: "Emulator", at_ms: int) -> list[dict[str, Any]]:
        """Do everything due at or before `at_ms`; describe what happened."""


def _earliest(emu: "Emulator") -> tuple[int, TimerSource] | None:
    best: tuple[int, TimerSource] | None = None
    for source in emu.timers:
        due = source.next_due(emu)
        if due is not None and (best is None or due < best[0]):
            best = (due, source)
    return best


def fire_until(emu: "Emulator", target_ms: int) -> list[dict[str, Any]]:
    """Fire everything due up to `target_ms` in time order, moving the clock to each instant."""
    fired: list[dict[str, Any]] = []
    while (earliest := _earliest(emu)) is not None and earliest[0] <= target_ms:
        due, source = earliest
        if due > emu.clock.now_ms():
            emu.clock.set(due)
        fired.extend(source.fire(emu, due))
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
