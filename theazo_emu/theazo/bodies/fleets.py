"""The body of a fleet dispatch (sdk-compat §3 "POST /v1/sessions/:id/fleets").

`agent` is an agent definition id or name, or an inline agent config (the create-agent
body); it is resolved by orchestration.agent_request. Inputs are objects (the SDK) or
task strings; at least one, at most 1000. `concurrency` defaults to 5.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from theazo_emu.theazo.bodies.core import Body, Cost
from theazo_emu.theazo.domain.workflow.durations import duration_ms

MAX_FLEET_ITEMS = 1000


class CreateFleet(Body):
    agent: str | dict[str, Any]
    inputs: list[dict[str, Any] | str] = Field(min_length=1, max_length=MAX_FLEET_ITEMS)
    concurrency: int = Field(default=5, ge=1, le=100)
    timeout: str | int | float | None = None
    maxCost: Cost | None = None
    failurePolicy: Literal["continue", "abort", "pause"] = "continue"

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(value, str) and not 0 < len(value.strip()) <= 200:
            raise ValueError("must be an agent definition id or name (1-200 characters) or an agent config")
        return value.strip() if isinstance(value, str) else value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str | int | float | None) -> str | int | float | None:
        if value is not None and not 1000 <= duration_ms(value) <= 86_400_000:
            raise ValueError("must be between 1 second and 24 hours")
        return value
