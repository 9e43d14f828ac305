"""Cassettes: the JSON Lines format of recorded interactions, and SSE parsing.

DESIGN.md "Record and replay". The first line is the header (header.py); then one
interaction a line: `request` (method, path, query, selected headers, `auth` alias, `body`
as JSON or `text`), `response` (status, selected headers, `body`/`text`, or the SSE
`events` [{event, id, data}]), `seq` {start, end}, and the virtual instants it began
(`at`), its handling first read the clock (`readAt`) and it ended (`endAt`); for an answer
that issued an API key, `issued` {alias, id}. Invariant: `Redactor` runs before anything is written, so an
Authorization value or a secret value never reaches a cassette or the journal.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from theazo_emu.core.redaction import Redactor

from .header import header_problem, is_header

REQUEST_HEADERS = ("content-type", "accept", "x-sdk-version", "last-event-id", "idempotency-key",
                   "x-theazo-signature", "x-trigger-signature", "x-theazo-emu-fault", "theo-api-version", "origin",
                   "user-agent")
RESPONSE_HEADERS = ("content-type", "x-request-id", "retry-after", "location", "allow", "etag", "cache-control",
                    "idempotent-replayed", "x-idempotent-replay", "x-cache", "vary", "content-disposition")
RESPONSE_HEADER_PREFIXES = ("x-ratelimit-", "ratelimit", "x-theazo-", "theo-", "access-control-")
# SSE events whose named field is generated text, never a credential, though the field's name
# would be redacted anywhere else: Theo's `token` events ({"token": "<text>"}).
TEXT_EVENTS = {"token": "token"}
_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


class CassetteError(Exception):
    """A cassette line that is not an interaction; the message names the file and line."""


def decode_body(part: dict[str, Any]) -> bytes:
    """The bytes to send for a recorded body (JSON re-serialised compactly, as Starlette does)."""
    if "body" in part:
        return json.dumps(part["body"], **_COMPACT).encode("utf-8")
    if "text" in part:
        return part["text"].encode("utf-8")
    if "base64" in part:
        return base64.b64decode(part["base64"])
    return b""


def canonical_body(part: dict[str, Any]) -> str:
    if "body" in part:
        return json.dumps(part["body"], sort_keys=True, **_COMPACT)
    return part.get("text") or part.get("base64") or ""


def canonical_query(query: dict[str, Any]) -> str:
    pairs = [(k, v) for k, values in query.items() for v in (values if isinstance(values, list) else [values])]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def match_key(request: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """What replay matches on: the key's alias, method, path, query and body (after redaction)."""
    return (request.get("auth") or "", request["method"].upper(), request["path"],
            canonical_query(request.get("query") or {}), canonical_body(request))


def pick_headers(headers: Iterable[tuple[bytes, bytes]], names: tuple[str, ...],
                 prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in names or name.startswith(prefixes or ("\0",)):
            out[name] = raw_value.decode("latin-1")
    return out


def is_sse(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").startswith("text/event-stream")


# ---- SSE ----

class SseParser:
    """Incremental parser: feed bytes, get complete events {event?, id?, data}; comments dropped."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._buffer = ""
        self._fields: dict[str, Any] = {}
        self._data: list[str] = []
        self._redactor = redactor

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self._buffer += chunk.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        *lines, self._buffer = self._buffer.split("\n")
        events = []
        for line in lines:
            if line == "":
                if self._data or self._fields:
                    events.append(self._finish())
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    self._data.append(value)
                elif name in ("event", "id"):
                    self._fields[name] = value
        return events

    def _finish(self) -> dict[str, Any]:
        text = "\n".join(self._data)
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = text
        if self._redactor is not None:
            data = redact_event(self._fields.get("event"), data, self._redactor)
        event = {**self._fields, "data": data}
        self._fields, self._data = {}, []
        return event


def redact_event(name: str | None, data: Any, redactor: Redactor) -> Any:
    """An SSE event's data with its secrets blanked (a TEXT_EVENTS field is kept as is)."""
    if isinstance(data, str):
        return redactor.text(data)
    kept = TEXT_EVENTS.get(name or "")
    if isinstance(data, dict) and kept in data:
        return {k: v if k == kept else redactor.value({k: v})[k] for k, v in data.items()}
    return redactor.value(data)


def encode_event(event: dict[str, Any]) -> bytes:
    """One recorded event as SSE bytes, framed like the emulator's own streams."""
    data = event.get("data")
    text = data if isinstance(data, str) else json.dumps(data, **_COMPACT)
    from sse_starlette import ServerSentEvent  # only replaying a recorded stream needs it

    return ServerSentEvent(data=text, event=event.get("event"), id=event.get("id"), sep="\n").encode()


# ---- files ----

def dump_line(interaction: dict[str, Any]) -> str:
    return json.dumps(interaction, **_COMPACT) + "\n"


class Cassette(NamedTuple):
    header: dict[str, Any] | None  # None for a cassette written before headers existed
    interactions: list[dict[str, Any]]


_EXPECTED = ("a cassette is JSON Lines: one JSON object per line, the header first, then one interaction a "
             "line, as `theazo-emu serve --record FILE` writes it")


def read_cassette(path: Path) -> Cassette:
    """The header and every interaction of a cassette file, checked; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{path}: cannot read the cassette: {exc}") from None
    header, interactions = None, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise CassetteError(_not_lines(path, text) or f"{path}:{number}: not JSON ({exc})") from None
        if number == 1 and isinstance(item, list):
            raise CassetteError(f"{path} holds a JSON array; {_EXPECTED}.")
        if is_header(item) and header is None and not interactions:
            problem = header_problem(item)
            if problem:
                raise CassetteError(f"{path}:{number}: header: {problem}")
            header = item
            continue
        problem = _problem(item)
        if problem:
            raise CassetteError(f"{path}:{number}: {problem}")
        item["line"] = number
        interactions.append(item)
    return Cassette(header, interactions)


def _not_lines(path: Path, text: str) -> str | None:
    """The message for a whole-file JSON document (pretty-printed, or an array), if it is one."""
    try:
        json.loads(text)
    except ValueError:
        return None
    return f"{path} is one JSON document spread over several lines, not JSON Lines; {_EXPECTED}."


def _problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "an interaction must be a JSON object"
    request, response = item.get("request"), item.get("response")
    if not isinstance(request, dict) or not isinstance(request.get("method"), str) \
            or not isinstance(request.get("path"), str) or not request["path"].startswith("/"):
        return "'request' needs a 'method' and a 'path' starting with '/'"
    if not isinstance(request.get("query", {}), dict):
        return "'request.query' must be an object"
    if not isinstance(response, dict) or not isinstance(response.get("status"), int):
        return "'response' needs an integer 'status'"
    if "events" in response and not isinstance(response["events"], list):
        return "'response.events' must be a list"
    for instant in ("at", "readAt", "endAt"):
        if instant in item and not isinstance(item[instant], str):
            return f"'{instant}' must be an ISO 8601 instant"
    issued = item.get("issued")
    if issued is not None and not (isinstance(issued, dict) and isinstance(issued.get("alias"), str)
                                   and isinstance(issued.get("id"), str)):
        return "'issued' must be {alias, id} strings"
    seq = item.get("seq")
    if seq is not None and not (isinstance(seq, dict) and isinstance(seq.get("start"), int)
                                and isinstance(seq.get("end"), int)):
        return "'seq' must be {start, end} integers"
    return None
