"""Tools: `theazo.tools` (register, list, test, delete): the built-ins and custom webhook tools.

Owns the `tools` table (one row per custom tool, keyed by tenant and name). The list is
the built-ins (domain/tools.py, `builtin: true`) then the tenant's own, by name; a bare
array for SDK requests, `{data}` otherwise. A name taken (built-in or registered) is 409.
`POST /v1/tools/:name/test` takes the tool input itself as the body, checks it against the
tool's `parameters` (422 naming the fields), then: a built-in answers the mock engine's
output for it; a custom tool's handler gets a real `POST {tool, input}` (httpx, 10 s), and
its JSON answer is the `output` (`success` is whether it was 2xx). A handler that cannot
be reached is 502 `tool_handler_unreachable`. Each test is journaled (`kind=tool`).
"""

from __future__ import annotations

import json
from typing import Any

from theazo_emu.core import jsonio, outbound
from theazo_emu.core.errors import ApiError, Conflict, NotFound, Unprocessable
from theazo_emu.core.http import Ctx, api_route, json_object
from theazo_emu.core.journal import record_event
from theazo_emu.theazo.bodies.tools import RegisterTool
from theazo_emu.theazo.domain.tools import BUILTINS, input_problems
from theazo_emu.theazo.surface import list_answer, one_page

TABLE, KIND = "tools", "tool"
HANDLER_TIMEOUT_S = 10.0


class ToolHandlerUnreachable(ApiError):
    status, code = 502, "tool_handler_unreachable"


def builtin_to_api(name: str) -> dict[str, Any]:
    spec = BUILTINS[name]
    return {"name": name, "description": spec["description"], "builtin": True, "parameters": spec["parameters"],
            "requiresApproval": False}


def tool_to_api(row: dict) -> dict[str, Any]:
    return {"name": row["name"], "description": row["description"], "builtin": False,
            "parameters": row["parameters"], "handler": row["handler"],
            "requiresApproval": bool(row["requires_approval"]), "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def _custom(ctx: Ctx, name: str) -> dict | None:
    return ctx.store.find(TABLE, "name = ?", [name], order=None)


async def register_tool(ctx: Ctx) -> dict:
    """Register a custom tool with a webhook handler; agents may then name it in `tools`."""
    body: RegisterTool = ctx.body
    if body.name in BUILTINS or _custom(ctx, body.name) is not None:
        kind = "a built-in tool" if body.name in BUILTINS else "already registered"
        raise Conflict(f"Tool '{body.name}' is {kind}; delete it first or pick another name.", {"name": body.name})
    now = ctx.now_iso()
    row = ctx.store.insert(TABLE, {
        "name": body.name, "description": body.description, "parameters": body.parameters,
        "handler": body.handler.model_dump(), "requires_approval": int(body.requiresApproval),
        "created_at": now, "updated_at": now,
    })
    return tool_to_api(row)


async def list_tools(ctx: Ctx) -> Any:
    """The built-in tools, then the custom ones, by name."""
    data = [builtin_to_api(name) for name in sorted(BUILTINS)]
    data += [tool_to_api(row) for row in ctx.store.rows(TABLE, order="name")]
    return list_answer(ctx, one_page(data))


async def run_tool_test(ctx: Ctx) -> dict:
    """Call a tool once with the body as its input: `{output, success}`."""
    name = ctx.params["name"]
    row = None if name in BUILTINS else _custom(ctx, name)
    if name not in BUILTINS and row is None:
        raise NotFound(KIND, name)
    tool_input = json_object(ctx.body or b"")
    try:
        jsonio.check(tool_input)  # it is hashed and sent on: no lone surrogates...
        json.dumps(tool_input, allow_nan=False)  # ...nor numbers JSON cannot carry
    except jsonio.JsonRejected as exc:
        raise Unprocessable(f"The input is not acceptable JSON: {exc.message}.",
                            [{"field": exc.field, "message": exc.message}]) from None
    except ValueError:
        raise Unprocessable("The input is not acceptable JSON: a number is out of range.",
                            [{"field": "body", "message": "NaN and infinite numbers are not JSON"}]) from None
    schema = BUILTINS[name]["parameters"] if row is None else row["parameters"]
    problems = input_problems(schema, tool_input)
    if problems:
        fields = sorted({p["field"] for p in problems})
        raise Unprocessable(f"The input does not fit tool '{name}': {', '.join(fields)}.", problems)
    if row is None:
        output: Any = ctx.emu.engine.tool_output(name, tool_input)
        result = {"output": output, "success": True}
    else:
        result = await _call_handler(ctx, name, row["handler"]["url"], tool_input)
    record_event(ctx.emu, "tool", tool=name, builtin=row is None, success=result["success"])
    return result


async def _call_handler(ctx: Ctx, name: str, url: str, tool_input: dict) -> dict:
    outcome = await outbound.http_call({"url": url, "method": "POST", "headers": {},
                                             "body": {"tool": name, "input": tool_input},
                                             "timeoutS": HANDLER_TIMEOUT_S})
    if "output" not in outcome:  # no answer at all: unreachable, refused, timed out
        raise ToolHandlerUnreachable(f"The handler of tool '{name}' at {url} could not be reached: "
                                     f"{outcome['message']}", {"url": url, "reason": outcome["code"]})
    answer = outcome["output"]
    return {"output": answer["body"], "success": bool(outcome["ok"]), "status": answer["status"]}


async def delete_tool(ctx: Ctx) -> dict:
    """Delete a custom tool (built-ins cannot be deleted: 409)."""
    name = ctx.params["name"]
    if name in BUILTINS:
        raise Conflict(f"Tool '{name}' is built in and cannot be deleted.", {"name": name})
    if not ctx.store.delete(TABLE, "name = ?", [name]):
        raise NotFound(KIND, name)
    return {"name": name, "deleted": True}


routes = [
    api_route("/v1/tools", register_tool, "POST", body=RegisterTool, status=201),
    api_route("/v1/tools", list_tools),
    api_route("/v1/tools/{name}/test", run_tool_test, "POST"),
    api_route("/v1/tools/{name}", delete_tool, "DELETE"),
]
