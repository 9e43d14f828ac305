"""Theazo's tables, declared as sqlite-utils migrations (core/migrations.py says how they
are kept). m001 and m002 also created the kernel's own tables (counters, clock): Theazo came
first, and a migration's name and content never change once released.
"""

from __future__ import annotations

from sqlite_utils import Database

from theazo_emu.core.migrations import migrations


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
def m070_session_tasks(db: Database) -> None:
    # Session tasks and one-shot session runs: one row per task, keyed by its run's id; the
    # status is the run's while `status` is 'open', then the final one the harvest wrote.
    db["session_tasks"].create(
        {"id": str, "tenant": str, "session_id": str, "agent_id": str, "kind": str, "agent_ref": str,
         "input": str, "priority": str, "webhook": str, "status": str, "created_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "session_id", "agent_id", "kind", "priority", "status", "created_at"},
    )
    db["session_tasks"].create_index(["tenant", "session_id", "id"])
    db["session_tasks"].create_index(["status"])

@migrations()
def m071_teams(db: Database) -> None:
    # A team, its runs, and each run's contributions (one agent run each), in stage order.
    db["teams"].create(
        {"id": str, "tenant": str, "session_id": str, "name": str, "members": str, "coordination": str,
         "shared_context": int, "max_rounds": int, "created_at": str},
        pk="id", not_null={"tenant", "session_id", "name", "members", "coordination", "shared_context",
                           "max_rounds", "created_at"},
    )
    db["team_runs"].create(
        {"id": str, "tenant": str, "team_id": str, "session_id": str, "task": str, "status": str, "stages": str,
         "stage": int, "total_cents": int, "output": str, "error": str, "started_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "team_id", "session_id", "task", "status", "stages", "stage", "total_cents",
                           "started_at"},
        defaults={"stage": 0, "total_cents": 0},
    )
    db["team_runs"].create_index(["team_id", "status"])
    db["team_contributions"].create(
        {"id": str, "tenant": str, "run_id": str, "seq": int, "stage": int, "round": int, "member": int,
         "role": str, "phase": str, "agent_id": str, "task_id": str, "status": str, "output": str,
         "cost_cents": int, "error": str, "started_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "run_id", "seq", "stage", "round", "member", "role", "phase", "status",
                           "cost_cents"},
        defaults={"cost_cents": 0},
    )
    db["team_contributions"].create_index(["run_id", "seq"], unique=True)
    db["team_contributions"].create_index(["status"])

@migrations()
def m072_chat(db: Database) -> None:
    # Conversations with the agent profile that answers them; messages carry their stream's
    # frames (`events`, offsets from `stream_ms`) so a stream replays what the reply settled.
    db["chat_conversations"].create(
        {"id": str, "tenant": str, "session_id": str, "user_id": str, "agent_ref": str, "profile": str,
         "title": str, "metadata": str, "context": str, "system_prompt": str, "knowledge": str, "status": str,
         "message_count": int, "total_cents": int, "last_message_at": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "session_id", "user_id", "profile", "status", "message_count", "total_cents",
                           "created_at", "updated_at"},
        defaults={"message_count": 0, "total_cents": 0},
    )
    db["chat_conversations"].create_index(["tenant", "session_id", "id"])
    db["chat_messages"].create(
        {"id": str, "tenant": str, "conversation_id": str, "thread_id": str, "role": str, "content": str,
         "tool_calls": str, "attachments": str, "cost_cents": int, "token_count": int, "events": str,
         "stream_ms": int, "created_at": str},
        pk="id", not_null={"tenant", "conversation_id", "role", "attachments", "cost_cents", "created_at"},
        defaults={"cost_cents": 0},
    )
    db["chat_messages"].create_index(["conversation_id", "id"])
    db["chat_messages"].create_index(["tenant", "id"])
    db["chat_threads"].create(
        {"id": str, "tenant": str, "conversation_id": str, "parent_message_id": str, "title": str,
         "created_at": str},
        pk="id", not_null={"tenant", "conversation_id", "parent_message_id", "created_at"},
    )
    db["chat_threads"].create_index(["conversation_id", "id"])
    db["chat_handoffs"].create(
        {"id": str, "tenant": str, "conversation_id": str, "reason": str, "to_target": str, "metadata": str,
         "status": str, "requested_at": str, "resolved_at": str},
        pk="id", not_null={"tenant", "conversation_id", "reason", "to_target", "status", "requested_at"},
    )
    db["chat_handoffs"].create_index(["conversation_id", "id"])

@migrations()
def m073_guardrails(db: Database) -> None:
    # One configuration per tenant; violations carry the virtual instant they happen at (a
    # run's output-side violation happens where its timeline is cut, possibly later than now).
    db["guardrail_configs"].create({"tenant": str, "config": str, "updated_at": str}, pk="tenant",
                                   not_null={"config", "updated_at"})
    db["guardrail_violations"].create(
        {"id": str, "tenant": str, "type": str, "message": str, "source": str, "agent_id": str,
         "session_id": str, "task_id": str, "conversation_id": str, "at_ms": int, "timestamp": str},
        pk="id", not_null={"tenant", "type", "message", "source", "at_ms", "timestamp"},
    )
    db["guardrail_violations"].create_index(["tenant", "at_ms"])

@migrations()
def m074_agent_io(db: Database) -> None:
    # Input sent to an agent (delivered into a run's events, or queued for its next run) and
    # the ports it exposed.
    db["agent_inputs"].create(
        {"id": str, "tenant": str, "agent_id": str, "task_id": str, "type": str, "content": str, "metadata": str,
         "status": str, "created_at": str},
        pk="id", not_null={"tenant", "agent_id", "type", "content", "status", "created_at"},
    )
    db["agent_inputs"].create_index(["agent_id", "status"])
    db["agent_ports"].create(
        {"agent_id": str, "port": int, "tenant": str, "created_at": str},
        pk=("agent_id", "port"), not_null={"tenant", "created_at"},
    )

@migrations()
def m080_knowledge(db: Database) -> None:
    # A user's knowledge base: each source (an upload or a sync) and the chunks retrieval
    # scores (`terms`: the chunk's term counts, so a query never re-tokenizes the corpus).
    db["knowledge_sources"].create(
        {"id": str, "tenant": str, "user_id": str, "collection": str, "origin": str, "name": str,
         "mime_type": str, "config": str, "sync_schedule": str, "file_id": str, "chunk_count": int,
         "token_count": int, "bytes": int, "ready_ms": int, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "user_id", "collection", "origin", "name", "chunk_count", "token_count",
                           "bytes", "ready_ms", "created_at", "updated_at"},
    )
    db["knowledge_sources"].create_index(["tenant", "user_id", "collection"])
    db["knowledge_chunks"].create(
        {"source_id": str, "chunk": int, "tenant": str, "user_id": str, "collection": str, "content": str,
         "terms": str, "length": int, "tokens": int},
        pk=("source_id", "chunk"), not_null={"tenant", "user_id", "collection", "content", "terms", "length",
                                             "tokens"},
    )
    db["knowledge_chunks"].create_index(["tenant", "user_id", "collection"])

@migrations()
def m081_files(db: Database) -> None:
    # Files uploaded through /v1/files, bytes as sent; signed URLs are computed, not stored.
    db["files"].create(
        {"id": str, "tenant": str, "user_id": str, "filename": str, "mime_type": str, "size": int,
         "purpose": str, "agent_id": str, "session_id": str, "content": bytes, "collection": str,
         "knowledge_source_id": str, "created_at": str},
        pk="id", not_null={"tenant", "user_id", "filename", "size", "purpose", "content", "created_at"},
    )
    db["files"].create_index(["tenant", "id"])

@migrations()
def m082_tools_mcp(db: Database) -> None:
    # Custom tools, MCP connections (headers sealed), per-user MCP credentials (sealed) and
    # the tenant's own MCP server configuration.
    db["tools"].create(
        {"name": str, "tenant": str, "description": str, "parameters": str, "handler": str,
         "requires_approval": int, "created_at": str, "updated_at": str},
        pk=("tenant", "name"), not_null={"description", "parameters", "handler", "requires_approval",
                                         "created_at", "updated_at"},
    )
    db["mcp_connections"].create(
        {"id": str, "tenant": str, "name": str, "transport": str, "url": str, "command": str, "args": str,
         "headers_sealed": str, "credentials_type": str, "tool_filter": str, "requires_approval": str,
         "catalogue": str, "discovered": str, "last_health_check": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "transport", "credentials_type", "requires_approval", "catalogue",
                           "discovered", "created_at", "updated_at"},
    )
    db["mcp_connections"].create_index(["tenant", "name"], unique=True)
    db["mcp_credentials"].create(
        {"connection_id": str, "user_id": str, "tenant": str, "sealed": str, "created_at": str,
         "updated_at": str},
        pk=("connection_id", "user_id"), not_null={"tenant", "sealed", "created_at", "updated_at"},
    )
    db["mcp_server_configs"].create(
        {"tenant": str, "expose": str, "auth": str, "updated_at": str},
        pk="tenant", not_null={"expose", "auth", "updated_at"},
    )

@migrations()
def m083_webhooks(db: Database) -> None:
    # Webhook endpoints (signing secret sealed) and their deliveries: one row per event and
    # endpoint, `due_ms` set while an attempt waits on the virtual clock.
    db["webhooks"].create(
        {"id": str, "tenant": str, "url": str, "events": str, "secret_sealed": str, "created_at": str,
         "updated_at": str},
        pk="id", not_null={"tenant", "url", "events", "secret_sealed", "created_at", "updated_at"},
    )
    db["webhooks"].create_index(["tenant", "id"])
    db["webhook_deliveries"].create(
        {"id": str, "tenant": str, "webhook_id": str, "event_id": str, "event": str, "run_id": str,
         "payload": str, "status": str, "attempts": int, "due_ms": int, "response_status": int,
         "error": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "webhook_id", "event_id", "event", "payload", "status", "attempts",
                           "created_at", "updated_at"},
        defaults={"attempts": 0},
    )
    db["webhook_deliveries"].create_index(["status", "due_ms"])
    db["webhook_deliveries"].create_index(["run_id"])

@migrations()
def m084_billing_accounts(db: Database) -> None:
    # The tenant's billing account (subscription, budgets) and its checkout sessions.
    db["billing_accounts"].create(
        {"tenant": str, "subscription": str, "budget": str, "user_budget": str, "updated_at": str},
        pk="tenant", not_null={"updated_at"},
    )
    db["billing_checkouts"].create(
        {"id": str, "tenant": str, "plan": str, "success_url": str, "cancel_url": str, "status": str,
         "created_at": str, "expires_ms": int, "completed_at": str},
        pk="id", not_null={"tenant", "plan", "success_url", "cancel_url", "status", "created_at", "expires_ms"},
    )

@migrations()
def m090_agent_references(db: Database) -> None:
    # Schedules, triggers and channels name their agent by definition id or name, resolved when
    # they run: a channel keeps the SDK's reference as given, and a firing records what it ran
    # and how it was resolved ("definition", or "default" for a name no definition has).
    db["channels"].add_column("agent", str)
    db["schedule_executions"].add_column("agent", str)
    db["schedule_executions"].add_column("agent_config", str)

@migrations()
def m091_delivery_columns(db: Database) -> None:
    # Webhook deliveries take the column names and order of Theo's (one delivery machine,
    # core/delivery.py): the answer's status is http_status, the event's type event_type, and
    # a settled delivery says when it was delivered or failed.
    deliveries = db["webhook_deliveries"]
    deliveries.add_column("delivered_at", str)
    deliveries.add_column("failed_at", str)
    deliveries.transform(rename={"response_status": "http_status", "event": "event_type"}, defaults={"attempts": 0},
                         column_order=["id", "tenant", "webhook_id", "event_id", "event", "run_id", "payload",
                                       "status", "attempts", "due_ms", "response_status", "error", "delivered_at",
                                       "failed_at"])
