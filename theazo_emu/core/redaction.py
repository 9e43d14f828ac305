"""Redaction: secret values blanked before anything is kept (journal, cassettes, logs).

A `Redactor` knows the field names whose values are secrets: a fixed list, plus the
`SECRET_FIELDS` the body models of the routes declare (core/routes.txt carries them, so
a family's first request is redacted before the family loads). Values are replaced by
REDACTED keeping their shape. Bodies are parsed for keeping with `parse_body`: JSON when the
door's decoder (jsonio) takes it, else text (blanked by pattern) or base64. A body of a
route that carries secrets which does not parse (malformed, not UTF-8, too deep, a hostile
value) is kept as REDACTED whole: no pattern can be trusted to find a secret in it. A
request written inside a body (a fixture document's `requests[]`: method, path, body) is
redacted as that route's own body would be.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote_plus

from starlette.routing import compile_path

from theazo_emu.core import jsonio

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
        # (method, public path pattern, kept names) of routes whose whole body is secret
        # (SECRET_FIELDS = ("*",)) but for the top-level names marked "!name"
        self.blanket_routes: list[tuple[str, re.Pattern, frozenset[str]]] = []
        # ... and of every route whose body carries a secret (any SECRET_FIELDS)
        self.secret_routes: list[tuple[str, re.Pattern]] = []
        self._text = self._pattern()

    def learn(self, routes: Iterable[Any]) -> None:
        """Add the `SECRET_FIELDS` declared by the body models of these routes; "*" means
        every value of the body is a secret (a {NAME: value} map), except those of the
        top-level names marked "!name" (a body that may also be `{name, value}`)."""
        for route in routes:
            fields = getattr(route, "secret_fields", ())
            if not fields:
                continue
            patterns = [(method, compile_path(route.path)[0]) for method in route.methods]
            self.secret_routes += patterns
            if "*" in fields:
                kept = frozenset(f[1:] for f in fields if f.startswith("!"))
                self.blanket_routes += [(method, pattern, kept) for method, pattern in patterns]
            self.keys.update(f.lower() for f in fields if f != "*" and not f.startswith("!"))
        self._text = self._pattern()

    def blanket(self, scope: Any) -> frozenset[str] | None:
        """The names a request's body keeps when it goes to a route whose whole body is
        secret (None for any other route)."""
        return _kept(self.blanket_routes, scope["method"], scope["path"])

    def carries_secrets(self, scope: Any) -> bool:
        """Whether the request in this ASGI scope goes to a route whose body holds a secret."""
        return _routed(self.secret_routes, scope["method"], scope["path"])

    def _pattern(self) -> re.Pattern:
        names = "|".join(sorted(re.escape(k) for k in self.keys))
        return re.compile(rf'("(?i:{names})"\s*:\s*)"(?:[^"\\]|\\.)*"')

    def value(self, data: Any) -> Any:
        """A copy of JSON data with every secret field's leaves redacted; a request written
        inside it (`{method?, path, body}`) has its body redacted as that route's would be."""
        if isinstance(data, dict):
            nested = (_kept(self.blanket_routes, str(data.get("method") or "POST").upper(), data["path"])
                      if isinstance(data.get("path"), str) and "body" in data else None)
            return {k: _blank(v, nested) if nested is not None and k == "body"
                    else _blank(v) if isinstance(k, str) and k.lower() in self.keys
                    else self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        return data

    def text(self, text: str) -> str:
        """Best effort for bodies that are not valid JSON: `"secret": "..."` pairs are blanked."""
        return self._text.sub(rf'\1"{REDACTED}"', text)

    def url(self, target: str) -> str:
        """A request target (`/path?query`) with the values of secret query names blanked."""
        path, mark, query = target.partition("?")
        if not mark:
            return target
        return f"{path}?" + _QUERY_PAIR.sub(lambda m: m[0] if unquote_plus(m[1]).lower() not in self.keys
                                            else f"{m[1]}={REDACTED}", query)

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


_QUERY_PAIR = re.compile(r"([^&=]+)=([^&]*)")


class LogFilter(logging.Filter):
    """Blanks secret query values in the server's request log lines (uvicorn's access log
    names each request target, query included)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.redactor.url(a) if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def _routed(patterns: list[tuple[str, re.Pattern]], method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in patterns)


def _kept(patterns: list[tuple[str, re.Pattern, frozenset[str]]], method: str, path: str) -> frozenset[str] | None:
    return next((kept for m, pattern, kept in patterns if method == m and pattern.match(path)), None)


def _blank(data: Any, kept: frozenset[str] = frozenset()) -> Any:
    """`data` with every leaf blanked, but for the values of its top-level names in `kept`."""
    if isinstance(data, dict):
        return {k: v if k in kept else _blank(v) for k, v in data.items()}
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
        # The door's decoder: a body the API refuses (hostile values, too deep for the
        # recursive redaction) stays text, and nothing kept can fail to encode later.
        return {"body": jsonio.loads(text)}
    except jsonio.JsonRejected:
        return {"text": text}


def redact_body(part: dict[str, Any], redactor: Redactor, scope: Any = None) -> dict[str, Any]:
    """A parsed body with its secrets blanked. With the request's ASGI `scope`: every value
    when its route's whole body is secret (Redactor.blanket), and the whole body when its
    route carries a secret and the body did not parse (Redactor.carries_secrets)."""
    kept = redactor.blanket(scope) if scope is not None else None
    if "body" in part:
        return {"body": _blank(part["body"], kept) if kept is not None else redactor.value(part["body"])}
    if part and scope is not None and redactor.carries_secrets(scope):
        return {"text": REDACTED}
    if "text" in part:
        return {"text": redactor.text(part["text"])}
    return dict(part)


def encode_body(raw: bytes, redactor: Redactor, scope: Any = None) -> dict[str, Any]:
    """What a cassette or the journal keeps of a request body (`scope` given) or a response
    body: parsed, then redacted (redact_body)."""
    return redact_body(parse_body(raw), redactor, scope)
