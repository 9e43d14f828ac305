"""JSON at the door: the one strict decoder of request bodies, shared by every surface.

Python's json module accepts more than JSON: `NaN`, `Infinity` and `-Infinity`; `1e999`
(it becomes inf); integers of any length; and lone UTF-16 surrogates (`"\\ud800"`), which
make a str that cannot be encoded as UTF-8 again. Stored, each of them breaks every later
read that encodes the row. `loads()` refuses them all, and bodies nested deeper than
MAX_JSON_DEPTH, with a `JsonRejected` that says what and where; the surface turns it into
its own validation error. Nothing here knows about HTTP.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Deeper bodies are refused: nothing in the APIs needs them, and recursive code downstream
# (validation, JSON encoding, redaction) must never meet one.
MAX_JSON_DEPTH = 64
# Integers a client can rely on round-tripping (SQLite's INTEGER; JavaScript loses exactness sooner).
MIN_INT, MAX_INT = -(2**63), 2**63 - 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonRejected(ValueError):
    """A body that is not acceptable JSON; `field` is where ("body" when it is the whole)."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"the number {text[:40]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text) > 20:  # longer than any int64 even with a sign: never build the giant int
        raise JsonRejected(f"the integer {text[:24]}... is out of range")
    value = int(text)
    if not MIN_INT <= value <= MAX_INT:
        raise JsonRejected(f"the integer {text} is out of range (64-bit signed)")
    return value


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)


def loads(raw: bytes | str) -> Any:
    """The JSON value of `raw`, or JsonRejected (malformed, hostile value, too deep)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise JsonRejected(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except JsonRejected:
        raise
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise JsonRejected(f"Malformed JSON: {str(exc)[:200]}") from None
    check(value, surrogates=bool(_SURROGATE_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode())))
    return value


def check(value: Any, surrogates: bool = True) -> None:
    """Refuse a value nested too deep or (when `surrogates`) holding a lone surrogate."""
    stack = [(value, 1, "body")]
    while stack:
        item, level, where = stack.pop()
        if isinstance(item, dict):
            if level > MAX_JSON_DEPTH:
                raise _too_deep()
            for key, child in item.items():
                if surrogates and not _encodable(key):
                    raise JsonRejected("a key holds a lone UTF-16 surrogate", where)
                stack.append((child, level + 1, f"{where}.{key}" if where != "body" else key))
        elif isinstance(item, list):
            if level > MAX_JSON_DEPTH:
                raise _too_deep()
            stack.extend((child, level + 1, f"{where}[{i}]") for i, child in enumerate(item))
        elif surrogates and isinstance(item, str) and not _encodable(item):
            raise JsonRejected("the string holds a lone UTF-16 surrogate", where)


def json_depth(value: Any) -> int:
    """How deeply objects and arrays nest (iterative: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                return level
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep() -> JsonRejected:
    return JsonRejected(f"Request body is nested more than {MAX_JSON_DEPTH} levels deep.")
