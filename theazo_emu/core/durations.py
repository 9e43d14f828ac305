"""The one duration parser: '500ms', '30s', '5m', '1h30m', '2d', '1w' or a bare number.

Bodies (timeouts, delays, retry waits), fixtures (latencies, timelines), the CLI's `clock
advance` and the pytest plugin all read durations here. A bare number is in seconds,
except where the field says milliseconds (fixtures' `latencyMs`, `duration`): `bare="ms"`.
Nothing here imports pydantic: callers turn the ValueError into their own error.
"""

from __future__ import annotations

import re
from typing import Any

UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
PROBLEM = "expected a duration such as '500ms', '30s', '5m', '1h30m', '2d' or a number of seconds"


def to_ms(value: Any, bare: str = "s") -> float:
    """Milliseconds for a duration text or a number (in unit `bare`); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(PROBLEM)
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(PROBLEM)
        return value * UNIT_MS[bare]
    text = value.strip().lower()
    if _NUMBER.fullmatch(text):
        return float(text) * UNIT_MS[bare]
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        raise ValueError(PROBLEM)
    return sum(float(number) * UNIT_MS[unit] for number, unit in parts)


def to_seconds(value: Any) -> float:
    return to_ms(value) / 1000
