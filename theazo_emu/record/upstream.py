"""The upstream proxy of `serve --record FILE --upstream URL` (DESIGN.md "Record and replay").

Forwards a request as it came (minus hop-by-hop headers; `th_live_` keys included, they
are never stored) with one httpx AsyncClient, and hands the answer back through the
recording `Capture` (its `wrap`). SSE answers are streamed chunk by chunk as they arrive, so the client
sees each event when the upstream sends it and the cassette gets every event; the stream
ends when the upstream closes it or the client goes away. An unreachable upstream is a
502 `provider_error` in the envelope of the request's surface (rendered by the
`error_response` the app hands the tape), not recorded.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

import httpx
from starlette.types import Receive, Scope, Send

from .cassette import is_sse

if TYPE_CHECKING:
    from starlette.responses import Response

_HOP = {b"host", b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade",
        b"content-length", b"accept-encoding", b"proxy-connection"}
_HOP_RESPONSE = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"content-encoding"}


class Upstream:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        # No read timeout: an SSE stream may stay quiet between heartbeats.
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None), follow_redirects=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(self, scope: Scope, body: bytes, receive: Receive, send: Send, wrap: Callable[[Send], Send],
                      error_response: Callable[..., "Response"]) -> bool:
        """Proxy one request, answering through `wrap(send)` (the recording's capture); False
        when the upstream could not be reached (a 502 was sent)."""
        query = scope["query_string"].decode("latin-1")
        url = self.base_url + scope["path"] + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]
        request = self.client.build_request(scope["method"], url, headers=headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            message = f"Cannot reach the upstream {self.base_url}: {type(exc).__name__}: {exc}"
            await error_response(scope, 502, "provider_error", message, {"upstream": self.base_url})(
                scope, receive, send)
            return False
        out = wrap(send)
        try:
            headers_out = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_RESPONSE]
            if is_sse({"content-type": response.headers.get("content-type", "")}):
                await out({"type": "http.response.start", "status": response.status_code, "headers": headers_out})
                await _stream(response, receive, out)
            else:
                content = await response.aread()
                headers_out.append((b"content-length", str(len(content)).encode()))
                await out({"type": "http.response.start", "status": response.status_code, "headers": headers_out})
                await out({"type": "http.response.body", "body": content, "more_body": False})
        finally:
            await response.aclose()
        return True


async def _stream(response: httpx.Response, receive: Receive, send: Send) -> None:
    """Pass chunks on as they arrive until the upstream ends or the client disconnects."""

    async def pump() -> None:
        async for chunk in response.aiter_bytes():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(watch())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
