"""The database schema, declared explicitly as sqlite-utils migrations.

Every table is created here with its primary key, NOT NULL columns and defaults; nothing
else creates tables or columns. Each API family appends its own migration function
(names are unique and never change once released, since persisted databases record them).
Every table holding tenant data has a `tenant` column and is listed in TENANT_TABLES, so
reset and export can find it; tables keyed by a parent (run_events) say so in reset.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("theazo_emu")

# Tables with a `tenant` column: what a per-tenant reset deletes.
TENANT_TABLES = ["runs", "agents", "sessions", "ledger", "counters"]
# Columns holding JSON text, decoded on read and encoded on write (by store.py).
JSON_COLUMNS = {"metadata", "limits", "tools", "secrets", "config", "snapshot", "result", "data", "extra"}


migrations = Migrations("theazo_emu")

# Columns holding JSON text, decoded on read and encoded on write.
TENANT_TABLES = ("runs", "agents", "sessions", "ledger", "counters")
JSON_COLUMNS = {"metadata", "limits", "tools", "secrets", "config", "snapshot", "result", "data", "extra"}


@migrations()
def m001_core(db: Database) -> None:
    db["counters"].create({"tenant": str, "seq": int}, pk="tenant", not_null={"seq"})
    db["sessions"].create(
        {
            "id": str, "tenant": str, "user_id": str, "status": str, "environment": str,
            "metadata": str, "limits": str, "created_at": str, "updated_at": str,
            "paused_at": str, "terminated_at": str, "auto_pause_at_ms": int,
        },
        pk="id", not_null={"tenant", "user_id", "status", "created_at"},
    )
    db["sessions"].create_index(["tenant", "id"])
    db["sessions"].create_index(["tenant", "user_id"])
    db["agents"].create(
        {
            "id": str, "tenant": str, "session_id": str, "user_id": str, "status": str,
            "provider": str, "compute": str, "model": str, "browser": int, "region": str,
            "instructions": str, "tools": str, "timeout_s": int, "definition_id": str,
            "definition_version": int, "secrets": str, "metadata": str, "config": str,
            "snapshot": str, "current_task_id": str, "busy_until_ms": int,
            "created_at": str, "updated_at": str, "terminated_at": str,
        },
        pk="id", not_null={"tenant", "session_id", "status", "created_at"},
    )
    db["agents"].create_index(["tenant", "id"])
    db["agents"].create_index(["tenant", "session_id"])
    db["runs"].create(
        {
            "id": str, "tenant": str, "agent_id": str, "session_id": str, "user_id": str,
            "task": str, "status": str, "outcome": str, "result": str,
            "created_at": str, "start_ms": int, "end_ms": int, "paused_offset_ms": int,
            "delivered": int,
        },
        pk="id", not_null={"tenant", "agent_id", "status", "created_at"},
        defaults={"delivered": 0},
    )
    db["runs"].create_index(["tenant", "agent_id"])
    db["run_events"].create(
        {"run_id": str, "seq": int, "event": str, "data": str, "offset_ms": int, "at_ms": int},
        pk=("run_id", "seq"), not_null={"event", "data", "offset_ms"},
    )
    db["ledger"].create(
        {
            "id": int, "tenant": str, "user_id": str, "session_id": str, "agent_id": str,
            "run_id": str, "model": str, "provider": str, "kind": str, "quantity": float,
            "input_tokens": int, "output_tokens": int, "calls": int, "amount": int,
            "at": str, "at_ms": int,
        },
        pk="id", not_null={"tenant", "kind", "amount", "at", "at_ms"},
    )
    db["ledger"].create_index(["tenant", "at_ms"])
    db["ledger"].create_index(["tenant", "session_id"])


@migrations()
def m002_clock(db: Database) -> None:
    # One row: the virtual time when it last moved, so a --db file restarts where it stood.
    db["clock"].create({"id": int, "now_ms": int}, pk="id", not_null={"now_ms"})
