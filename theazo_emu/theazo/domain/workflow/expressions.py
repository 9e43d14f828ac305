"""The workflow expression language: a tiny tokenizer, parser and evaluator (never `eval`).

Used by workflow `condition.if`, `transform.expression`, `map.over`, and by `$...` values
and `{{ ... }}` templates in inputMap, webhook and approval fields (sdk-compat §3
"theazo.workflows"). Grammar, loosest first: `or`/`||`, `and`/`&&`, `not`/`!`,
comparisons (`== != < <= > >= in`), `+ -`, `* / %`, unary `-`, then paths (`$.input.x`,
`$.trigger.x`, `$.<step>.output.y`, `$.item`, `$['a-b'][0]`), literals (numbers, 'strings',
"strings", true, false, null, [lists], {objects}) and a fixed set of pure functions. A
missing path is null; a type mismatch raises `ExpressionError`. Parsing is bounded in
length and depth, so no input can exhaust the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from theazo_emu.theazo.domain.workflow.expression_values import (
    FUNCTIONS,
    ExpressionError,
    contains,
    equal,
    is_number,
    number,
    text,
    truthy,
    type_name,
)

__all__ = ["ExpressionError", "check_value", "evaluate", "is_expression", "parse", "resolve", "truthy"]

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_TOKENS = 500  # bounds the tree, hence the evaluator's recursion
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%()\[\]{},:.$])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")  # after `$.`: step ids may contain '-'
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, name, path, end
    value: Any
    pos: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos] == "$":
            tokens.append(Token("op", "$", pos))
            pos += 1
            if text.startswith(".", pos) and (m := _SEGMENT.match(text, pos + 1)):
                tokens.append(Token("path", m.group(0), pos))
                pos = m.end()
            while text.startswith(".", pos) and (m := _SEGMENT.match(text, pos + 1)):
                tokens.append(Token("path", m.group(0), pos))
                pos = m.end()
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup or ""
        if kind == "number":
            raw = match.group(0)
            tokens.append(Token("number", float(raw) if any(c in raw for c in ".eE") else int(raw), pos))
        elif kind == "string":
            tokens.append(Token("string", _unquote(match.group(0), pos), pos))
        elif kind in ("op", "name"):
            tokens.append(Token(kind, match.group(0), pos))
        pos = match.end()
        # a member access after a path continues the path: $.a.b[0].c
        if kind == "op" and match.group(0) == "]" and text.startswith(".", pos):
            while text.startswith(".", pos) and (m := _SEGMENT.match(text, pos + 1)):
                tokens.append(Token("path", m.group(0), pos))
                pos = m.end()
    if len(tokens) > MAX_TOKENS:
        raise ExpressionError(f"expression has more than {MAX_TOKENS} tokens")
    tokens.append(Token("end", None, len(text)))
    return tokens


def _unquote(raw: str, pos: int) -> str:
    body, out, i = raw[1:-1], [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in escapes:
                raise ExpressionError(f"unknown escape '\\{nxt}' in string at position {pos}")
            out.append(escapes[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- AST: tuples ("lit", v) ("path", [segments]) ("op", name, a, b) ("not", a) ("neg", a)
#      ("list", items) ("obj", pairs) ("call", name, args); a path segment is a str or a node.

class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, *values: str) -> str | None:
        token = self.peek()
        if token.kind in ("op", "name") and token.value in values:
            self.i += 1
            return token.value
        return None

    def expect(self, value: str) -> None:
        token = self.peek()
        if not (token.kind in ("op", "name") and token.value == value):
            raise ExpressionError(f"expected '{value}' at position {token.pos}, found {_describe(token)}")
        self.i += 1

    def parse(self) -> tuple:
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {_describe(token)} at position {token.pos}")
        return node

    def expr(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> tuple:
        node = self.and_()
        while self.accept("or", "||"):
            node = ("op", "or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.not_()
        while self.accept("and", "&&"):
            node = ("op", "and", node, self.not_())
        return node

    def not_(self) -> tuple:
        if self.accept("not", "!"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
            node = ("not", self.not_())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> tuple:
        node = self.additive()
        op = self.accept("==", "!=", "<", "<=", ">", ">=", "in")
        if op:
            node = ("op", op, node, self.additive())
            if self.accept("==", "!=", "<", "<=", ">", ">=", "in"):
                raise ExpressionError("comparisons cannot be chained; use 'and'")
        return node

    def additive(self) -> tuple:
        node = self.multiplicative()
        while op := self.accept("+", "-"):
            node = ("op", op, node, self.multiplicative())
        return node

    def multiplicative(self) -> tuple:
        node = self.unary()
        while op := self.accept("*", "/", "%"):
            node = ("op", op, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.accept("-"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
            node = ("neg", self.unary())
            self.depth -= 1
            return node
        return self.postfix(self.primary())

    def postfix(self, node: tuple) -> tuple:
        while True:
            if self.peek().kind == "path" and node[0] == "path":
                node = ("path", [*node[1], self.take().value])
            elif self.accept("["):
                index = self.expr()
                self.expect("]")
                node = ("path", [*node[1], index]) if node[0] == "path" else ("index", node, index)
            elif self.accept("."):
                token = self.take()
                if token.kind != "name":
                    raise ExpressionError(f"expected a field name after '.' at position {token.pos}")
                node = ("index", node, ("lit", token.value))
            else:
                return node

    def primary(self) -> tuple:
        token = self.take()
        if token.kind in ("number", "string"):
            return ("lit", token.value)
        if token.kind == "op" and token.value == "$":
            segments = []
            while self.peek().kind == "path":
                segments.append(self.take().value)
            return ("path", segments)
        if token.kind == "op" and token.value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if token.kind == "op" and token.value == "[":
            items = [] if self.accept("]") else self._items("]")
            return ("list", items)
        if token.kind == "op" and token.value == "{":
            return ("obj", self._pairs())
        if token.kind == "name":
            if token.value in ("true", "false", "null"):
                return ("lit", {"true": True, "false": False, "null": None}[token.value])
            if token.value in FUNCTIONS and self.accept("("):
                args = [] if self.accept(")") else self._items(")")
                return ("call", token.value, args)
            if token.value in FUNCTIONS:
                raise ExpressionError(f"function '{token.value}' must be called, at position {token.pos}")
            raise ExpressionError(f"unknown name '{token.value}' at position {token.pos}; paths start with '$.' "
                                  "and strings are quoted")
        raise ExpressionError(f"unexpected {_describe(token)} at position {token.pos}")

    def _items(self, close: str) -> list:
        items = [self.expr()]
        while self.accept(","):
            items.append(self.expr())
        self.expect(close)
        return items

    def _pairs(self) -> list:
        pairs: list = []
        if self.accept("}"):
            return pairs
        while True:
            token = self.take()
            if token.kind not in ("string", "name"):
                raise ExpressionError(f"expected an object key at position {token.pos}")
            self.expect(":")
            pairs.append((token.value, self.expr()))
            if self.accept("}"):
                return pairs
            self.expect(",")


def _describe(token: Token) -> str:
    return "end of expression" if token.kind == "end" else repr(str(token.value))


def parse(text: str) -> tuple:
    """The syntax tree of an expression, or ExpressionError."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression is empty")
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple:
    # trees are never mutated, so a map's thousand items share one parse of their expression
    return _Parser(text).parse()


def evaluate(text: str, context: dict[str, Any]) -> Any:
    """Evaluate an expression against `context` (the `$` object)."""
    return _eval(parse(text), context)


def _eval(node: tuple, ctx: dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        value: Any = ctx
        for segment in node[1]:
            value = _member(value, segment if isinstance(segment, str) else _eval(segment, ctx))
        return value
    if kind == "index":
        return _member(_eval(node[1], ctx), _eval(node[2], ctx))
    if kind == "not":
        return not truthy(_eval(node[1], ctx))
    if kind == "neg":
        return -number(_eval(node[1], ctx), "-")
    if kind == "list":
        return [_eval(item, ctx) for item in node[1]]
    if kind == "obj":
        return {key: _eval(value, ctx) for key, value in node[1]}
    if kind == "call":
        return FUNCTIONS[node[1]](*[_eval(arg, ctx) for arg in node[2]])
    _, op, left_node, right_node = node
    if op == "and":
        return truthy(_eval(left_node, ctx)) and truthy(_eval(right_node, ctx))
    if op == "or":
        return truthy(_eval(left_node, ctx)) or truthy(_eval(right_node, ctx))
    return _binary(op, _eval(left_node, ctx), _eval(right_node, ctx))


def _member(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, (list, str)):
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if key == "length":
            return len(value)
        if isinstance(key, int) and not isinstance(key, bool) and -len(value) <= key < len(value):
            return value[key]
    return None


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op == "in":
        return contains(b, a)
    if op in ("<", "<=", ">", ">="):
        if not (is_number(a) and is_number(b)) and not (isinstance(a, str) and isinstance(b, str)):
            raise ExpressionError(f"cannot compare {type_name(a)} {op} {type_name(b)}")
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op == "+":
        if isinstance(a, str) and isinstance(b, str) or isinstance(a, list) and isinstance(b, list):
            return a + b
        if isinstance(a, str) or isinstance(b, str):
            if a is None or b is None or isinstance(a, (str, int, float)) and isinstance(b, (str, int, float)):
                return text(a) + text(b)
        return number(a, op) + number(b, op)
    x, y = number(a, op), number(b, op)
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        raise ExpressionError("division by zero")
    if op == "/":
        result = x / y
        return int(result) if float(result).is_integer() and isinstance(x, int) and isinstance(y, int) else result
    return x % y


# ---- values that may hold expressions (inputMap, webhook fields, approval params) ----

def is_expression(value: Any) -> bool:
    """A string value is an expression when it starts with '$'."""
    return isinstance(value, str) and value.lstrip().startswith("$")


def check_value(value: Any) -> None:
    """Parse every expression and template inside a value (raises ExpressionError)."""
    if is_expression(value):
        parse(value)
    elif isinstance(value, str):
        for match in _TEMPLATE.finditer(value):
            parse(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            check_value(item)
    elif isinstance(value, list):
        for item in value:
            check_value(item)


def resolve(value: Any, context: dict[str, Any]) -> Any:
    """'$...' strings evaluate, '{{ expr }}' inside strings interpolate, the rest is literal."""
    if is_expression(value):
        return evaluate(value, context)
    if isinstance(value, str):
        if "{{" not in value:
            return value
        return _TEMPLATE.sub(lambda m: text(evaluate(m.group(1), context)), value)
    if isinstance(value, dict):
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    return value
