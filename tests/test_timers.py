"""timers.fire_until with stand-in sources: every instant fires once, in global time order,
ties going to the source registered first, even when a source fires ahead to its horizon."""

from __future__ import annotations

from types import SimpleNamespace

from theazo_emu.core.clock import Clock
from theazo_emu.core.timers import fire_until


class _Source:
    """Fires its instants; with `ahead`, goes on through later ones up to the horizon."""

    def __init__(self, name: str, instants: list[int], ahead: bool) -> None:
        self.name, self.pending, self.ahead = name, sorted(instants), ahead

    def next_due(self, emu, store) -> int | None:
        return self.pending[0] if self.pending else None

    def fire(self, emu, store, at_ms: int, horizon_ms: int) -> list[dict]:
        fired = []
        while self.pending and self.pending[0] <= (horizon_ms if self.ahead else at_ms):
            due = self.pending.pop(0)
            if due > emu.clock.now_ms():
                emu.clock.set(due)
            fired.append({"source": self.name, "at": due, "clock": emu.clock.now_ms()})
        return fired


def _fire(*sources: _Source, target: int) -> list[tuple[str, int]]:
    emu = SimpleNamespace(timers=list(sources), clock=Clock(0, frozen=True), store=None)
    fired = fire_until(emu, target)
    assert all(f["clock"] == f["at"] for f in fired)  # the clock stood at each instant as it fired
    return [(f["source"], f["at"]) for f in fired]


def test_a_source_firing_ahead_stops_before_an_earlier_registered_source_at_the_same_instant():
    first, second = _Source("first", [10, 20], ahead=False), _Source("second", [5, 10, 15, 25], ahead=True)
    assert _fire(first, second, target=30) == [("second", 5), ("first", 10), ("second", 10), ("second", 15),
                                               ("first", 20), ("second", 25)]


def test_a_source_firing_ahead_goes_up_to_a_later_registered_source_at_the_same_instant():
    first, second = _Source("first", [5, 10, 15, 25], ahead=True), _Source("second", [10, 20], ahead=False)
    assert _fire(first, second, target=30) == [("first", 5), ("first", 10), ("second", 10), ("first", 15),
                                               ("second", 20), ("first", 25)]


def test_nothing_after_the_target_fires():
    ahead = _Source("ahead", [5, 10, 15], ahead=True)
    assert _fire(ahead, target=10) == [("ahead", 5), ("ahead", 10)]
    assert ahead.pending == [15]
