"""Bodies of session runs and session tasks (sdk-compat §3 "Session instance").

`agent` names the agent to make for the task, as everywhere an agent is referenced (a
definition id or name, any other name for an ad-hoc agent of that role, or an inline
create-agent config). A session run's `timeout` is the SDK's `{hours, minutes, seconds}`
or a duration ('90s', '5m') or a number of seconds, between 1 second and 24 hours.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from theazo_emu.theazo.bodies.core import Body, MaxDuration, duration_seconds


def check_agent_ref(value: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(value, str):
        value = value.strip()
        if not 0 < len(value) <= 200:
            raise ValueError("must be an agent definition id or name (1-200 characters) or an agent config")
    return value


AgentRef = Annotated[str | dict[str, Any], AfterValidator(check_agent_ref)]
MAX_TASK = 200_000


class SessionRun(Body):
    agent: AgentRef
    task: str = Field(min_length=1, max_length=MAX_TASK)
    browser: bool | None = None
    timeout: MaxDuration | str | int | float | None = None

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        if value is not None and not 1 <= _seconds(value) <= 86_400:
            raise ValueError("must be between 1 second and 24 hours")
        return value

    @property
    def timeout_seconds(self) -> int | None:
        return None if self.timeout is None else int(_seconds(self.timeout))


def _seconds(value: MaxDuration | str | int | float) -> float:
    if isinstance(value, MaxDuration):
        return (value.hours or 0) * 3600 + (value.minutes or 0) * 60 + (value.seconds or 0)
    return duration_seconds(value)


class SubmitTask(Body):
    agent: AgentRef
    input: dict[str, Any] | str
    webhook: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$")
    priority: Literal["low", "normal", "high"] = "normal"

    @field_validator("input")
    @classmethod
    def _input(cls, value: dict[str, Any] | str) -> dict[str, Any] | str:
        if isinstance(value, str) and not 0 < len(value.strip()) <= MAX_TASK:
            raise ValueError(f"must be an object, or a task text of 1 to {MAX_TASK} characters")
        if isinstance(value, dict) and len(json.dumps(value)) > MAX_TASK:
            raise ValueError(f"must not exceed {MAX_TASK} characters as JSON")
        return value
