"""Bodies of the sandbox bridge: what the `theazo-sandbox` package POSTs from inside an
agent's sandbox to `/v1/sandbox/{log,model,span,progress,complete}`.

Every body names `agentId` and `sessionId` (the package adds them from THEAZO_AGENT_ID and
THEAZO_SESSION_ID) and may carry the sandbox's own `timestamp`, which is kept as sent and
never used for time: the virtual clock dates every report. Texts are bounded and free of
lone surrogates; numbers are finite and bounded, so no report can make a charge or a span
the ledger and traces cannot hold.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from theazo_emu.core.fields import check_text
from theazo_emu.theazo.bodies.core import Body

Text = Annotated[str, AfterValidator(check_text)]
Metadata = Annotated[dict[str, Any], Field(max_length=100)]
MAX_TOKENS = 10**9  # per report


class SandboxReport(Body):
    agentId: str = Field(min_length=1, max_length=200, description="THEAZO_AGENT_ID: the agent's id.")
    sessionId: str = Field(min_length=1, max_length=200, description="THEAZO_SESSION_ID: the agent's session.")
    timestamp: Text | None = Field(default=None, max_length=64, description="The sandbox's clock; kept, not used.")


class SandboxLog(SandboxReport):
    level: Literal["debug", "info", "warn", "error"]
    message: Text = Field(max_length=10_000)
    metadata: Metadata | None = None


class ReportedCost(Body):
    amount: int | float = Field(ge=0, le=10**9, allow_inf_nan=False, description="Cents; fractions round up.")
    currency: Literal["usd"] = "usd"


class SandboxModel(SandboxReport):
    model: Text = Field(min_length=1, max_length=200)
    inputTokens: int = Field(ge=0, le=MAX_TOKENS)
    outputTokens: int = Field(ge=0, le=MAX_TOKENS)
    cost: ReportedCost | None = Field(default=None, description="Absent: priced from the model's tokens.")


class SandboxSpan(SandboxReport):
    name: Text = Field(min_length=1, max_length=200)
    startTime: Text | None = Field(default=None, max_length=64)
    endTime: Text | None = Field(default=None, max_length=64)
    durationMs: int | float = Field(default=0, ge=0, le=10**10, allow_inf_nan=False)
    status: Literal["completed", "failed"] = "completed"
    error: Text | None = Field(default=None, max_length=10_000)
    attributes: Metadata | None = None


class SandboxProgress(SandboxReport):
    percentage: int | float = Field(ge=0, le=100, allow_inf_nan=False)
    message: Text = Field(max_length=2_000)


class SandboxComplete(SandboxReport):
    output: Text = Field(max_length=200_000)
    artifacts: list[Annotated[Text, Field(max_length=1_000)]] = Field(default_factory=list, max_length=1_000)
