"""The text pieces of mocked outputs that runs and chat replies share: tool inputs and
results, shortening, and the digest that seeds each generator (pure functions)."""

from __future__ import annotations

import hashlib
import random
from typing import Any


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


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def digest(*parts: Any) -> int:
    joined = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(joined, digest_size=8).digest(), "big")
