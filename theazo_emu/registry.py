"""The one registry of API families: each declared once, with its tables and timers.

A family is a module of routes (its `routes` list) on one surface. Its entry names the
tables it owns that hold tenant data and the `timers.TimerSource`s it brings, each as
(the table that holds a row once something can be due, "module:Class"). Everything else
derives from here: the route table core/routes.txt (`python -m theazo_emu.cli.regen`), the
lazy timers, the tables a reset or an export walks. Order matters twice: families are
matched in the order listed, and timers registered earlier fire first on a tie.

This module is data only: it imports nothing of the project, so the kernel may read it
while no family is loaded. Adding a family is one line here (docs/contributing.md, "Adding a family").
"""

from __future__ import annotations

from typing import NamedTuple


class Family(NamedTuple):  # a NamedTuple, not a dataclass: this module is on the start-up path
    module: str
    tables: tuple[str, ...] = ()
    timers: tuple[tuple[str, str], ...] = ()


def _theazo(name: str, *tables: str, timers: tuple[tuple[str, str], ...] = ()) -> Family:
    return Family(f"theazo_emu.theazo.routes.{name}", tables, timers)


THEAZO = (
    _theazo("sessions", "sessions"),
    _theazo("agents", "agents", "runs"),
    _theazo("agent_files", "agent_files"),
    _theazo("checkpoints", "checkpoints", "checkpoint_files"),
    _theazo("usage", "ledger"),
    _theazo("secrets", "secrets"),
    _theazo("providers", "providers"),
    _theazo("agent_definitions", "agent_definitions", "agent_definition_versions"),
    _theazo("billing"),
    _theazo("schedules", "schedules", "schedule_executions",
            timers=(("schedules", "theazo_emu.theazo.domain.scheduler:ScheduleTimer"),)),
    _theazo("triggers", "triggers"),
    _theazo("channels", "channels", "channel_threads", "channel_messages"),
    _theazo("workflows", "workflows", "workflow_runs", "workflow_tasks", "orch_events",
            timers=(("workflow_runs", "theazo_emu.theazo.domain.workflow.timers:WorkflowTimer"),)),
    _theazo("approvals", "approvals",
            timers=(("approvals", "theazo_emu.theazo.domain.workflow.timers:ApprovalTimer"),)),
    _theazo("fleets", "fleets", "fleet_items", timers=(("fleet_items", "theazo_emu.theazo.domain.fleets:FleetTimer"),)),
    _theazo("tasks", "session_tasks", timers=(("session_tasks", "theazo_emu.theazo.domain.tasks:TaskTimer"),)),
    _theazo("teams", "teams", "team_runs", "team_contributions",
            timers=(("team_contributions", "theazo_emu.theazo.domain.teams:TeamTimer"),)),
    _theazo("chat", "chat_conversations", "chat_messages", "chat_threads", "chat_handoffs"),
    _theazo("chat_messages"),
    _theazo("guardrails", "guardrail_configs", "guardrail_violations"),
    _theazo("agent_io", "agent_inputs", "agent_ports"),
    _theazo("knowledge", "knowledge_sources", "knowledge_chunks"),
    _theazo("files", "files"),
    _theazo("tools", "tools"),
    _theazo("mcp", "mcp_connections", "mcp_credentials", "mcp_server_configs"),
    _theazo("webhooks", "webhooks", "webhook_deliveries",
            timers=(("webhook_deliveries", "theazo_emu.theazo.domain.webhooks:DeliveryTimer"),)),
    _theazo("observability"),
    _theazo("sandbox"),
    _theazo("billing_account", "billing_accounts", "billing_checkouts"),
)


def _theo(name: str, *tables: str, timers: tuple[tuple[str, str], ...] = ()) -> Family:
    return Family(f"theazo_emu.theo.routes.{name}", tables, timers)


# The admin surface's families; a product's own controls (/_emu/theo) live in its slice.
ADMIN = (*(Family(f"theazo_emu.admin.routes.{name}")
           for name in ("control", "state", "fixtures", "record", "inspector", "ports")),
         Family("theazo_emu.theo.admin"), Family("theazo_emu.theo.staff", ("theo_connectors",)))
THEO = (
    _theo("discovery"),
    _theo("keys", "theo_keys"),
    _theo("completions", "theo_ledger", "theo_credits", "theo_events", "theo_cache"),
    _theo("chat"),
    _theo("conversations", "theo_conversations", "theo_messages"),
    _theo("audit", "theo_audit"),
    _theo("usage"),
    _theo("media", "theo_documents"),
    _theo("audio"),
    _theo("jobs", "theo_jobs", timers=(("theo_jobs", "theazo_emu.theo.domain.jobs:TheoJobTimer"),)),
    _theo("webhooks", "theo_webhooks", "theo_deliveries", "theo_delivery_attempts",
          timers=(("theo_deliveries", "theazo_emu.theo.domain.webhooks:TheoDeliveryTimer"),)),
    _theo("hooks", "theo_hooks", "theo_hook_executions"),
    _theo("workflows", "theo_workflows", "theo_workflow_runs",
          timers=(("theo_workflows", "theazo_emu.theo.domain.workflows:TheoWorkflowTimer"),)),
    _theo("skills", "theo_skills", "theo_skill_installs", "theo_skill_submissions", "theo_skill_versions",
          "theo_skill_reviews", "theo_skill_runs",
          timers=(("theo_skill_installs", "theazo_emu.theo.domain.triggers:SkillScheduleTimer"),)),
    _theo("orgs", "theo_orgs"),
    _theo("account", "theo_settings", "theo_rate_requests", "theo_billing_sessions"),
    _theo("browser", "theo_browser_sessions"),
    _theo("evi", "theo_canvases"),
    _theo("iframes", "theo_iframes"),
)
# Tenant tables of the kernel itself (the per-tenant id counters) and of the Theo surface's
# own middleware (its Idempotency-Key records), which belong to no family.
KERNEL_TABLES = ("counters", "theo_idempotency")

FAMILIES = (*THEAZO, *ADMIN, *THEO)
TIMERS = tuple(timer for family in FAMILIES for timer in family.timers)
TENANT_TABLES = (*(table for family in FAMILIES for table in family.tables), *KERNEL_TABLES)


# Where each product declares its tables (sqlite-utils migrations), in the order they run.
MIGRATIONS = ("theazo_emu.theazo.migrations", "theazo_emu.theo.migrations")

# Columns a later migration renamed, by table (old name -> new): a state document exported
# before the rename still imports (snapshot.py reads it under the new name).
RENAMED_COLUMNS = {
    "webhook_deliveries": {"response_status": "http_status", "event": "event_type"},  # m091
    "theo_deliveries": {"attempt": "attempts", "error_message": "error"},  # m126
}
