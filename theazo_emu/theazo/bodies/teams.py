"""Bodies of teams and team runs (sdk-compat §3 "POST /v1/sessions/:id/teams", "Team instance").

Each member has a `role` (unique in the team: the key of `agentOutputs`), an `agent`
reference (a definition id or name, an ad-hoc role name, or an inline agent config) and
`instructions` added to that agent's. A hierarchical team needs a lead (its first member)
and at least one specialist.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from theazo_emu.theazo.bodies.core import Body
from theazo_emu.theazo.bodies.tasks import MAX_TASK, AgentRef


class TeamMember(Body):
    role: str = Field(min_length=1, max_length=100)
    agent: AgentRef
    instructions: str = Field(default="", max_length=100_000)


class CreateTeam(Body):
    name: str = Field(min_length=1, max_length=200)
    agents: list[TeamMember] = Field(min_length=1, max_length=20)
    coordination: Literal["sequential", "collaborative", "hierarchical"]
    sharedContext: bool = True
    maxRounds: int = Field(default=1, ge=1, le=10)

    @model_validator(mode="after")
    def _members(self) -> "CreateTeam":
        roles = [m.role for m in self.agents]
        twice = sorted({r for r in roles if roles.count(r) > 1})
        if twice:
            raise ValueError(f"roles must be unique in a team ({twice[0]!r} is given twice)")
        if self.coordination == "hierarchical" and len(self.agents) < 2:
            raise ValueError("a hierarchical team needs a lead (its first agent) and at least one specialist")
        return self


class RunTeam(Body):
    task: str = Field(min_length=1, max_length=MAX_TASK)
