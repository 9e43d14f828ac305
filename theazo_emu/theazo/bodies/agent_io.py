"""Bodies of the SDK's `agent.send(input)` and `agent.ports.expose(port)` (sdk-compat
"Agent instance")."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from theazo_emu.theazo.bodies.core import Body


class SendInput(Body):
    type: str = Field(min_length=1, max_length=100)
    content: str = Field(min_length=1, max_length=100_000)
    metadata: dict[str, Any] | None = None


class ExposePort(Body):
    port: int = Field(ge=1, le=65_535, strict=True, description="A JSON integer, 1-65535.")
