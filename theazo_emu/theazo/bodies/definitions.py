"""Bodies of the agent-definition routes, in both clients' shapes (sdk-compat.md §2).

Reference: `{name, instructions?, tools?, model: {id, maxTokens, temperature},
compute: {provider, timeout}, metadata?}`. SDK: `{name, description, compute (runtime
string), model (string), instructions, tools?, browser?, timeout? ('300s'), config?
{temperature, maxTokens}}`, and on PUT `{..., changelog?}`. `fields()` folds either shape
into the flat internal settings; `None` means "not given" so PUT can merge.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from theazo_emu.theazo.bodies.core import Body, duration_seconds
from theazo_emu.theazo.domain.agent_config import ComputeObject, ModelObject

_TOOL = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 200
MAX_TIMEOUT_S = 86_400


def _text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise ValueError(f"{what} must be at most {limit} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{what} must not contain control characters")
    return value


def _seconds(value: int | float | str | None) -> int | None:
    if value is None:
        return None
    seconds = duration_seconds(value)
    if not 1 <= seconds <= MAX_TIMEOUT_S:
        raise ValueError("must be between 1 second and 24 hours")
    return int(seconds)


class DefinitionConfig(Body):
    temperature: float | None = Field(default=None, ge=0, le=2)
    maxTokens: int | None = Field(default=None, ge=1, le=10**7)


class DefinitionCompute(ComputeObject):
    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int | float | str | None) -> int | float | str | None:
        _seconds(value)
        return value


class UpdateDefinition(Body):
    """PUT: every field optional; what is absent is carried over from the latest version."""

    name: str | None = None
    description: str | None = Field(default=None, max_length=10_000)
    instructions: str | None = Field(default=None, max_length=100_000)
    tools: list[str] | None = Field(default=None, max_length=100)
    model: str | ModelObject | None = None
    compute: Literal["python", "node", "go"] | DefinitionCompute | None = None
    provider: Literal["e2b", "fly", "docker", "webhook", "mock"] | None = None
    browser: bool | None = None
    timeout: int | float | str | None = None
    config: DefinitionConfig | None = None
    metadata: dict[str, Any] | None = None
    changelog: str | None = Field(default=None, max_length=10_000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("name must not be blank")
        return _text(value, "name", MAX_NAME)

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | ModelObject | None) -> str | ModelObject | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError("model must not be blank")
        if isinstance(value, str):
            _text(value, "model", 200)
        return value

    @field_validator("tools")
    @classmethod
    def _tools(cls, tools: list[str] | None) -> list[str] | None:
        for tool in tools or ():
            if not _TOOL.fullmatch(tool):
                raise ValueError(f"invalid tool name {tool[:40]!r}")
        return tools

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int | float | str | None) -> int | float | str | None:
        _seconds(value)
        return value

    def fields(self) -> dict[str, Any]:
        """The given settings, flattened: model id, runtime, provider, timeout_s, config."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("name", "description", "instructions", "tools",
                                                           "browser", "metadata", "provider")}
        config = self.config.model_dump(exclude_none=True) if self.config else {}
        if isinstance(self.model, ModelObject):
            out["model"] = self.model.id or self.model.name
            config |= self.model.model_dump(include={"temperature", "maxTokens"}, exclude_none=True)
        else:
            out["model"] = self.model
        timeout = self.timeout
        if isinstance(self.compute, DefinitionCompute):
            out["compute"] = None
            out["provider"] = self.provider or self.compute.provider
            timeout = timeout if timeout is not None else self.compute.timeout
        else:
            out["compute"] = self.compute
        out["timeout_s"] = _seconds(timeout)
        out["config"] = config or None
        return {k: v for k, v in out.items() if v is not None}


class CreateDefinition(UpdateDefinition):
    name: str  # type: ignore[assignment]  # required on create


class RollbackDefinition(Body):
    # strict: "2", 2.0 and true are not versions.
    version: int = Field(ge=1, le=10**9, strict=True)
    changelog: str | None = Field(default=None, max_length=10_000)
