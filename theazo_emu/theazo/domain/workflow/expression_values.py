"""Values in the workflow expression language: truthiness, equality, types, and the
built-in functions (expressions.py parses and evaluates; this module gives meaning).

Values are JSON values. null, false, 0, '' and empty lists/objects are false. `==` never
equates a boolean with a number. Ordering compares two numbers or two strings, anything
else is an `ExpressionError`, as is arithmetic on non-numbers (`+` also joins strings and
lists). Every function is pure and total over its documented argument types.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable


class ExpressionError(ValueError):
    """A syntax error (at create) or an evaluation error (at run time)."""


def truthy(value: Any) -> bool:
    """null, false, 0, '' and empty lists/objects are false; everything else is true."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def contains(hay: Any, needle: Any) -> bool:
    """`needle in hay`: an item of a list, a key of an object, a substring of a string."""
    if isinstance(hay, str) and isinstance(needle, str):
        return needle in hay
    if isinstance(hay, list):
        return any(equal(needle, item) for item in hay)
    if isinstance(hay, dict):
        return isinstance(needle, str) and needle in hay
    if hay is None:
        return False
    raise ExpressionError(f"'in' needs a list, object or string on its right, got {type_name(hay)}")


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: Any, op: str) -> int | float:
    if not is_number(value):
        raise ExpressionError(f"'{op}' needs numbers, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "object"}.get(
        type(value), type(value).__name__)


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _fn_len(value: Any) -> int:
    if isinstance(value, (list, str, dict)):
        return len(value)
    if value is None:
        return 0
    raise ExpressionError(f"len() needs a list, string or object, got {type_name(value)}")


def _fn_str(name: str, op: Callable[[str], Any]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        if not isinstance(value, str):
            raise ExpressionError(f"{name}() needs a string, got {type_name(value)}")
        return op(value)
    return call


def _fn_numbers(name: str, op: Callable[[list], Any]) -> Callable[..., Any]:
    def call(*values: Any) -> Any:
        items = values[0] if len(values) == 1 and isinstance(values[0], list) else list(values)
        if not items and name != "sum":
            raise ExpressionError(f"{name}() of nothing")
        return op([number(v, name) for v in items])
    return call


def _fn_number(value: Any) -> int | float:
    if is_number(value):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ExpressionError(f"number() cannot read {value[:40]!r}") from None
        if math.isfinite(number):
            return int(number) if number.is_integer() and "." not in value else number
    raise ExpressionError(f"number() cannot convert {type_name(value)}")


def _fn_join(items: Any, sep: Any = ",") -> str:
    if not isinstance(items, list) or not isinstance(sep, str):
        raise ExpressionError("join() needs a list and a string separator")
    return sep.join(text(item) for item in items)


def _fn_split(text: Any, sep: Any = ",") -> list:
    if not isinstance(text, str) or not isinstance(sep, str) or not sep:
        raise ExpressionError("split() needs a string and a non-empty string separator")
    return text.split(sep)


def _fn_keys(value: Any) -> list:
    if not isinstance(value, dict):
        raise ExpressionError(f"keys() needs an object, got {type_name(value)}")
    return list(value)


def _fn_round(value: Any, digits: Any = 0) -> int | float:
    rounded = round(number(value, "round"), int(number(digits, "round")))
    return int(rounded) if digits == 0 else rounded


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _fn_len,
    "lower": _fn_str("lower", str.lower),
    "upper": _fn_str("upper", str.upper),
    "trim": _fn_str("trim", str.strip),
    "contains": lambda hay, needle: contains(hay, needle),
    "startsWith": lambda text, prefix: isinstance(text, str) and isinstance(prefix, str) and text.startswith(prefix),
    "endsWith": lambda text, suffix: isinstance(text, str) and isinstance(suffix, str) and text.endswith(suffix),
    "keys": _fn_keys,
    "sum": _fn_numbers("sum", sum),
    "min": _fn_numbers("min", min),
    "max": _fn_numbers("max", max),
    "abs": lambda value: abs(number(value, "abs")),
    "round": _fn_round,
    "string": text,
    "number": _fn_number,
    "bool": truthy,
    "join": _fn_join,
    "split": _fn_split,
    "coalesce": lambda *values: next((v for v in values if v is not None), None),
    "exists": lambda value: value is not None,
}
