"""Calls out of the emulator: the one place it makes real HTTP requests (httpx, async).

Workflow webhook steps, webhook deliveries and custom tool tests send requests to URLs
their users gave. `http_call` sends one and answers its outcome as data, never an
exception: `{"ok", "output": {status, body, headers}}` when an answer came (`ok` for 2xx),
`{"ok": False, "code", "message"}` when none did (`timeout`, `webhook_unreachable`).
`launch` runs a call in the background of the event loop (emu.background) and hands its
outcome to a callback, so a request or a timer never waits on the outside world. These
are the only things in the emulator that take wall time.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable

from theazo_emu.core import jsonio

if TYPE_CHECKING:
    from theazo_emu.core.host import Host

MAX_RESPONSE_CHARS = 65_536


async def http_call(request: dict[str, Any]) -> dict[str, Any]:
    """Send one request: `url`, `method`, `headers`, `timeoutS`, and `body` (sent as JSON) or
    `content` (bytes sent as they are)."""
    import httpx  # imported on first use: most runs never call out, and it costs start-up time

    kwargs: dict[str, Any] = {"headers": request.get("headers") or {}}
    if request.get("content") is not None:
        kwargs["content"] = request["content"]
    elif request.get("body") is not None and request["method"] not in ("GET", "DELETE"):
        kwargs["json"] = request["body"]
    try:
        async with httpx.AsyncClient(timeout=request["timeoutS"], follow_redirects=False) as client:
            response = await client.request(request["method"], request["url"], **kwargs)
    except httpx.TimeoutException:
        return {"ok": False, "code": "timeout", "message": f"No response from {request['url']} within "
                f"{request['timeoutS']:g}s."}
    except (httpx.HTTPError, ValueError, OSError) as exc:
        return {"ok": False, "code": "webhook_unreachable", "message": f"{type(exc).__name__}: {str(exc)[:300]}"}
    text = response.text[:MAX_RESPONSE_CHARS]
    try:  # what a server answers may be stored (a workflow step's output): the door's decoder applies
        body: Any = jsonio.loads(text) if text.strip() else None
    except jsonio.JsonRejected:
        body = text
    result = {"status": response.status_code, "body": body,
              "headers": {"content-type": response.headers.get("content-type", "")}}
    if response.is_success:
        return {"ok": True, "output": result}
    return {"ok": False, "code": "webhook_failed", "message": f"{request['method']} {request['url']} answered "
            f"{response.status_code}.", "output": result}


def launch(emu: "Host", request: dict[str, Any], done: Callable[[dict[str, Any]], None]) -> dict | None:
    """Run `http_call` in the background and hand its outcome to `done` (in the loop thread).
    Without a running loop (a synchronous caller) the call is made in place and its outcome
    returned instead."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(http_call(request))

    async def call() -> None:
        done(await http_call(request))

    task = loop.create_task(call())
    emu.background.add(task)
    task.add_done_callback(emu.background.discard)
    return None
