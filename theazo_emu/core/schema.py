"""The database's schema: the facts code needs about it, and how a database gets it.

The tables are declared as sqlite-utils migrations (core/migrations.py, with each product's). `prepare()` gives a
connection the current schema: a fresh database loads core/schema.sql (those migrations'
frozen result) in one transaction; an older database file runs its pending migrations;
a current one is left alone. Every table holding tenant data has a `tenant` column and is
named by its family in registry.py, so reset and export can find it; tables keyed by a
parent (run_events) say so in reset. A test keeps the two in step.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from importlib import resources

# The columns of each table that hold JSON text, decoded on read and encoded on write by
# store.py. Declared per table, so a column name means JSON only in the tables listed here.
JSON: dict[str, frozenset[str]] = {table: frozenset(columns) for table, columns in {
    "agent_definition_versions": ("tools", "config", "metadata"),
    "agent_definitions": ("tools", "config", "metadata"),
    "agent_inputs": ("metadata",),
    "agents": ("tools", "secrets", "metadata", "config", "snapshot"),
    "approvals": ("apr_params", "apr_modifications"),
    "billing_accounts": ("subscription", "budget", "user_budget"),
    "channels": ("metadata", "config"),
    "chat_conversations": ("agent_ref", "profile", "metadata", "context"),
    "chat_handoffs": ("metadata",),
    "chat_messages": ("tool_calls", "attachments", "events"),
    "checkpoints": ("metadata",),
    "fleet_items": ("flt_input", "flt_output", "flt_error"),
    "fleets": ("flt_agent",),
    "guardrail_configs": ("config",),
    "knowledge_chunks": ("terms",),
    "knowledge_sources": ("config",),
    "mcp_connections": ("args", "tool_filter", "requires_approval", "catalogue", "discovered"),
    "mcp_server_configs": ("expose",),
    "orch_events": ("data",),
    "providers": ("config",),
    "run_events": ("data",),
    "runs": ("result",),
    "schedule_executions": ("failure",),
    "schedules": ("action", "metadata"),
    "session_tasks": ("agent_ref", "input"),
    "sessions": ("metadata", "limits"),
    "team_contributions": ("error",),
    "team_runs": ("stages", "error"),
    "teams": ("members",),
    "theo_audit": ("input_summary", "output_summary"),
    "theo_browser_sessions": ("pages",),
    "theo_cache": ("entry",),
    "theo_canvases": ("graph", "compiled_manifest", "compiled_steps"),
    "theo_events": ("data",),
    "theo_hooks": ("config",),
    "theo_idempotency": ("headers",),
    "theo_iframes": ("appearance", "behavior", "security"),
    "theo_jobs": ("params", "result"),
    "theo_keys": ("scopes", "allowed_origins"),
    "theo_messages": ("model", "tools", "artifacts", "follow_ups"),
    "theo_skill_submissions": ("manifest", "review"),
    "theo_skill_versions": ("manifest",),
    "theo_skill_runs": ("steps",),
    "theo_skills": ("tool_definitions", "manifest"),
    "theo_webhooks": ("event_types",),
    "theo_workflow_runs": ("trigger_data", "step_results"),
    "theo_workflows": ("trigger_config", "steps"),
    "tools": ("parameters", "handler"),
    "triggers": ("action", "metadata"),
    "webhooks": ("events",),
    "workflow_runs": ("wf_spec", "wf_input", "wf_state", "wf_output", "wf_error"),
    "workflows": ("wf_spec",),
}.items()}


@cache
def frozen() -> tuple[str, tuple[str, ...]]:
    """core/schema.sql, and the names of the migrations it contains."""
    sql = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    return sql, tuple(re.findall(r"^INSERT INTO _sqlite_migrations .* VALUES \('[^']*', '([^']+)'", sql, re.MULTILINE))


def prepare(conn: sqlite3.Connection) -> None:
    """Bring the database on `conn` (in autocommit mode) to the current schema."""
    sql, names = frozen()
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        try:
            conn.executescript(f"BEGIN;\n{sql}COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return
    applied = set()
    if "_sqlite_migrations" in tables:
        applied = {row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations")}
    if not applied.issuperset(names):
        from sqlite_utils import Database  # only an older file pays for importing sqlite-utils

        from theazo_emu.core.migrations import loaded
        loaded().apply(Database(conn))
