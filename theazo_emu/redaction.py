"""Redaction: secret values blanked before anything is kept (journal, cassettes, logs).

A `Redactor` knows the field names whose values are secrets: a fixed list, plus the
`SECRET_FIELDS` the body models of the routes declare (data/routes.txt carries them, so
a family's first request is redacted before the family loads). Values are replaced by
REDACTED keeping their shape. Bodies are parsed for keeping with `parse_body`: JSON when it
parses, else text (blanked by pattern) or base64.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Iterable
from urllib.parse import parse_qsl

from starlette.routing import compile_path

from .jsonio import MAX_JSON_DEPTH, json_depth

REDACTED = "[REDACTED]"
# Field names (compared case-insensitively) whose values are secrets wherever they appear;
# body models add theirs through a `SECRET_FIELDS` class attribute (see Redactor.learn).
SECRET_KEYS = frozenset({
    "value", "credentials", "signingsecret", "signing_secret", "secret", "authorization", "apikey", "api_key", "password",
    "token", "accesstoken", "refreshtoken", "clientsecret", "privatekey", "masterkey", "master_key",
})


class Redactor:
    """Replaces secret values by REDACTED, keeping the shape (objects stay objects)."""

    def __init__(self, keys: Iterable[str] = SECRET_KEYS) -> None:
        self.keys = {k.lower() for k in keys}
        # (method, public path pattern) of routes whose whole body is secret (SECRET_FIELDS = ("*",))
        self.blanket_routes: list[tuple[str, re.Pattern]] = []
        self._text = self._pattern()

    def learn(self, routes: Iterable[Any]) -> None:
        """Add the `SECRET_FIELDS` declared by the body models of these routes; "*" means
        every value of the body is a secret (a {NAME: value} map)."""
        for route in routes:
            fields = getattr(route, "secret_fields", ())
            if "*" in fields:
                self.blanket_routes += [(method, compile_path(route.path)[0]) for method in route.methods]
            self.keys.update(f.lower() for f in fields if f != "*")
        self._text = self._pattern()

    def blanket(self, scope: Any) -> bool:
        """Whether the request in this ASGI scope goes to a route whose whole body is secret."""
        method, path = scope["method"], scope["path"]
        return any(method == m and pattern.match(path) for m, pattern in self.blanket_routes)

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
