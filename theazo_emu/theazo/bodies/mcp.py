"""Bodies of the MCP routes (sdk-compat.md, "theazo.mcp"): connections, credentials, server config.

`headers` (a connection's, or a user's credentials) are secrets: sealed at rest, never
answered, blanked in the journal and cassettes. A connection over `sse` or
`streamable-http` needs a `url`; over `stdio` a `command`. An update tells an absent
`toolFilter` (keep it) from `toolFilter: null` (remove the filter) by the fields the
request set. `tools` on a connection is the emulator's way to declare what its server
offers (otherwise the built-in catalogue of domain/mcp.py answers).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from theazo_emu.core.fields import HttpUrl, check_text
from theazo_emu.theazo.bodies.core import Body

NAME = r"^[A-Za-z0-9_-]{1,64}$"
TOOL = r"^[A-Za-z0-9_.:-]{1,100}$"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
MAX_HEADERS, MAX_HEADER_VALUE = 50, 8192


def check_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """HTTP header names and single-line values (never quoting a value in an error)."""
    if headers is None:
        return None
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"header name {name[:40]!r} is not a valid HTTP header name")
        if len(value) > MAX_HEADER_VALUE or "\r" in value or "\n" in value or "\x00" in value:
            raise ValueError(f"the value of header {name!r} must be one line of at most {MAX_HEADER_VALUE} characters")
        check_text(value)
    return headers


def _tool_names(values: list[str] | None) -> list[str] | None:
    if values is not None:
        for name in values:
            if not re.fullmatch(TOOL, name):
                raise ValueError(f"invalid tool name {name[:40]!r}")
    return values


class DeclaredTool(Body):
    name: str = Field(pattern=TOOL)
    description: str = Field(default="", max_length=2000)
    inputSchema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class _Connection(Body):
    """What a connection's create and update (and a user's credentials) share: secret
    headers and tool-name lists, checked."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("headers",)

    @field_validator("headers", check_fields=False)
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return check_headers(value)

    @field_validator("toolFilter", "requiresApproval", check_fields=False)
    @classmethod
    def _filters(cls, value: list[str] | None) -> list[str] | None:
        return _tool_names(value)


class ConnectMcp(_Connection):
    name: str = Field(pattern=NAME)
    transport: Literal["sse", "streamable-http", "stdio"]
    url: HttpUrl | None = None
    headers: dict[str, str] | None = None
    command: str | None = Field(default=None, min_length=1, max_length=1000)
    args: list[str] | None = Field(default=None, max_length=100)
    toolFilter: list[str] | None = Field(default=None, max_length=500)
    requiresApproval: list[str] = Field(default_factory=list, max_length=500)
    credentialsType: Literal["platform", "per_user"] = "platform"
    tools: list[DeclaredTool] | None = Field(default=None, max_length=500,
                                             description="Emulator only: the tools the server offers.")

    @model_validator(mode="after")
    def _endpoint(self) -> "ConnectMcp":
        if self.transport == "stdio" and self.command is None:
            raise ValueError("a stdio connection needs 'command'")
        if self.transport != "stdio" and self.url is None:
            raise ValueError(f"a {self.transport} connection needs 'url'")
        return self


class UpdateMcp(_Connection):
    headers: dict[str, str] | None = None
    toolFilter: list[str] | None = Field(default=None, max_length=500)
    requiresApproval: list[str] | None = Field(default=None, max_length=500)


class UserCredentials(_Connection):
    headers: dict[str, str] = Field(min_length=1)


class ServerConfig(Body):
    expose: list[str] | Literal["*"] = Field(description="Tool or agent names to expose, or '*' for all.")
    auth: Literal["api_key"] = "api_key"

    @field_validator("expose")
    @classmethod
    def _names(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list):
            _tool_names(value)
            if len(value) > 500:
                raise ValueError("at most 500 names")
        return value
