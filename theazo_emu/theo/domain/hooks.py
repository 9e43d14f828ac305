"""Hooks: an event pattern that runs a skill when an event matches, with a cooldown.

theo-api.md §1.3. Owns theo_hooks and theo_hook_executions. A hook is made from one of the
five presets or from its own `event_pattern`: an exact name (`order.created`), a `*` glob
within one segment (`order.*.completed`), a bare prefix (a pattern of one segment: `share`
matches `share` and `share.accepted`),
or `*` for everything. `fire` (called by events.publish for every event) runs each enabled
matching hook: an execution row `completed` (the skill's run is mocked), or `skipped` while
the hook's cooldown since its last firing has not passed (virtual time). Only hooks that ran
count as matched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, EXECUTIONS, KIND = "theo_hooks", "theo_hook_executions", "hook"
PRESETS = (
    {"id": "share.accepted.welcome", "event_pattern": "share.accepted", "default_skill": "welcome-message",
     "description": "Welcome a collaborator when they accept a share."},
    {"id": "task.overdue.summary", "event_pattern": "task.overdue", "default_skill": "task-summary",
     "description": "Summarise an overdue task and suggest next steps."},
    {"id": "project.created.suggestions", "event_pattern": "project.created", "default_skill": "project-kickoff",
     "description": "Suggest a plan when a project is created."},
    {"id": "team.member_joined.onboarding", "event_pattern": "team.member_joined", "default_skill": "team-onboarding",
     "description": "Onboard a new team member."},
    {"id": "document.analyzed.followup", "event_pattern": "document.analyzed", "default_skill": "document-followup",
     "description": "Follow up on the findings of an analysed document."},
)
PRESETS_BY_ID = {preset["id"]: preset for preset in PRESETS}
PATTERN = re.compile(r"^(\*|[A-Za-z0-9_-]+)(\.(\*|[A-Za-z0-9_-]+))*$")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    if pattern == "*":
        return re.compile(r".*")
    body = r"\.".join("[^.]+" if part == "*" else re.escape(part) for part in pattern.split("."))
    return re.compile(rf"^{body}(\..+)?$" if "." not in pattern and "*" not in pattern else rf"^{body}$")


def matches(pattern: str, event_type: str) -> bool:
    """Exact, a segment glob, a bare prefix (one segment: `share` matches `share.accepted`), or `*`."""
    return bool(_regex(pattern).match(event_type))


def hook_to_api(row: dict[str, Any]) -> dict[str, Any]:
    last = iso(row["last_fired_ms"]) if row["last_fired_ms"] is not None else None
    return {"id": row["id"], "hook_preset_id": row["hook_preset_id"], "event_pattern": row["event_pattern"],
            "skill_slug": row["skill_slug"], "enabled": bool(row["enabled"]),
            "cooldown_minutes": row["cooldown_minutes"], "config": row["config"] or {},
            "consecutive_failures": row["consecutive_failures"], "last_fired_at": last,
            "created_at": row["created_at"], "updated_at": row["updated_at"],
            "hookPresetId": row["hook_preset_id"], "eventPattern": row["event_pattern"],
            "skillSlug": row["skill_slug"], "cooldownMinutes": row["cooldown_minutes"],
            "createdAt": row["created_at"]}


def execution_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "hookId": row["hook_id"], "status": row["status"], "eventId": row["event_id"],
            "eventType": row["event_type"], "error": row["error"], "createdAt": row["created_at"],
            "completedAt": row["completed_at"]}


def fire(t: "Tenant", event: dict[str, Any]) -> int:
    """Run the tenant's enabled hooks matching the event (call inside its transaction);
    how many ran."""
    hooks = t.store.rows(TABLE, "enabled = 1")
    now, ran = t.now_ms(), 0
    for hook in hooks:
        if not matches(hook["event_pattern"], event["type"]):
            continue
        cooling = (hook["cooldown_minutes"] and hook["last_fired_ms"] is not None
                   and now - hook["last_fired_ms"] < hook["cooldown_minutes"] * 60_000)
        t.store.insert(EXECUTIONS, {
            "id": t.new_id("hexe"), "hook_id": hook["id"], "event_id": event["id"],
            "event_type": event["type"], "status": "skipped" if cooling else "completed",
            "error": "cooldown: the hook fired less than cooldown_minutes ago" if cooling else None,
            "created_at": iso(now), "completed_at": iso(now)})
        if not cooling:
            t.store.update(TABLE, hook["id"], {"last_fired_ms": now})
            ran += 1
    return ran
