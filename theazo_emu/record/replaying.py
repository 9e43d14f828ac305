"""Serving from a cassette: `serve --replay FILE` (DESIGN.md "Record and replay").

A `Replayer` (a tape handler, tape.py) answers every surface but /_emu from the cassette,
matched on the key's alias (keys are numbered key1, theo1... in the order they are first
seen, as the recorder numbered them), method, path, query and body; repeats are consumed
in order. Before an answer goes out the virtual clock is moved to the instant it was
recorded at, so /_emu/clock and what the emulator does itself agree with the answers. A
miss is 404 `replay_miss` naming the closest recording (strict) or the emulator's own
answer (fallback). `POST /_emu/reset` rewinds: every recording can be consumed again and
keys are numbered afresh.
"""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from theazo_emu.core import timers
from theazo_emu.core.auth import KeyAliases
from theazo_emu.core.clock import parse_iso
from theazo_emu.core.readahead import buffered, read_body

from .cassette import decode_body, encode_event, match_key, read_cassette
from .recording import request_record

if TYPE_CHECKING:
    from starlette.responses import Response

    from ..core.host import Host

LOCAL = "/_emu"


class Replayer:
    def __init__(self, emu: "Host", path: Path) -> None:
        self.emu, self.path = emu, path
        self.strict = emu.settings.replay_mode == "strict"
        cassette = read_cassette(path)  # a broken cassette fails here, at start
        self.header = cassette.header
        self.recorded = [i for i in cassette.interactions if not i["request"]["path"].startswith(LOCAL)]
        self.answered = 0
        self.rewind()

    def rewind(self) -> None:
        self.aliases = KeyAliases()
        self.queues: dict[tuple, deque[dict[str, Any]]] = defaultdict(deque)
        for interaction in self.recorded:
            self.queues[match_key(interaction["request"])].append(interaction)

    def describe(self) -> dict[str, Any]:
        left = sum(len(queue) for queue in self.queues.values())
        return {"mode": "replaying", "file": str(self.path.resolve()), "interactions": len(self.recorded),
                "remaining": left, "answered": self.answered, "header": self.header}

    async def aclose(self) -> None:
        """Nothing is held open."""

    async def handle(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                     error_response: Callable[..., "Response"]) -> None:
        if scope["path"].startswith(LOCAL):
            await app(scope, receive, send)
            return
        redactor = self.emu.journal.redactor
        messages, raw, cut = await read_body(receive, self.emu.settings.max_body_bytes)
        alias = self.aliases.alias(next((v.decode("latin-1") for k, v in scope["headers"]
                                         if k == b"authorization"), None))
        request = request_record(scope, raw, cut, redactor, alias)
        key = match_key(request)
        queue = self.queues.get(key)
        if queue:
            interaction = queue.popleft()
            self.answered += 1
            await self._move_clock(interaction.get("at"))
            await _answer(interaction["response"], send)
        elif not self.strict:
            await app(scope, buffered(messages, receive), send)
        else:
            await self._miss(scope, request, key in self.queues, receive, send, error_response)

    async def _move_clock(self, at: str | None) -> None:
        """To the recorded instant, firing what falls due on the way (never backwards)."""
        if not at:
            return
        try:
            target = parse_iso(at)
        except ValueError:
            return
        if target > self.emu.clock.now_ms():
            await timers.advance(self.emu, target)

    async def _miss(self, scope: Scope, request: dict, used_up: bool, receive: Receive, send: Send,
                    error_response: Callable[..., "Response"]) -> None:
        shown = _describe(request)
        closest = self._closest(request)
        message = f"No recorded interaction matches {shown['method']} {shown['path']}"
        if used_up:
            message += " (its recordings were all used by earlier requests; POST /_emu/reset rewinds the cassette)"
        if closest is not None:
            message += f"; the closest recorded request is {closest['method']} {closest['path']} (line {closest['line']})"
        details = {"request": shown, "closest": closest}
        await error_response(scope, 404, "replay_miss", message + ".", details)(scope, receive, send)

    def _closest(self, request: dict) -> dict[str, Any] | None:
        wanted = match_key(request)
        target = f"{request['path']}?{wanted[3]} {wanted[4]}"
        best, best_score = None, -1.0
        for interaction in self.recorded:
            recorded = interaction["request"]
            key = match_key(recorded)
            text = f"{recorded['path']}?{key[3]} {key[4]}"
            matcher = difflib.SequenceMatcher(None, target, text, autojunk=False)
            if matcher.real_quick_ratio() + 1.1 <= best_score:
                continue
            score = (key[1] == wanted[1]) + 0.1 * (key[0] == wanted[0]) + matcher.ratio()
            if score > best_score:
                best, best_score = interaction, score
        return None if best is None else {**_describe(best["request"]), "line": best.get("line")}


def _describe(request: dict[str, Any]) -> dict[str, Any]:
    shown = {"method": request["method"], "path": request["path"], "query": request.get("query") or {},
             "auth": request.get("auth")}
    for part in ("body", "text"):
        if part in request:
            shown[part] = request[part]
    return shown


async def _answer(response: dict[str, Any], send: Send) -> None:
    """Send a recorded response; SSE event by event, then close."""
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in (response.get("headers") or {}).items()
               if k.lower() != "content-length"]
    if "events" in response:
        if not any(k == b"content-type" for k, _ in headers):
            headers.append((b"content-type", b"text/event-stream; charset=utf-8"))
        await send({"type": "http.response.start", "status": response["status"], "headers": headers})
        for event in response["events"]:
            await send({"type": "http.response.body", "body": encode_event(event), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    body = decode_body(response)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
