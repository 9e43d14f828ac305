"""Skill triggers and autonomous runs (skills/triggers-autonomous.mdx, the manifest's
`trigger`, `modelPreference` and `hooks`). Owns theo_skill_runs and the trigger columns of
theo_skill_installs (next_run_ms, consecutive_failures, paused_at).

A manifest's `trigger` is `manual` (the default), `keyword` (`config.keywords`: an installed
skill joins a completion only when the prompt holds one of them, as a whole word, any case;
without a keyword trigger an installed skill joins every completion), `schedule`
(`config.cron`, `config.timezone`) or `event` (`config.eventType`, a hook pattern, matched
against events published through POST /events, as event workflows are). Schedule and event
triggers need the `autonomous:run` permission (skills.trigger_problem: the review refuses
them otherwise) and run
the skill without a prompt: SkillScheduleTimer fires each cron occurrence on the virtual
clock. A run keeps the guard rails the docs list: it is skipped past the tenant's DAILY_CAP
runs of the UTC day or when a billed tenant has no credits (pre-flight); its steps (the model,
then each tool) stop at `config.maxSteps` (MAX_STEPS) or `config.maxSpendCents`
(MAX_SPEND_CENTS) and at the credit checkpoint between steps; every step is booked in the
ledger. A fault rule matching `RUN /api/v1/skills/<slug>/run` fails a run; PAUSE_AFTER
failures in a row pause the skill (no more runs) until it is installed again. The engine is
the manifest's `modelPreference` (completions that skill joins use it too, when they ask
for `auto` with no override), else Theo Flash. `hooks.onInstall` / `onUninstall` run as the
prompt of a run when the skill is installed or uninstalled. Runs are listed by
GET /_emu/theo/skill-runs and journaled as `theo_skill_run`.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.journal import record_event
from theazo_emu.core import cron
from theazo_emu.theo.domain import engines, hooks, ledger, skills
from theazo_emu.theo.domain.skills import DEFAULT_ENGINE
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.mock import generated

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Scoped, Store
    from theazo_emu.core.tenant import Tenant

RUNS = "theo_skill_runs"
DAILY_CAP = 50  # autonomous runs of a tenant per UTC day (virtual)
MAX_STEPS = 8  # steps of one run, unless config.maxSteps says fewer or more (at most 50)
MAX_SPEND_CENTS = 25  # spend of one run, unless config.maxSpendCents says otherwise
PAUSE_AFTER = 3  # failed runs in a row before the skill pauses
DAY_MS = 86_400_000


def trigger_of(skill: dict[str, Any]) -> dict[str, Any]:
    """A skill's trigger as its manifest declares it ({type: manual} when none)."""
    trigger = (skill.get("manifest") or {}).get("trigger")
    return trigger if isinstance(trigger, dict) else {"type": "manual"}


def _mentions(prompt: str, words: list[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", prompt, re.IGNORECASE) for word in words)


def joining(store: "Scoped", prompt: str) -> tuple[str, ...]:
    """The installed skills a completion of this prompt activates: every one that is not
    suspended, those with a keyword trigger only when the prompt mentions a keyword."""
    def joins(slug: str) -> bool:
        trigger = trigger_of(skills.by_slug(store, slug) or {})
        return trigger["type"] != "keyword" or _mentions(prompt, trigger["config"]["keywords"])
    return tuple(slug for slug in skills.installed_slugs(store) if joins(slug))


def preferred_engine(store: "Scoped", slugs: tuple[str, ...]) -> str | None:
    """The first `modelPreference` among these skills, or None."""
    for slug in slugs:
        skill = skills.by_slug(store, slug)
        preference = ((skill or {}).get("manifest") or {}).get("modelPreference")
        if preference in engines.BY_ID:
            return preference
    return None


def _next_run(skill: dict[str, Any], after_ms: int) -> int | None:
    trigger = trigger_of(skill)
    if trigger["type"] != "schedule" or skill["status"] != "active":
        return None
    config = trigger["config"]
    return cron.compile_cron(config["cron"], config.get("timezone")).next_after(after_ms)


def installed(t: "Tenant", skill: dict[str, Any]) -> None:
    """The skill was installed, or installed again (call inside the transaction): its schedule
    starts, a pause ends, and its onInstall hook runs."""
    t.store.execute("UPDATE theo_skill_installs SET next_run_ms = :next, consecutive_failures = 0, paused_at = NULL "
                    "WHERE tenant = :tenant AND skill_id = :skill", next=_next_run(skill, t.now_ms()), skill=skill["id"])
    t.changes.notify()  # the timers loop may have an earlier instant now
    hook = ((skill.get("manifest") or {}).get("hooks") or {}).get("onInstall")
    if isinstance(hook, str) and hook.strip():
        run(t, skill, "install", hook)


def uninstalled(t: "Tenant", skill: dict[str, Any]) -> None:
    """The skill was uninstalled (call inside the transaction): its onUninstall hook runs."""
    hook = ((skill.get("manifest") or {}).get("hooks") or {}).get("onUninstall")
    if isinstance(hook, str) and hook.strip():
        run(t, skill, "uninstall", hook)


def run_for_event(t: "Tenant", event: dict[str, Any]) -> list[dict[str, Any]]:
    """Run every installed, unpaused skill whose event trigger matches (call inside the transaction)."""
    rows = t.store.rows(skills.INSTALLS, "paused_at IS NULL", order="id")
    found = [skills.find(t.store, row["skill_id"]) for row in rows]
    due = [skill for skill in found if skill is not None and skill["status"] == "active"
           and trigger_of(skill)["type"] == "event" and hooks.matches(trigger_of(skill)["config"]["eventType"],
                                                                      event["type"])]
    return [run(t, skill, "event", f"Event {event['type']}: {json.dumps(event['data'])[:2000]}",
                event_id=event["id"]) for skill in due]


def _skipped(t: "Tenant", skill: dict[str, Any]) -> str | None:
    """Why the pre-flight checks refuse a run now (None: it may run)."""
    day_start = t.now_ms() // DAY_MS * DAY_MS
    today = t.store.count(RUNS, "status != 'skipped' AND created_at >= ?", [iso(day_start)])
    if today >= DAILY_CAP:
        return f"daily_cap: {DAILY_CAP} autonomous runs today already"
    balance = ledger.account(t)["balance_units"]
    if balance is not None and balance <= 0:
        return "insufficient_credits: the balance is used up"
    return None


def run(t: "Tenant", skill: dict[str, Any], trigger: str, prompt: str,
        event_id: str | None = None) -> dict[str, Any]:
    """One autonomous run of a skill under the guard rails (call inside a transaction): its row."""
    manifest = skill.get("manifest") or {}
    config = trigger_of(skill).get("config") or {}
    engine = engines.BY_ID[manifest.get("modelPreference") or DEFAULT_ENGINE]
    row = {"id": t.new_id("srun"), "skill_id": skill["id"], "slug": skill["slug"], "trigger": trigger,
           "event_id": event_id, "status": "completed", "model": engine.id, "steps": [], "cost_units": 0,
           "error": _skipped(t, skill), "created_at": t.now_iso()}
    if row["error"]:
        row["status"] = "skipped"
    elif (fault := _injected(t, skill["slug"])) is not None:
        row.update(status="failed", error=fault)
    else:
        _steps(t, skill, engine, prompt, config, row)
    t.store.insert(RUNS, row)
    _count(t, skill, row["status"])
    record_event(t, "theo_skill_run", tenant=t.name, runId=row["id"], slug=skill["slug"], trigger=trigger,
                 status=row["status"], error=row["error"])
    return row


def _steps(t: "Tenant", skill: dict[str, Any], engine: engines.Engine, prompt: str, config: dict[str, Any],
           row: dict[str, Any]) -> None:
    """The run's steps, the model's then each tool's, each booked, up to the caps."""
    answer = generated(t.settings.seed, Ask(prompt=prompt, mode="auto", resolved_mode=engine.mode, engine=engine.id,
                                            skills=(skill["slug"],)))
    step_units = max(1, engines.cost_units(engine, answer.prompt_tokens, answer.completion_tokens))
    names = ["model", *(f"tool:{tool['name']}" for tool in skill.get("tool_definitions") or [])]
    max_steps = int(config.get("maxSteps") or MAX_STEPS)
    max_units = round(float(config.get("maxSpendCents") or MAX_SPEND_CENTS) * engines.UNITS_PER_CENT)
    for index, name in enumerate(names):
        balance = ledger.account(t)["balance_units"]
        stop = (f"maxSteps: the run stopped after {max_steps} steps" if index >= max_steps
                else f"maxSpendCents: the next step would pass {engines.cents(max_units)} cents"
                if row["cost_units"] + step_units > max_units
                else "insufficient_credits: the credit checkpoint stopped the run"
                if balance is not None and balance < step_units else None)
        if stop:
            row.update(status="stopped", error=stop)
            return
        ledger.charge(t, {"id": t.new_id("srstep"), "tenant": t.name, "key_id": None, "kind": "autonomous",
                          "route": None, "mode": "auto", "resolved_mode": engine.mode, "model": engine.id,
                          "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
                          "cost_units": step_units, "cached": 0, "at_ms": t.now_ms(), "created_at": t.now_iso()})
        row["cost_units"] += step_units
        row["steps"].append({"name": name, "status": "completed",
                             "output": answer.content if name == "model" else f"{name[5:]} done (mock)"})


def _count(t: "Tenant", skill: dict[str, Any], status: str) -> None:
    """A failure grows the skill's run of failures (PAUSE_AFTER pauses it); anything that ran resets it."""
    if status == "skipped":
        return
    if status != "failed":
        t.store.execute("UPDATE theo_skill_installs SET consecutive_failures = 0 WHERE tenant = :tenant "
                        "AND skill_id = :skill", skill=skill["id"])
        return
    t.store.execute(
        "UPDATE theo_skill_installs SET consecutive_failures = consecutive_failures + 1, "
        "paused_at = CASE WHEN consecutive_failures + 1 >= :limit THEN :now ELSE paused_at END, "
        "next_run_ms = CASE WHEN consecutive_failures + 1 >= :limit THEN NULL ELSE next_run_ms END "
        "WHERE tenant = :tenant AND skill_id = :skill", limit=PAUSE_AFTER, now=t.now_iso(), skill=skill["id"])


def _injected(t: "Tenant", slug: str) -> str | None:
    """The message of a fault rule that fails this run (`RUN /api/v1/skills/<slug>/run`), or None."""
    path = f"/api/v1/skills/{slug}/run"
    rule = t.faults.pick("RUN", path, None)
    if rule is None:
        return None
    record_event(t, "fault", fault=rule.spec.fault, source=rule.id, method="RUN", path=path)
    return rule.spec.message or f"{rule.spec.fault} (injected by {rule.id})"


def run_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "skillId": row["skill_id"], "slug": row["slug"], "trigger": row["trigger"],
            "eventId": row["event_id"], "status": row["status"], "model": row["model"], "steps": row["steps"] or [],
            "costCents": engines.cents(row["cost_units"]), "error": row["error"], "createdAt": row["created_at"]}


def state_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """An install's trigger state."""
    return {"skillId": row["skill_id"], "slug": row["slug"],
            "nextRunAt": iso(row["next_run_ms"]) if row["next_run_ms"] is not None else None,
            "consecutiveFailures": row["consecutive_failures"], "pausedAt": row["paused_at"]}


class SkillScheduleTimer:
    """The timers.TimerSource of installed skills' schedule triggers: a cron occurrence falls due."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar(f"SELECT MIN(next_run_ms) FROM {skills.INSTALLS} WHERE paused_at IS NULL")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        rows = store.all(f"SELECT * FROM {skills.INSTALLS} WHERE paused_at IS NULL AND next_run_ms <= ? "
                             "ORDER BY next_run_ms, id", [at_ms])
        fired = []
        for row in rows:
            t = emu.tenant(row["tenant"])
            with store.atomic():
                skill = skills.find(t.store, row["skill_id"])
                following = _next_run(skill, row["next_run_ms"]) if skill else None
                t.store.update(skills.INSTALLS, row["id"], {"next_run_ms": following})
                if skill is None or skill["status"] != "active":
                    continue
                done = run(t, skill, "schedule", f"Scheduled run of {skill['name']} at {iso(row['next_run_ms'])}")
            fired.append({"type": "theo_skill_run", "runId": done["id"], "slug": skill["slug"],
                          "status": done["status"], "scheduledAt": iso(row["next_run_ms"])})
        return fired
