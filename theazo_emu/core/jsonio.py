"""JSON at the door: the one strict decoder of request bodies, shared by every surface.

Python's json module accepts more than JSON: `NaN`, `Infinity` and `-Infinity`; `1e999`
(it becomes inf); integers of any length; and lone UTF-16 surrogates (`"\\ud800"`), which
make a str that cannot be encoded as UTF-8 again. Stored, each of them breaks every later
read that encodes the row. `loads()` refuses them all, and bodies nested deeper than
MAX_JSON_DEPTH, with a `JsonRejected` that says what and where; the surface turns it into
its own validation error. Nothing here knows about HTTP.

Going out, `dumps()` is the one encoder of answers (JSON bodies, SSE data): orjson, which
is several times faster than the json module on the request path; strict JSON, except that a value strict JSON cannot carry, which only a row stored before the door
refused such values can hold, goes out cleaned (`null` for a non-finite number, U+FFFD for
a lone surrogate) instead of failing the whole answer. So a poisoned row never makes a
list, an export, the journal or the inspector fail.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

import orjson

# Deeper bodies are refused: nothing in the APIs needs them, and recursive code downstream
# (validation, JSON encoding, redaction) must never meet one.
MAX_JSON_DEPTH = 64
# Integers a client can rely on round-tripping (SQLite's INTEGER; JavaScript loses exactness sooner).
MIN_INT, MAX_INT = -(2**63), 2**63 - 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonRejected(ValueError):
    """A body that is not acceptable JSON; `field` is where ("body" when it is the whole)."""

    def __init__(self, message: str, field: str = "body", reason: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field
        self.reason = reason or message  # the detail for the field (the parser's own words, say)


class _Bad:
    """Where a hostile value was (the locating second decode puts these in its place)."""

    def __init__(self, message: str) -> None:
        self.message = message


def _constant(name: str) -> "_Bad":
    return _Bad(f"{name} is not a JSON number (JSON has no NaN or infinities)")


def _float(text: str) -> "float | _Bad":
    value = float(text)
    return value if math.isfinite(value) else _Bad(f"the number {text[:40]} is out of range of a 64-bit float")


def _int(text: str) -> "int | _Bad":
    if len(text) > 20:  # longer than any int64 even with a sign: never build the giant int
        return _Bad(f"the integer {text[:24]}... is out of range (64-bit signed)")
    value = int(text)
    return value if MIN_INT <= value <= MAX_INT else _Bad(f"the integer {text} is out of range (64-bit signed)")


def _refuse(hook: Callable[[str], Any]) -> Callable[[str], Any]:
    def strict(text: str) -> Any:
        value = hook(text)
        if isinstance(value, _Bad):
            raise JsonRejected(value.message)
        return value

    return strict


# The decode at the door stops at the first hostile value; only then does a second decode
# (which keeps going, leaving _Bad markers) find where it was, for the error's field.
_DECODER = json.JSONDecoder(parse_constant=_refuse(_constant), parse_float=_refuse(_float),
                            parse_int=_refuse(_int))
_LOCATOR = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def loads(raw: bytes | str) -> Any:
    """The JSON value of `raw`, or JsonRejected (malformed, hostile value, too deep)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise JsonRejected("Malformed JSON in request body.",
                           reason=f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except JsonRejected as exc:
        raise _located(text, exc) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise JsonRejected("Malformed JSON in request body.", reason=str(exc)[:200]) from None
    check(value, surrogates=bool(_SURROGATE_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode())))
    return value


def _located(text: str, rejected: JsonRejected) -> JsonRejected:
    """The same refusal, naming the field that holds the first hostile value."""
    try:
        stack: list[tuple[Any, str]] = [(_LOCATOR.decode(text), "body")]
    except (ValueError, RecursionError):  # malformed or too deep further on: the first refusal stands
        return rejected
    while stack:
        item, where = stack.pop()
        if isinstance(item, _Bad):
            return JsonRejected(item.message, where)
        if isinstance(item, dict):
            stack.extend(reversed([(child, _join(where, str(key))) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{where}[{i}]") for i, child in enumerate(item)]))
    return rejected


def _join(where: str, key: str) -> str:
    return key if where == "body" else f"{where}.{key}"


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
                    raise JsonRejected("a key holds a lone UTF-16 surrogate (not encodable as UTF-8)", where)
                stack.append((child, level + 1, _join(where, key)))
        elif isinstance(item, list):
            if level > MAX_JSON_DEPTH:
                raise _too_deep()
            stack.extend((child, level + 1, f"{where}[{i}]") for i, child in enumerate(item))
        elif surrogates and isinstance(item, str) and not _encodable(item):
            raise JsonRejected("the string holds a lone UTF-16 surrogate (not encodable as UTF-8)", where)


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


def dumps_text(value: Any) -> str:
    """Compact JSON text of `value` for the wire (see the module docstring)."""
    return dumps(value).decode("utf-8")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of `value` for the wire (see the module docstring). orjson writes a
    non-finite float as null itself; a lone surrogate or an integer past 64 bits, which it
    refuses, goes through the json module, cleaned."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return _ENCODE(clean(value)).encode("utf-8")


def clean(value: Any) -> Any:
    """A copy of `value` that strict JSON can carry: non-finite floats become None, lone
    surrogates U+FFFD (in keys too)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _replace_surrogates(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def _replace_surrogates(text: str) -> str:
    return text if _encodable(text) else "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
