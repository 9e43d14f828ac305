"""Teams (sdk-compat §3 "POST /v1/sessions/:id/teams" and "Team instance").

Create answers the Team (201); run answers 202 with `runId` and the run as
GET /v1/team-runs/:runId shows it (`status`, `output`, `agentOutputs` by role, the
`contributions` so far, `totalCost` as a decimal string of cents as the SDK parses it,
`startedAt`, `completedAt`); cancel stops the team's running runs and answers their ids.
The coordination engine is domain/teams.py's.
"""

from __future__ import annotations

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies.teams import CreateTeam, RunTeam
from theazo_emu.theazo.domain import orchestration, teams
from theazo_emu.theazo.domain.teams import KIND, RUN_KIND, RUNS, TABLE, run_to_api, team_to_api
from theazo_emu.theazo.routes.sessions import load as load_session


def _team(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["team_id"], KIND)


async def create_team(ctx: Ctx) -> dict:
    """Create a team of agents with roles in the session (sequential, collaborative or hierarchical)."""
    body: CreateTeam = ctx.body
    session = load_session(ctx, ctx.params["session_id"])
    for index, member in enumerate(body.agents):
        orchestration.check_agent_ref(ctx.t, f"agents.{index}.agent", member.agent)
        orchestration.agent_request(ctx.t, member.agent)  # 422 on a bad inline config
    return team_to_api(teams.create(ctx.t, session, body))


async def run_team(ctx: Ctx) -> dict:
    """Run the team on a task: 202 with `runId`; poll GET /v1/team-runs/:runId."""
    body: RunTeam = ctx.body
    row = teams.start(ctx.t, _team(ctx), body.task)
    return run_to_api(ctx.t, row)


async def cancel_team(ctx: Ctx) -> dict:
    """Cancel the team's running runs (their agents are terminated)."""
    team = _team(ctx)
    return {"id": team["id"], "cancelled": teams.cancel(ctx.t, team)}


async def get_team_run(ctx: Ctx) -> dict:
    """A team run: status, output, per-role outputs, contributions, total cost."""
    return run_to_api(ctx.t, ctx.store.get(RUNS, ctx.params["run_id"], RUN_KIND))


routes = [
    api_route("/v1/sessions/{session_id}/teams", create_team, "POST", body=CreateTeam, status=201),
    api_route("/v1/teams/{team_id}/run", run_team, "POST", body=RunTeam, status=202),
    api_route("/v1/teams/{team_id}/cancel", cancel_team, "POST"),
    api_route("/v1/team-runs/{run_id}", get_team_run),
]
