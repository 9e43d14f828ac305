"""Helpers for the Theo surface's tests: its envelope, its streams, and what a tenant holds."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, Callable

_keys = itertools.count(1)


def theo_key(name: str = "key") -> str:
    return f"theo_sk_test_{name}{next(_keys)}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def settled_deliveries(get: Callable[[str], Any], webhook_id: str, count: int = 1,
                       timeout: float = 10.0) -> list[dict]:
    """A webhook's delivery log (`get(path)` fetches it) once `count` attempts have settled, or
    as it stands after `timeout`: a receiver has a request a moment before the server has its
    answer, so a test that read the log at once would race it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = get(f"/api/v1/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        if sum(r["status"] in ("success", "failed") for r in rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.01)


def theo_error(response: Any, status: int, code: str) -> dict:
    """Theo's envelope: {"error": {message, type, code, request_id}} with X-Request-Id, nothing else."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "code", "request_id"}, error
    assert error["code"] == code and error["message"], error
    assert error["request_id"] == response.headers["x-request-id"] and error["request_id"].startswith("req_")
    assert error["type"] == {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                             404: "not_found_error", 429: "rate_limit_error"}.get(status, error["type"])
    return error


def sse(text: str) -> list[dict[str, Any]]:
    """The frames of an SSE body: {"event": name or None, "data": JSON, or the raw text}."""
    out = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        frame: dict[str, Any] = {"event": None}
        for line in lines:
            name, _, value = line.partition(": ")
            if name == "data":
                try:
                    frame["data"] = json.loads(value)
                except ValueError:
                    frame["data"] = value
            else:
                frame[name] = value
        out.append(frame)
    return out


def held(client: Any, key: str) -> dict[str, Any]:
    """What a tenant holds, to show a refused request changed nothing."""
    auth = bearer(key)
    usage = client.get("/api/v1/usage?from=1970-01-01", headers=auth).json()
    return {"conversations": client.get("/api/v1/conversations?limit=100", headers=auth).json()["conversations"],
            "requests": usage["totals"]["requests"],
            "audit": len(client.get("/api/v1/audit?limit=100", headers=auth).json()["events"]),
            "keys": len(client.get("/api/v1/keys?limit=100", headers=auth).json()["keys"]),
            "events": client.get("/_emu/theo/events", params={"key": key}).json()["data"]}


def complete(client: Any, key: str, prompt: str = "Say hello", **body: Any) -> dict:
    response = client.post("/api/v1/completions", json={"prompt": prompt, **body}, headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()
