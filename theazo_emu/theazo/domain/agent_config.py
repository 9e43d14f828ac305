"""An agent config: the fields an agent is made from, in both clients' shapes, and their rules.

The create-agent body is one (bodies.CreateAgent names it for its endpoint), and so is each
resolved agent reference of a workflow step, fleet, team member, task, conversation, channel
or schedule (orchestration.agent_request). A workflow step resolves its agent only when it
starts, with the step's timeout and the policy's tools applied, and a refusal then fails the
step with the same 422 the endpoint gives; so the rules live here, with the domain that
applies them, and the bodies take them from here.

Unknown fields are ignored, as a lenient server should. Where the reference and the SDK send
different shapes (sdk-compat.md), the model accepts both and `normalized()` folds them into one.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from theazo_emu.core import durations

MAX_TIMEOUT_S = 86_400


class _Config(BaseModel):
    # The same settings as every request body (bodies.Body): schemas are built on first use.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True, strict=True)


def check_timeout(value: int | float | str | None) -> int | float | str | None:
    """A run timeout: seconds or a duration string, between 1 second and 24 hours."""
    if value is not None:
        seconds = durations.to_seconds(value)
        if not 1 <= seconds <= MAX_TIMEOUT_S:
            raise ValueError("must be between 1 second and 24 hours")
    return value


class ComputeObject(_Config):
    provider: Literal["e2b", "fly", "docker", "webhook", "mock"] | None = None
    timeout: int | float | str | None = None

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int | float | str | None) -> int | float | str | None:
        return check_timeout(value)


class ModelObject(_Config):
    id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    provider: str | None = Field(default=None, max_length=100)
    baseUrl: str | None = Field(default=None, max_length=2000)
    credentialRef: str | None = Field(default=None, max_length=200)
    maxTokens: int | None = Field(default=None, ge=1, le=10**7)
    temperature: float | None = Field(default=None, ge=0, le=2)


class AgentConfig(_Config):
    """Both shapes: the reference's `compute {provider}`, `model {id}`, numeric `timeout`;
    the SDK's string `compute` runtime, string `model`, string `timeout`, `provider`."""

    compute: Literal["python", "node", "go"] | ComputeObject | None = None
    model: str | ModelObject | None = None
    timeout: int | float | str | None = None
    browser: bool = False
    instructions: str | None = Field(default=None, max_length=100_000)
    tools: list[str] = Field(default_factory=list, max_length=100)
    provider: Literal["e2b", "fly", "docker", "webhook", "mock"] | None = None
    providerFallback: list[str] | str | None = None
    region: str | None = Field(default=None, max_length=100)
    definition: str | None = Field(default=None, max_length=200)
    secrets: list[str] = Field(default_factory=list, max_length=100)
    metadata: dict[str, Any] | None = None

    @field_validator("tools")
    @classmethod
    def _tools(cls, tools: list[str]) -> list[str]:
        for name in tools:
            if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", name):
                raise ValueError(f"invalid tool name {name[:40]!r}")
        return tools

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int | float | str | None) -> int | float | str | None:
        return check_timeout(value)

    def normalized(self) -> dict[str, Any]:
        """One internal shape: runtime, provider, model id and timeout in whole seconds."""
        runtime = self.compute if isinstance(self.compute, str) else "python"
        provider = self.provider or (self.compute.provider if isinstance(self.compute, ComputeObject) else None)
        timeout = self.timeout
        if timeout is None and isinstance(self.compute, ComputeObject):
            timeout = self.compute.timeout
        model_id = self.model if isinstance(self.model, str) else (self.model.id or self.model.name) if self.model else None
        return {
            "compute": runtime,
            "provider": provider,
            "model": model_id,
            "timeout_s": int(durations.to_seconds(timeout)) if timeout is not None else None,
        }
