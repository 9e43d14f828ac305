"""Bodies of the admin controls that decide what a person at Theo would (theo/staff.py).
Each names the Theo test key whose tenant the decision is about; unknown fields are refused."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from theazo_emu.fixtures.parts import Strict
from theazo_emu.theo.domain.connectors import STATUSES
from theazo_emu.theo.fixtures import TheoKey

Reason = str | None


class SubmissionDecision(Strict):
    """POST /_emu/theo/submissions/:id/decision."""

    key: TheoKey
    decision: Literal["approve", "reject", "suspend"]
    reason: Reason = Field(default=None, max_length=1000)


class IncreaseDecision(Strict):
    """POST /_emu/theo/rate-limit-requests/:id/decision."""

    key: TheoKey
    decision: Literal["approve", "deny"]


class NewConnector(Strict):
    """POST /_emu/theo/connectors."""

    key: TheoKey
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(default="custom", min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    status: Literal[STATUSES] = "pending"  # type: ignore[valid-type]


class ConnectorStatus(Strict):
    """POST /_emu/theo/connectors/:id/status."""

    key: TheoKey
    status: Literal[STATUSES]  # type: ignore[valid-type]
    reason: Reason = Field(default=None, max_length=1000)
