"""The text pieces of mocked outputs that runs and chat replies share: what a built-in tool
is given and what it answers (pure functions; shortening is core/mock.py's)."""

from __future__ import annotations

import random
from typing import Any

from theazo_emu.core.mock import shorten


def tool_input(tool: str, task: str) -> dict[str, Any]:
    topic = shorten(task, 60)
    return {
        "web_search": {"query": topic},
        "http_request": {"method": "GET", "url": "https://example.com/api"},
        "write_file": {"path": "/data/output.md", "content": f"# {topic}\n"},
        "read_file": {"path": "/data/input.txt"},
    }.get(tool, {"input": topic})


def tool_output(tool: str, task: str, rng: random.Random) -> str:
    topic = shorten(task, 60)
    if tool == "web_search":
        return f"{rng.randint(3, 9)} results for '{topic}'"
    if tool == "http_request":
        return '{"status":200,"body":"ok"}'
    if tool == "write_file":
        return "wrote /data/output.md"
    return f"{tool} finished"

