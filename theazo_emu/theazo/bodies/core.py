"""Shared body pieces and the foundation's bodies (sessions, agents, runs, exec, admin).

Unknown fields are ignored, as a lenient server should be. Where the reference and the
SDK send different shapes (sdk-compat.md), the model accepts both and a `normalized()`
method folds them into one. The create-agent body is the domain's agent config
(domain/agent_config.py), whose rules also apply to the agent references other bodies carry.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from theazo_emu.core import durations
from theazo_emu.core.fields import check_text
from theazo_emu.theazo.domain.agent_config import AgentConfig

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_USER_ID = 256


class Body(BaseModel):
    # defer_build: schemas are built on first use, which keeps them off the start-up path.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True, strict=True)


def duration_seconds(value: int | float | str) -> float:
    """'120s', '2m', '1h', '500ms' or a number of seconds, as seconds (durations.py)."""
    return durations.to_seconds(value)


def check_user_id(value: str) -> str:
    if not value or len(value) > MAX_USER_ID:
        raise ValueError(f"must be 1 to {MAX_USER_ID} characters")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return check_text(value)


class Cost(Body):
    amount: int = Field(ge=0, le=10**12, description="Integer cents.")
    currency: str = Field(default="usd", min_length=3, max_length=3)


class MaxCost(Cost):
    period: Literal["session", "day", "month"] = "session"


class MaxDuration(Body):
    hours: float | None = Field(default=None, ge=0, le=10**6)
    minutes: float | None = Field(default=None, ge=0, le=10**8)
    seconds: float | None = Field(default=None, ge=0, le=10**10)


class SessionLimits(Body):
    maxCost: MaxCost | None = None
    maxAgents: int | None = Field(default=None, ge=0, le=10**6)
    maxComputeMinutes: int | float | None = Field(default=None, ge=0, le=10**9)
    maxDuration: MaxDuration | None = None


class SessionOptions(Body):
    """The body of by-user get-or-create: options applied only on creation."""

    limits: SessionLimits | None = None
    metadata: dict[str, Any] | None = None
    environment: Literal["production", "staging", "development"] | None = None

    def options(self) -> dict[str, Any]:
        """The options as sessions.create takes them: plain values, limits as given."""
        limits = self.limits.model_dump(exclude_none=True) if self.limits else None
        return {"environment": self.environment, "metadata": self.metadata, "limits": limits}


class CreateSession(SessionOptions):
    userId: str

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_id(value)


# An agent config under the endpoint's name: the OpenAPI document shows it as CreateAgent.
class CreateAgent(AgentConfig):
    """Both shapes: the reference's `compute {provider}`, `model {id}`, numeric `timeout`;
    the SDK's string `compute` runtime, string `model`, string `timeout`, `provider`."""


class RunAgent(Body):
    task: str = Field(min_length=1, max_length=200_000)
    stream: bool = False
    maxCost: Cost | None = None


ExecLanguage = Literal["python", "typescript", "bash", "node", "go", "javascript"]


class ExecCode(Body):
    lang: ExecLanguage | None = None
    language: ExecLanguage | None = None
    code: str = Field(max_length=500_000)

    @model_validator(mode="after")
    def _one_language(self) -> "ExecCode":
        if self.lang is None and self.language is None:
            raise ValueError("either 'lang' or 'language' is required")
        return self

    @property
    def resolved_language(self) -> str:
        return self.lang or self.language or "python"


class ResumeAgent(Body):
    provider: str | None = None
    region: str | None = None
    checkpoint: str | None = None


class ClockAdvance(Body):
    seconds: float | None = Field(default=None, ge=0, le=10 * 365 * 86_400,
                                  description="At most 10 years (timers.MAX_ADVANCE_MS).")
    to: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "ClockAdvance":
        if (self.seconds is None) == (self.to is None):
            raise ValueError("give exactly one of 'seconds' or 'to'")
        return self


class ResetBody(Body):
    tenant: str | None = Field(default=None, description="An API key; omit to reset every tenant.")


class RecordStart(Body):
    file: str = Field(min_length=1, max_length=4096, description="Cassette to write (truncated), relative to the "
                                                                   "server's working directory.")
    upstream: str | None = Field(default=None, max_length=2048, description="Proxy every request to this URL and "
                                                                            "record its answers.")


class SettleBody(Body):
    key: str | None = Field(default=None, description="An API key; omit to settle every tenant's runs.")
