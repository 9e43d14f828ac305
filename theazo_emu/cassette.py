"""Cassettes: the JSON Lines format of recorded interactions, redaction, and SSE parsing.

DESIGN.md "Record and replay". One interaction a line: `request` (method, path, query,
selected headers, `auth` alias, `body` as JSON or `text`), `response` (status, selected
headers, `body`/`text`, or the SSE `events` [{event, id, data}]), `seq` {start, end} and
`at` (virtual start time). Invariant: `Redactor` runs before anything is written, so an
Authorization value or a secret value never reaches a cassette or the journal.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl

from starlette.routing import Match

from .http import MAX_JSON_DEPTH, json_depth

REDACTED = "[REDACTED]"
# Field names (compared case-insensitively) whose values are secrets wherever they appear;
# body models add theirs through a `SECRET_FIELDS` class attribute (see Redactor.learn).
SECRET_KEYS = frozenset({
    "value", "credentials", "signingsecret", "secret", "authorization", "apikey", "api_key", "password",
    "token", "accesstoken", "refreshtoken", "clientsecret", "privatekey", "masterkey", "master_key",
})
REQUEST_HEADERS = ("content-type", "accept", "x-sdk-version", "last-event-id", "idempotency-key",
                   "x-theazo-signature", "x-trigger-signature", "x-theazo-emu-fault")
RESPONSE_HEADERS = ("content-type", "x-request-id", "retry-after", "location", "allow", "etag", "cache-control",
                    "idempotent-replayed")
RESPONSE_HEADER_PREFIXES = ("x-ratelimit-", "ratelimit", "x-theazo-")
_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


class CassetteError(Exception):
    """A cassette line that is not an interaction; the message names the file and line."""


class Redactor:
    """Replaces secret values by REDACTED, keeping the shape (objects stay objects)."""

    def __init__(self, keys: Iterable[str] = SECRET_KEYS) -> None:
        self.keys = {k.lower() for k in keys}
        self.blanket_routes: list[Any] = []  # routes whose whole body is secret (SECRET_FIELDS = ("*",))
        self._text = self._pattern()

    def learn(self, routes: Iterable[Any]) -> None:
        """Add the `SECRET_FIELDS` declared by the body models of these routes; "*" means
        every value of the body is a secret (a {NAME: value} map)."""
        for route in routes:
            fields = getattr(route, "secret_fields", ())
            if "*" in fields:
                self.blanket_routes.append(route)
            self.keys.update(f.lower() for f in fields if f != "*")
        self._text = self._pattern()

    def blanket(self, scope: Any) -> bool:
        """Whether the request in this ASGI scope goes to a route whose whole body is secret."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.blanket_routes)

    def _pattern(self) -> re.Pattern:
        names = "|".join(sorted(re.escape(k) for k in self.keys))
        return re.compile(rf'("(?i:{names})"\s*:\s*)"(?:[^"\\]|\\.)*"')

    def value(self, data: Any) -> Any:
        """A copy of JSON data with every secret field's leaves redacted."""
        if isinstance(data, dict):
            return {k: _blank(v) if isinstance(k, str) and k.lower() in self.keys else self.value(v)
                    for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        return data

    def text(self, text: str) -> str:
        """Best effort for bodies that are not valid JSON: `"secret": "..."` pairs are blanked."""
        return self._text.sub(rf'\1"{REDACTED}"', text)

    def query(self, query_string: bytes | str) -> dict[str, Any]:
        """The query as {name: value} ({name: [values]} when repeated), secrets redacted."""
        text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        out: dict[str, Any] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            if name.lower() in self.keys:
                value = REDACTED
            if name in out:
                out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
            else:
                out[name] = value
        return out


def _blank(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _blank(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_blank(v) for v in data]
    if isinstance(data, str):
        return REDACTED
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return 0
    return data


# ---- bodies ----

def parse_body(raw: bytes) -> dict[str, Any]:
    """{"body": JSON} when it parses, else {"text": ...} or {"base64": ...}; {} when empty."""
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"text": text}
    # Redaction walks the value recursively: a body the API refuses as too deep stays text.
    return {"body": value} if json_depth(value) <= MAX_JSON_DEPTH else {"text": text}


def redact_body(part: dict[str, Any], redactor: Redactor, blanket: bool = False) -> dict[str, Any]:
    """A parsed body with its secrets blanked; `blanket`: every value is one (Redactor.blanket)."""
    if "body" in part:
        return {"body": _blank(part["body"]) if blanket else redactor.value(part["body"])}
    if "text" in part or ("base64" in part and blanket):
        return {"text": REDACTED if blanket else redactor.text(part["text"])}
    return dict(part)


def encode_body(raw: bytes, redactor: Redactor, blanket: bool = False) -> dict[str, Any]:
    """What a cassette or the journal keeps of a body: parsed, then redacted."""
    return redact_body(parse_body(raw), redactor, blanket)


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


def match_key(request: dict[str, Any]) -> tuple[str, str, str, str]:
    """What replay matches on: method, path, query and body (after redaction)."""
    return (request["method"].upper(), request["path"], canonical_query(request.get("query") or {}),
            canonical_body(request))


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
            data = self._redactor.value(data) if not isinstance(data, str) else self._redactor.text(data)
        event = {**self._fields, "data": data}
        self._fields, self._data = {}, []
        return event


def encode_event(event: dict[str, Any]) -> bytes:
    """One recorded event as SSE bytes, framed like the emulator's own streams."""
    data = event.get("data")
    text = data if isinstance(data, str) else json.dumps(data, **_COMPACT)
    from sse_starlette import ServerSentEvent  # only replaying a recorded stream needs it

    return ServerSentEvent(data=text, event=event.get("event"), id=event.get("id"), sep="\n").encode()


# ---- files ----

def dump_line(interaction: dict[str, Any]) -> str:
    return json.dumps(interaction, **_COMPACT) + "\n"


def read_cassette(path: Path) -> list[dict[str, Any]]:
    """Every interaction of a cassette file, checked; blank lines are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{path}: cannot read the cassette: {exc}") from None
    interactions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise CassetteError(f"{path}:{number}: not JSON ({exc})") from None
        problem = _problem(item)
        if problem:
            raise CassetteError(f"{path}:{number}: {problem}")
        item["line"] = number
        interactions.append(item)
    return interactions


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
    seq = item.get("seq")
    if seq is not None and not (isinstance(seq, dict) and isinstance(seq.get("start"), int)
                                and isinstance(seq.get("end"), int)):
        return "'seq' must be {start, end} integers"
    return None
