"""The body of `POST /v1/tools` (sdk-compat.md, "theazo.tools"): a custom tool and its webhook.

A name is 1 to 64 letters, digits, `_` or `-` (what model function-calling accepts). The
handler is `{type: "webhook", url}` with an absolute http(s) URL; `parameters` is the JSON
Schema of the tool's input (an object schema).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from theazo_emu.core.fields import HttpUrl
from theazo_emu.theazo.bodies.core import Body

TOOL_NAME = r"^[A-Za-z0-9_-]{1,64}$"


class ToolHandler(Body):
    type: Literal["webhook"]
    url: HttpUrl = Field(description="Called with POST {tool, input}.")


class RegisterTool(Body):
    name: str = Field(pattern=TOOL_NAME)
    description: str = Field(min_length=1, max_length=2000)
    parameters: dict[str, Any] = Field(description="JSON Schema of the input (an object schema).")
    handler: ToolHandler
    requiresApproval: bool = False

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type", "object") != "object":
            raise ValueError("must be a JSON Schema of type 'object' (a tool takes named arguments)")
        if "properties" in value and not isinstance(value["properties"], dict):
            raise ValueError("'properties' must be an object")
        if "required" in value and not (isinstance(value["required"], list)
                                        and all(isinstance(n, str) for n in value["required"])):
            raise ValueError("'required' must be a list of property names")
        return value
