"""The database schema, declared explicitly as sqlite-utils migrations.

Every table is created here with its primary key, NOT NULL columns and defaults; nothing
else creates tables or columns. Each API family appends its own migration function
(names are unique and never change once released, since persisted databases record them).
Every table holding tenant data has a `tenant` column and is named by its family in registry.py;
its JSON columns are declared in schema.JSON.

A fresh database does not replay these: it loads data/schema.sql, their frozen result
(`python -m theazo_emu.regen` rewrites it; a test keeps the two equal). They run
only to bring an older database file up to date, so sqlite-utils stays off the start-up
path.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("theazo_emu")


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


@migrations()
def m010_secrets_providers(db: Database) -> None:
    # Values and credentials are AES-GCM ciphertexts (crypto.py), never plaintext.
    db["crypto_meta"].create({"name": str, "value": str}, pk="name", not_null={"value"})
    db["secrets"].create(
        {"id": str, "tenant": str, "scope": str, "name": str, "ciphertext": str,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "scope", "name", "ciphertext", "created_at", "updated_at"},
    )
    db["secrets"].create_index(["tenant", "scope", "name"], unique=True)
    db["providers"].create(
        {"id": str, "tenant": str, "provider": str, "ciphertext": str, "credential_ref": str,
         "config": str, "is_default": int, "status": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "provider", "is_default", "status", "created_at", "updated_at"},
        defaults={"is_default": 0, "status": "active"},
    )
    db["providers"].create_index(["tenant", "provider"], unique=True)


# The settings an agent definition carries; the head row holds the latest version's copy.
_DEFINITION_SETTINGS = {
    "name": str, "description": str, "instructions": str, "tools": str, "model": str, "compute": str,
    "provider": str, "browser": int, "timeout_s": int, "config": str, "metadata": str,
}


@migrations()
def m020_agent_definitions(db: Database) -> None:
    db["agent_definitions"].create(
        {"id": str, "tenant": str, "version": int, **_DEFINITION_SETTINGS, "archived": int, "archived_at": str,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "version", "name", "archived", "created_at", "updated_at"},
        defaults={"archived": 0},
    )
    db["agent_definitions"].create_index(["tenant", "id"])
    db["agent_definition_versions"].create(
        {"definition_id": str, "version": int, "tenant": str, **_DEFINITION_SETTINGS, "changelog": str,
         "created_at": str},
        pk=("definition_id", "version"), not_null={"tenant", "name", "created_at"},
    )


@migrations()
def m030_orchestration(db: Database) -> None:
    # Schedules fire from `next_run_ms` (indexed; NULL while paused); history is one row per firing.
    db["schedules"].create(
        {"id": str, "tenant": str, "name": str, "cron": str, "timezone": str, "status": str, "action": str,
         "metadata": str, "next_run_ms": int, "last_run_ms": int, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "cron", "status", "action", "created_at", "updated_at"},
    )
    db["schedules"].create_index(["next_run_ms"])
    db["schedules"].create_index(["tenant", "id"])
    db["schedule_executions"].create(
        {"id": str, "tenant": str, "schedule_id": str, "scheduled_ms": int, "started_ms": int, "status": str,
         "task_id": str, "agent_id": str, "session_id": str, "workflow_run_id": str, "failure": str},
        pk="id", not_null={"tenant", "schedule_id", "scheduled_ms", "started_ms", "status"},
    )
    db["schedule_executions"].create_index(["schedule_id", "id"])
    # The signing secret is sealed by emu.cipher, never stored in the clear.
    db["triggers"].create(
        {"id": str, "tenant": str, "name": str, "type": str, "action": str, "metadata": str,
         "secret_sealed": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "type", "action", "secret_sealed", "created_at", "updated_at"},
    )
    db["triggers"].create_index(["tenant", "id"])
    db["channels"].create(
        {"id": str, "tenant": str, "name": str, "type": str, "definition_id": str, "instructions": str,
         "metadata": str, "config": str, "enabled": int, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "type", "enabled", "created_at", "updated_at"},
        defaults={"enabled": 1},
    )
    db["channels"].create_index(["tenant", "id"])
    db["channel_threads"].create(
        {"id": str, "tenant": str, "channel_id": str, "user_id": str, "agent_id": str, "session_id": str,
         "message_count": int, "started_at": str, "last_message_at": str},
        pk="id", not_null={"tenant", "channel_id", "user_id", "message_count", "started_at"},
        defaults={"message_count": 0},
    )
    db["channel_threads"].create_index(["channel_id", "id"])
    db["channel_messages"].create(
        {"id": str, "tenant": str, "channel_id": str, "thread_id": str, "role": str, "content": str,
         "created_at": str},
        pk="id", not_null={"tenant", "channel_id", "thread_id", "role", "content", "created_at"},
    )
    db["channel_messages"].create_index(["channel_id", "id"])
    db["channel_messages"].create_index(["thread_id", "id"])


@migrations()
def m040_workflows_fleets(db: Database) -> None:
    # Workflows keep their steps as sent (`wf_spec`); a run snapshots the spec it executes, so
    # PATCH (a new version) never changes a run in flight. `wake_ms` is the run's next
    # virtual instant (delays, retries, timeout); agent steps wait on `workflow_tasks`.
    db["workflows"].create(
        {"id": str, "tenant": str, "name": str, "description": str, "version": int, "wf_spec": str,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "version", "wf_spec", "created_at", "updated_at"},
    )
    db["workflows"].create_index(["tenant", "id"])
    db["workflow_runs"].create(
        {"id": str, "tenant": str, "workflow_id": str, "workflow_version": int, "user_id": str,
         "session_id": str, "status": str, "wf_spec": str, "wf_input": str, "wf_state": str, "wf_output": str,
         "wf_error": str, "total_cents": int, "idempotency_key": str, "current_step_id": str,
         "can_retry_from": str, "created_at": str, "started_at": str, "completed_at": str, "started_ms": int,
         "wake_ms": int, "event_seq": int},
        pk="id", not_null={"tenant", "workflow_id", "status", "wf_spec", "wf_state", "total_cents", "created_at",
                           "event_seq"},
        defaults={"total_cents": 0, "event_seq": 0},
    )
    db["workflow_runs"].create_index(["tenant", "workflow_id"])
    db["workflow_runs"].create_index(["wake_ms"])
    db["workflow_runs"].create_index(["tenant", "workflow_id", "idempotency_key"], unique=True)
    db["workflow_tasks"].create(
        {"task_id": str, "tenant": str, "run_id": str, "node_key": str, "done": int},
        pk="task_id", not_null={"tenant", "run_id", "node_key", "done"}, defaults={"done": 0},
    )
    db["workflow_tasks"].create_index(["done"])
    # Events of workflow runs and fleets, released at their virtual instant (like run_events).
    db["orch_events"].create(
        {"owner_id": str, "seq": int, "tenant": str, "event": str, "data": str, "at_ms": int},
        pk=("owner_id", "seq"), not_null={"tenant", "event", "data", "at_ms"},
    )
    db["approvals"].create(
        {"id": str, "tenant": str, "session_id": str, "user_id": str, "agent_id": str, "run_id": str,
         "step_id": str, "node_key": str, "action_name": str, "apr_params": str, "status": str,
         "default_action": str, "requested_at": str, "expires_at": str, "expires_ms": int, "resolved_at": str,
         "resolved_by": str, "apr_modifications": str, "reason": str},
        pk="id", not_null={"tenant", "action_name", "status", "requested_at", "expires_at", "expires_ms"},
    )
    db["approvals"].create_index(["tenant", "id"])
    db["approvals"].create_index(["status", "expires_ms"])
    db["fleets"].create(
        {"id": str, "tenant": str, "session_id": str, "user_id": str, "flt_agent": str, "concurrency": int,
         "timeout_s": int, "max_cents": int, "failure_policy": str, "status": str, "total": int,
         "total_cents": int, "event_seq": int, "created_at": str, "updated_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "session_id", "flt_agent", "concurrency", "failure_policy", "status", "total",
                           "total_cents", "event_seq", "created_at", "updated_at"},
        defaults={"total_cents": 0, "event_seq": 0},
    )
    db["fleets"].create_index(["tenant", "id"])
    db["fleet_items"].create(
        {"id": str, "fleet_id": str, "item_index": int, "tenant": str, "flt_input": str, "status": str,
         "task_id": str, "agent_id": str, "flt_output": str, "cost_cents": int, "duration_ms": int,
         "flt_error": str, "started_at": str, "completed_at": str},
        pk="id", not_null={"fleet_id", "item_index", "tenant", "status", "cost_cents"}, defaults={"cost_cents": 0},
    )
    db["fleet_items"].create_index(["fleet_id", "item_index"], unique=True)
    db["fleet_items"].create_index(["status"])



@migrations()
def m050_agent_files(db: Database) -> None:
    # The files an agent's sandbox holds (POST/GET /v1/agents/:id/files): bytes as written.
    db["agent_files"].create(
        {"agent_id": str, "path": str, "tenant": str, "content": bytes, "encoding": str, "size": int,
         "modified_at": str},
        pk=("agent_id", "path"), not_null={"tenant", "content", "encoding", "size", "modified_at"},
    )
    db["agent_files"].create_index(["tenant", "agent_id"])


@migrations()
def m060_checkpoints(db: Database) -> None:
    # An agent's checkpoints, each with a copy of its files at that instant; `used_seq` orders
    # them by when each was made or last resumed from (the agent's phase is the latest one's).
    db["checkpoints"].create(
        {"id": str, "tenant": str, "agent_id": str, "snapshot_id": str, "phase": str, "progress": float,
         "metadata": str, "created_at": str, "used_seq": int},
        pk="id", not_null={"tenant", "agent_id", "snapshot_id", "progress", "created_at", "used_seq"},
    )
    db["checkpoints"].create_index(["agent_id", "id"])
    db["checkpoint_files"].create(
        {"checkpoint_id": str, "path": str, "tenant": str, "content": bytes, "encoding": str, "size": int,
         "modified_at": str},
        pk=("checkpoint_id", "path"), not_null={"tenant", "content", "encoding", "size", "modified_at"},
    )


@migrations()
def m090_agent_references(db: Database) -> None:
    # Schedules, triggers and channels name their agent by definition id or name, resolved when
    # they run: a channel keeps the SDK's reference as given, and a firing records what it ran
    # and how it was resolved ("definition", or "default" for a name no definition has).
    db["channels"].add_column("agent", str)
    db["schedule_executions"].add_column("agent", str)
    db["schedule_executions"].add_column("agent_config", str)


def dump() -> str:
    """The schema these migrations build on an empty database, as data/schema.sql."""
    import sqlite3

    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(Database(conn))
    objects = conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                           "ORDER BY rowid").fetchall()
    names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    lines = ["-- The schema for a fresh database: the frozen result of the migrations in migrations.py.",
             "-- Rewritten by `python -m theazo_emu.regen`; tests/test_schema.py keeps it equal to them."]
    lines += [f"{sql};" for (sql,) in objects]
    lines += [f"INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
              f"VALUES ('{migrations.name}', '{name}', '{FROZEN}');" for name in names]
    return "\n".join(lines) + "\n"


FROZEN = "data/schema.sql"  # the applied_at of migrations a fresh database took from the dump
