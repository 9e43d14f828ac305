"""A small SSE reader for tests: parses frames the way the SDK and browsers do."""

from __future__ import annotations

import json
from typing import Iterable, Iterator


def frames(lines: Iterable[str]) -> Iterator[dict]:
    """Yield {"event", "id", "data"} per frame; comments are collected as {"comment"}."""
    frame: dict = {}
    for line in lines:
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            frame[field] = json.loads(value) if field == "data" else value
    if frame:
        yield frame


def events(lines: Iterable[str]) -> list[dict]:
    """All event frames (no comments) until the stream closes."""
    return [f for f in frames(lines) if "comment" not in f]
