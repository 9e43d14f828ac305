"""The database's schema: the facts code needs about it, and how a database gets it.

The tables are declared as sqlite-utils migrations in migrations.py. `prepare()` gives a
connection the current schema: a fresh database loads data/schema.sql (those migrations'
frozen result) in one transaction; an older database file runs its pending migrations;
a current one is left alone. Every table holding tenant data has a `tenant` column and is
listed in TENANT_TABLES, so reset and export can find it; tables keyed by a parent
(run_events) say so in reset.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from importlib import resources

# Tables with a `tenant` column: what a per-tenant reset deletes.
TENANT_TABLES = (
    "runs",
    "agents",
    "sessions",
    "ledger",
    "counters",
    "secrets",
    "providers",
    "agent_definitions",
    "agent_definition_versions",
    "schedules",
    "schedule_executions",
    "triggers",
    "channels",
    "channel_threads",
    "channel_messages",
    "workflows",
    "workflow_runs",
    "workflow_tasks",
    "orch_events",
    "approvals",
    "fleets",
    "fleet_items",
    "agent_files",
    "checkpoints",
    "checkpoint_files",
)
# Columns holding JSON text, decoded on read and encoded on write (by store.py).
JSON_COLUMNS = {
    "action", "apr_modifications", "apr_params", "config", "data", "extra", "failure", "flt_agent",
    "flt_error", "flt_input", "flt_output", "limits", "metadata", "result", "secrets", "snapshot", "tools",
    "wf_error", "wf_input", "wf_output", "wf_spec", "wf_state",
}


@cache
def frozen() -> tuple[str, tuple[str, ...]]:
    """data/schema.sql, and the names of the migrations it contains."""
    sql = resources.files(__package__).joinpath("data/schema.sql").read_text(encoding="utf-8")
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

        from .migrations import migrations
        migrations.apply(Database(conn))
