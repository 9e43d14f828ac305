"""Teams: agents with roles working on one task, in stages on the virtual clock.

The SDK's `session.teams.create` and `team.run`/`team.cancel` (POST /v1/sessions/:id/teams,
POST /v1/teams/:id/run, /cancel, GET /v1/team-runs/:runId); the one writer of `teams`,
`team_runs` and `team_contributions`. A run is a fixed list of stages decided at its start:
- `sequential`: each member in order, once per round (each sees the contributions before it);
- `collaborative`: every member at once, once per round (each sees the earlier rounds);
- `hierarchical`: the first member (the lead) plans, the others carry it out at once, per
  round; then the lead compiles the final answer from their findings.
Every contribution is one agent run on a fresh agent (orchestration.spawn: limits, guardrails,
ledger as for any run; the member's instructions added to the agent's), terminated when its
run ends. `sharedContext` (default true) puts the earlier contributions in each brief. A
stage starts when the one before it has ended; a contribution that fails (or cannot start)
fails the run and stops the others. The run's output is its last contribution's;
`agentOutputs` maps each role to its latest output. `TeamTimer` wakes a run when one of
its contributions' timelines ends, so a whole run completes at submission under `--pace
instant`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain import definitions, guardrails, orchestration, pricing
from theazo_emu.theazo.domain.sessions import require_active

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

TABLE, RUNS, CONTRIBUTIONS = "teams", "team_runs", "team_contributions"
KIND, RUN_KIND = "team", "team run"
COORDINATIONS = ("sequential", "collaborative", "hierarchical")
FINAL = ("completed", "failed", "cancelled")
BRIEF_OUTPUT_CHARS = 600  # each earlier contribution is quoted up to this length in a brief


def team_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "agents": row["members"], "coordination": row["coordination"],
            "sharedContext": bool(row["shared_context"]), "maxRounds": row["max_rounds"],
            "sessionId": row["session_id"], "createdAt": row["created_at"]}


def plan_stages(coordination: str, members: int, rounds: int) -> list[list[list[Any]]]:
    """The stages of a run: lists of [member index, phase, round]."""
    if coordination == "sequential":
        return [[[m, "contribute", r]] for r in range(1, rounds + 1) for m in range(members)]
    if coordination == "collaborative":
        return [[[m, "discuss", r] for m in range(members)] for r in range(1, rounds + 1)]
    stages: list[list[list[Any]]] = []
    for r in range(1, rounds + 1):
        stages += [[[0, "plan", r]], [[m, "execute", r] for m in range(1, members)]]
    return [*stages, [[0, "compile", rounds]]]


def contribution_to_api(row: dict) -> dict[str, Any]:
    return {"role": row["role"], "member": row["member"], "phase": row["phase"], "round": row["round"],
            "stage": row["stage"], "agentId": row["agent_id"], "taskId": row["task_id"], "status": row["status"],
            "output": row["output"], "cost": pricing.cost(row["cost_cents"]), "error": row["error"],
            "startedAt": row["started_at"], "completedAt": row["completed_at"]}


def contributions(t: "Tenant", run_id: str) -> list[dict]:
    return t.store.rows(CONTRIBUTIONS, "run_id = ?", [run_id], order="seq")


def run_to_api(t: "Tenant", run: dict) -> dict[str, Any]:
    """The team run as the SDK polls it (`totalCost` a decimal string of cents), with the
    contributions so far."""
    parts = contributions(t, run["id"])
    outputs = {p["role"]: p["output"] for p in parts if p["status"] == "completed"}
    team = t.store.find(TABLE, "id = ?", [run["team_id"]], order=None, columns="coordination, max_rounds")
    body = {
        "id": run["id"], "runId": run["id"], "teamId": run["team_id"], "sessionId": run["session_id"],
        "status": run["status"], "task": run["task"], "coordination": team["coordination"] if team else None,
        "rounds": team["max_rounds"] if team else None, "output": run["output"], "agentOutputs": outputs,
        "contributions": [contribution_to_api(p) for p in parts], "totalCost": str(run["total_cents"]),
        "cost": pricing.cost(run["total_cents"]), "startedAt": run["started_at"], "completedAt": run["completed_at"],
    }
    if run["error"]:
        body["error"] = run["error"]
    return body


def _quote(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= BRIEF_OUTPUT_CHARS else text[: BRIEF_OUTPUT_CHARS - 1] + "…"


class _Run:
    """One team run, loaded: harvest, the next stage, and the briefs."""

    def __init__(self, t: "Tenant", row: dict) -> None:
        self.row, self.t = row, t
        self.now = self.t.now_ms()
        self.team = self.t.store.find(TABLE, "id = ?", [row["team_id"]], order=None)

    def parts(self, status: str | None = None) -> list[dict]:
        return [p for p in contributions(self.t, self.row["id"]) if status is None or p["status"] == status]

    def set_part(self, part: dict, **changes: Any) -> None:
        part.update(changes)
        self.t.store.update(CONTRIBUTIONS, part["id"], changes)

    def advance(self) -> None:
        """Harvest ended contributions and start the next stages, until nothing changes at
        this instant (under --pace instant the whole run ends here)."""
        while self.row["status"] == "running":
            for part in self.parts("running"):
                outcome = orchestration.task_outcome(self.t, part["task_id"])
                if outcome is not None:
                    self.finish(part, outcome)
            if self.row["status"] != "running" or self.parts("running"):
                break
            stages = self.row["stages"]
            if self.row["stage"] >= len(stages):
                self.complete()
                break
            self.dispatch(self.row["stage"])
            self.row["stage"] += 1
        self.save()

    def finish(self, part: dict, outcome: dict) -> None:
        orchestration.release(self.t, part["agent_id"])
        failed = outcome["error"] is not None
        self.set_part(part, status="failed" if failed else "completed", output=None if failed else outcome["text"],
                      error=outcome["error"], completed_at=iso(self.now))
        if failed:
            self.fail(part, outcome["error"])

    def fail(self, part: dict, error: dict) -> None:
        self.row["status"] = "failed"
        self.row["error"] = {"code": error.get("code", "failed"), "message": error.get("message", ""),
                             "role": part["role"]}
        self.stop("Stopped because another contribution failed.")
        self.row["completed_at"] = iso(self.now)

    def stop(self, reason: str) -> None:
        for other in self.parts("running"):
            orchestration.release(self.t, other["agent_id"])
            self.set_part(other, status="cancelled", error={"code": "cancelled", "message": reason},
                          completed_at=iso(self.now))

    def complete(self) -> None:
        last = self.parts()[-1]
        self.row.update(status="completed", output=last["output"], completed_at=iso(self.now))

    def dispatch(self, stage: int) -> None:
        earlier = self.parts("completed")
        members, tenant = self.team["members"], self.row["tenant"]
        session = self.t.store.find("sessions", "id = ?", [self.row["session_id"]], order=None)
        seq = len(self.parts())
        for member, phase, round_ in self.row["stages"][stage]:
            seq += 1
            spec = members[member]
            part = self.t.store.insert(CONTRIBUTIONS, {
                "id": f"{self.row['id']}/{seq}", "tenant": tenant, "run_id": self.row["id"], "seq": seq,
                "stage": stage, "round": round_, "member": member, "role": spec["role"], "phase": phase,
                "status": "running", "cost_cents": 0, "started_at": iso(self.now)})
            try:
                body = self.agent_body(spec)
                agent, run = orchestration.spawn(self.t, session, body, self.brief(member, phase, round_, earlier))
            except ApiError as exc:
                self.set_part(part, status="failed", error={"code": exc.code, "message": exc.message},
                              completed_at=iso(self.now))
                self.fail(part, {"code": exc.code, "message": exc.message})
                return
            cents = run["result"]["cost"]["amount"]
            self.row["total_cents"] += cents
            self.set_part(part, agent_id=agent["id"], task_id=run["id"], cost_cents=cents)

    def agent_body(self, spec: dict) -> Any:
        body = orchestration.agent_request(self.t, spec["agent"])
        base = body.instructions
        if base is None and body.definition:
            base = definitions.resolve_definition(self.t, body.definition)["instructions"]
        role = spec.get("instructions") or ""
        return body.model_copy(update={"instructions": "\n\n".join(t for t in (base, role) if t) or None})

    def brief(self, member: int, phase: str, round_: int, earlier: list[dict]) -> str:
        """The task one contribution runs: the team task from its role, and what it may see."""
        members, shared = self.team["members"], bool(self.team["shared_context"])
        role, rounds = members[member]["role"], self.team["max_rounds"]
        lines = [f"As the {role}: {self.row['task']}"]
        if rounds > 1 and phase != "compile":
            lines.append(f"Round {round_} of {rounds}.")
        seen = earlier
        if phase == "plan":
            others = ", ".join(m["role"] for m in members[1:])
            lines.append(f"You lead the team ({others}): plan the work and delegate it.")
        elif phase == "execute":
            plan = [p for p in earlier if p["phase"] == "plan" and p["round"] == round_]
            lines += [f"Your lead delegated: {_quote(p['output'])}" for p in plan]
            seen = [p for p in earlier if p["round"] < round_] if shared else []
        elif phase == "compile":
            lines.append("Compile the final answer from your specialists' findings.")
            seen = [p for p in earlier if p["phase"] == "execute"]
        elif phase == "discuss":
            seen = [p for p in earlier if p["round"] < round_]
        if (shared or phase == "compile") and seen:
            lines.append("Contributions so far:")
            lines += [f"- [{p['role']}] {_quote(p['output'])}" for p in seen]
        return "\n".join(lines)

    def save(self) -> None:
        self.t.store.update(RUNS, self.row["id"], {k: self.row[k] for k in (
            "status", "stage", "total_cents", "output", "error", "completed_at")})
        self.t.changes.notify()


def create(t: "Tenant", session: dict, body: Any) -> dict:
    """A team in the session (its agent references were checked by the caller)."""
    require_active(session, t.now_ms())
    with t.store.atomic():
        return t.store.insert(TABLE, {
            "id": t.new_id("team"), "tenant": t.name, "session_id": session["id"], "name": body.name,
            "members": [m.model_dump() for m in body.agents], "coordination": body.coordination,
            "shared_context": int(body.sharedContext), "max_rounds": body.maxRounds, "created_at": t.now_iso()})


def start(t: "Tenant", team: dict, task: str) -> dict:
    """A run of the team on `task`; its first stage starts now."""
    tenant, now = t.name, t.now_ms()
    session = t.store.get("sessions", team["session_id"], "session")
    require_active(session, now)
    guardrails.check_input(t, task, field="task", source="team", session_id=session["id"])
    with t.store.atomic():
        row = t.store.insert(RUNS, {
            "id": t.new_id("trun"), "tenant": tenant, "team_id": team["id"], "session_id": session["id"],
            "task": task, "status": "running",
            "stages": plan_stages(team["coordination"], len(team["members"]), team["max_rounds"]),
            "stage": 0, "total_cents": 0, "output": None, "error": None, "started_at": iso(now),
            "completed_at": None})
        _Run(t, row).advance()
    return row


def cancel(t: "Tenant", team: dict) -> list[str]:
    """Cancel the team's running runs (their agents are terminated); their ids."""
    ids = []
    with t.store.atomic():
        for row in t.store.rows(RUNS, "team_id = ? AND status = 'running'", [team["id"]]):
            run = _Run(t, row)
            run.stop("Cancelled by request.")
            row.update(status="cancelled", completed_at=iso(run.now))
            run.save()
            ids.append(row["id"])
    return ids


class TeamTimer:
    """The timers.TimerSource of teams: a contribution's run timeline ends."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar("SELECT MIN(r.end_ms) FROM team_contributions c JOIN runs r ON r.id = c.task_id "
                            "WHERE c.status = 'running' AND r.end_ms IS NOT NULL")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        ids = [r["run_id"] for r in store.all(
            "SELECT DISTINCT c.run_id FROM team_contributions c JOIN runs r ON r.id = c.task_id "
            "WHERE c.status = 'running' AND r.end_ms <= ? ORDER BY 1", [at_ms])]
        fired: list[dict[str, Any]] = []
        for run_id in ids:
            row = store.one("SELECT * FROM team_runs WHERE id = ?", [run_id])
            if row is None:
                continue
            with store.atomic():
                _Run(emu.tenant(row["tenant"]), row).advance()
            fired.append({"type": "team", "runId": run_id, "status": row["status"], "stage": row["stage"]})
        return fired
