"""One platform event: the value events.py publishes and webhooks.py delivers.

It has a module of its own so that both can name it one way: events.py calls webhooks.py
to enqueue deliveries, and webhooks.py, which needs only the type, can take it from here
without importing events.py back. Callers build it as `events.Event(...)`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Event(NamedTuple):
    type: str
    data: dict[str, Any]
    at_ms: int  # when it happens on the virtual clock (now, or a run's end)
    run_id: str | None = None  # a run's end event, which pause, resume and terminate move
