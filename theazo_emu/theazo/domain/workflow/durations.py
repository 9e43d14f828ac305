"""Durations in workflows: a step's `duration` and `timeout`, a retry's `delay`, a run's `timeout`.

The workflow bodies check them with `duration_ms` when a workflow is created, and the engine
reads them with it when it runs, so the two never disagree about a value; fleets check their
`timeout` with it too.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core import durations

MAX_DURATION_MS = 366 * 86_400_000


def duration_ms(value: Any) -> int:
    """'500ms', '30s', '5m', '1h30m', '2d' or a number of seconds, as milliseconds (durations.py)."""
    ms = durations.to_ms(value)
    if not 0 <= ms <= MAX_DURATION_MS:
        raise ValueError("must be between 0 and 366 days")
    return int(ms)
