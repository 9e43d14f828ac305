"""Shared body pieces and the foundation's bodies (sessions, agents, runs, exec, admin).

Unknown fields are ignored, as a lenient server should be. Where the reference and the
SDK send different shapes (sdk-compat.md), the model accepts both and a `normalized()`
method folds them into one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from theazo_emu.core import durations

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


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, and nothing a request could not be sent to."""
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port  # both raise ValueError on a malformed authority
    except ValueError:
        raise ValueError("must be an absolute http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host or re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError("must be an absolute http(s) URL")
    return value


# A URL the emulator sends requests to, or redirects to (webhooks, tool handlers, checkout).
HttpUrl = Annotated[str, Field(max_length=2000), AfterValidator(check_http_url)]


def check_text(value: str) -> str:
    """Text that can be stored and sent: no lone UTF-16 surrogates (JSON escapes can make them)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


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


class CreateSession(SessionOptions):
    userId: str

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_id(value)


def check_timeout(value: int | float | str | None) -> int | float | str | None:
    """A run timeout: seconds or a duration string, between 1 second and 24 hours."""
    if value is not None:
        seconds = duration_seconds(value)
        if not 1 <= seconds <= 86_400:
            raise ValueError("must be between 1 second and 24 hours")
    return value


class ComputeObject(Body):
    provider: Literal["e2b", "fly", "docker", "webhook", "mock"] | None = None
    timeout: int | float | str | None = None

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int | float | str | None) -> int | float | str | None:
        return check_timeout(value)


class ModelObject(Body):
    id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    provider: str | None = Field(default=None, max_length=100)
    baseUrl: str | None = Field(default=None, max_length=2000)
    credentialRef: str | None = Field(default=None, max_length=200)
    maxTokens: int | None = Field(default=None, ge=1, le=10**7)
    temperature: float | None = Field(default=None, ge=0, le=2)


class CreateAgent(Body):
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
            "timeout_s": int(duration_seconds(timeout)) if timeout is not None else None,
        }


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
