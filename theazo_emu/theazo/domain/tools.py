"""Tools agents can call: the built-in ones, and checking an input against a tool's schema.

The built-ins are the tools the mock engine knows how to answer (mock/engine.py); custom
tools (theazo/routes/tools.py) add a webhook handler. `input_problems()` checks a tool input
against the part of JSON Schema a function's `parameters` use in practice: `type`,
`required`, `properties` (recursively), `enum` and `items`; anything else in the schema is
accepted as is. The MCP tools an agent can call come from domain/mcp.py.
"""

from __future__ import annotations

from typing import Any

_QUERY = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
BUILTINS: dict[str, dict[str, Any]] = {
    "http_request": {"description": "Make an HTTP request and return its status and body.",
                     "parameters": {"type": "object", "required": ["url"],
                                    "properties": {"method": {"type": "string"}, "url": {"type": "string"},
                                                   "headers": {"type": "object"}, "body": {}}}},
    "read_file": {"description": "Read a file from the agent's sandbox.",
                  "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
    "web_search": {"description": "Search the web and return the top results.", "parameters": _QUERY},
    "write_file": {"description": "Write a file into the agent's sandbox.",
                   "parameters": {"type": "object", "required": ["path", "content"],
                                  "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}},
}
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "integer": (int,),
                                       "boolean": (bool,), "object": (dict,), "array": (list,),
                                       "null": (type(None),)}
MAX_PROBLEMS = 20


def _type_ok(value: Any, name: str) -> bool:
    kinds = _TYPES.get(name)
    if kinds is None:
        return True  # a type we do not know: accepted
    if isinstance(value, bool) and name in ("number", "integer"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, kinds)


def input_problems(schema: Any, value: Any, path: str = "input") -> list[dict[str, str]]:
    """Field-level problems of `value` against `schema` (empty when it fits)."""
    if not isinstance(schema, dict):
        return []
    problems: list[dict[str, str]] = []
    expected = schema.get("type")
    names = expected if isinstance(expected, list) else [expected] if isinstance(expected, str) else []
    if names and not any(_type_ok(value, name) for name in names):
        return [{"field": path, "message": f"must be of type {' or '.join(names)}"}]
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        problems.append({"field": path, "message": "must be one of the schema's enum values"})
    if isinstance(value, dict):
        for name in schema.get("required") or []:
            if isinstance(name, str) and name not in value:
                problems.append({"field": f"{path}.{name}", "message": "is required by the tool's parameters"})
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                if name in value:
                    problems += input_problems(sub, value[name], f"{path}.{name}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += input_problems(schema["items"], item, f"{path}.{index}")
    return problems[:MAX_PROBLEMS]
