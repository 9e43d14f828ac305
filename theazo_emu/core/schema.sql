-- The schema for a fresh database: the frozen result of the migrations (core/migrations.py).
-- Rewritten by `python -m theazo_emu.cli.regen`; tests/test_schema.py keeps it equal to them.
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE TABLE "counters" (
   "tenant" TEXT PRIMARY KEY,
   "seq" INTEGER NOT NULL
);
CREATE TABLE "sessions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "environment" TEXT,
   "metadata" TEXT,
   "limits" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT,
   "paused_at" TEXT,
   "terminated_at" TEXT,
   "auto_pause_at_ms" INTEGER
);
CREATE INDEX "idx_sessions_tenant_id"
    ON "sessions" ("tenant", "id");
CREATE INDEX "idx_sessions_tenant_user_id"
    ON "sessions" ("tenant", "user_id");
CREATE TABLE "agents" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "user_id" TEXT,
   "status" TEXT NOT NULL,
   "provider" TEXT,
   "compute" TEXT,
   "model" TEXT,
   "browser" INTEGER,
   "region" TEXT,
   "instructions" TEXT,
   "tools" TEXT,
   "timeout_s" INTEGER,
   "definition_id" TEXT,
   "definition_version" INTEGER,
   "secrets" TEXT,
   "metadata" TEXT,
   "config" TEXT,
   "snapshot" TEXT,
   "current_task_id" TEXT,
   "busy_until_ms" INTEGER,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT,
   "terminated_at" TEXT
);
CREATE INDEX "idx_agents_tenant_id"
    ON "agents" ("tenant", "id");
CREATE INDEX "idx_agents_tenant_session_id"
    ON "agents" ("tenant", "session_id");
CREATE TABLE "runs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "agent_id" TEXT NOT NULL,
   "session_id" TEXT,
   "user_id" TEXT,
   "task" TEXT,
   "status" TEXT NOT NULL,
   "outcome" TEXT,
   "result" TEXT,
   "created_at" TEXT NOT NULL,
   "start_ms" INTEGER,
   "end_ms" INTEGER,
   "paused_offset_ms" INTEGER,
   "delivered" INTEGER DEFAULT 0
);
CREATE INDEX "idx_runs_tenant_agent_id"
    ON "runs" ("tenant", "agent_id");
CREATE TABLE "run_events" (
   "run_id" TEXT,
   "seq" INTEGER,
   "event" TEXT NOT NULL,
   "data" TEXT NOT NULL,
   "offset_ms" INTEGER NOT NULL,
   "at_ms" INTEGER,
   PRIMARY KEY ("run_id", "seq")
);
CREATE TABLE "ledger" (
   "id" INTEGER PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "user_id" TEXT,
   "session_id" TEXT,
   "agent_id" TEXT,
   "run_id" TEXT,
   "model" TEXT,
   "provider" TEXT,
   "kind" TEXT NOT NULL,
   "quantity" REAL,
   "input_tokens" INTEGER,
   "output_tokens" INTEGER,
   "calls" INTEGER,
   "amount" INTEGER NOT NULL,
   "at" TEXT NOT NULL,
   "at_ms" INTEGER NOT NULL
);
CREATE INDEX "idx_ledger_tenant_at_ms"
    ON "ledger" ("tenant", "at_ms");
CREATE INDEX "idx_ledger_tenant_session_id"
    ON "ledger" ("tenant", "session_id");
CREATE TABLE "clock" (
   "id" INTEGER PRIMARY KEY,
   "now_ms" INTEGER NOT NULL
);
CREATE TABLE "crypto_meta" (
   "name" TEXT PRIMARY KEY,
   "value" TEXT NOT NULL
);
CREATE TABLE "secrets" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "scope" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "ciphertext" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_secrets_tenant_scope_name"
    ON "secrets" ("tenant", "scope", "name");
CREATE TABLE "providers" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "provider" TEXT NOT NULL,
   "ciphertext" TEXT,
   "credential_ref" TEXT,
   "config" TEXT,
   "is_default" INTEGER NOT NULL DEFAULT 0,
   "status" TEXT NOT NULL DEFAULT 'active',
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_providers_tenant_provider"
    ON "providers" ("tenant", "provider");
CREATE TABLE "agent_definitions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "version" INTEGER NOT NULL,
   "name" TEXT NOT NULL,
   "description" TEXT,
   "instructions" TEXT,
   "tools" TEXT,
   "model" TEXT,
   "compute" TEXT,
   "provider" TEXT,
   "browser" INTEGER,
   "timeout_s" INTEGER,
   "config" TEXT,
   "metadata" TEXT,
   "archived" INTEGER NOT NULL DEFAULT 0,
   "archived_at" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_agent_definitions_tenant_id"
    ON "agent_definitions" ("tenant", "id");
CREATE TABLE "agent_definition_versions" (
   "definition_id" TEXT,
   "version" INTEGER,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "description" TEXT,
   "instructions" TEXT,
   "tools" TEXT,
   "model" TEXT,
   "compute" TEXT,
   "provider" TEXT,
   "browser" INTEGER,
   "timeout_s" INTEGER,
   "config" TEXT,
   "metadata" TEXT,
   "changelog" TEXT,
   "created_at" TEXT NOT NULL,
   PRIMARY KEY ("definition_id", "version")
);
CREATE TABLE "schedules" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "cron" TEXT NOT NULL,
   "timezone" TEXT,
   "status" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "metadata" TEXT,
   "next_run_ms" INTEGER,
   "last_run_ms" INTEGER,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_schedules_next_run_ms"
    ON "schedules" ("next_run_ms");
CREATE INDEX "idx_schedules_tenant_id"
    ON "schedules" ("tenant", "id");
CREATE TABLE "schedule_executions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "schedule_id" TEXT NOT NULL,
   "scheduled_ms" INTEGER NOT NULL,
   "started_ms" INTEGER NOT NULL,
   "status" TEXT NOT NULL,
   "task_id" TEXT,
   "agent_id" TEXT,
   "session_id" TEXT,
   "workflow_run_id" TEXT,
   "failure" TEXT
, "agent" TEXT, "agent_config" TEXT);
CREATE INDEX "idx_schedule_executions_schedule_id_id"
    ON "schedule_executions" ("schedule_id", "id");
CREATE TABLE "triggers" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "metadata" TEXT,
   "secret_sealed" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_triggers_tenant_id"
    ON "triggers" ("tenant", "id");
CREATE TABLE "channels" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT,
   "type" TEXT NOT NULL,
   "definition_id" TEXT,
   "instructions" TEXT,
   "metadata" TEXT,
   "config" TEXT,
   "enabled" INTEGER NOT NULL DEFAULT 1,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
, "agent" TEXT);
CREATE INDEX "idx_channels_tenant_id"
    ON "channels" ("tenant", "id");
CREATE TABLE "channel_threads" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "channel_id" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "agent_id" TEXT,
   "session_id" TEXT,
   "message_count" INTEGER NOT NULL DEFAULT 0,
   "started_at" TEXT NOT NULL,
   "last_message_at" TEXT
);
CREATE INDEX "idx_channel_threads_channel_id_id"
    ON "channel_threads" ("channel_id", "id");
CREATE TABLE "channel_messages" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "channel_id" TEXT NOT NULL,
   "thread_id" TEXT NOT NULL,
   "role" TEXT NOT NULL,
   "content" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_channel_messages_channel_id_id"
    ON "channel_messages" ("channel_id", "id");
CREATE INDEX "idx_channel_messages_thread_id_id"
    ON "channel_messages" ("thread_id", "id");
CREATE TABLE "workflows" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "description" TEXT,
   "version" INTEGER NOT NULL,
   "wf_spec" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_workflows_tenant_id"
    ON "workflows" ("tenant", "id");
CREATE TABLE "workflow_runs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "workflow_id" TEXT NOT NULL,
   "workflow_version" INTEGER,
   "user_id" TEXT,
   "session_id" TEXT,
   "status" TEXT NOT NULL,
   "wf_spec" TEXT NOT NULL,
   "wf_input" TEXT,
   "wf_state" TEXT NOT NULL,
   "wf_output" TEXT,
   "wf_error" TEXT,
   "total_cents" INTEGER NOT NULL DEFAULT 0,
   "idempotency_key" TEXT,
   "current_step_id" TEXT,
   "can_retry_from" TEXT,
   "created_at" TEXT NOT NULL,
   "started_at" TEXT,
   "completed_at" TEXT,
   "started_ms" INTEGER,
   "wake_ms" INTEGER,
   "event_seq" INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX "idx_workflow_runs_tenant_workflow_id"
    ON "workflow_runs" ("tenant", "workflow_id");
CREATE INDEX "idx_workflow_runs_wake_ms"
    ON "workflow_runs" ("wake_ms");
CREATE UNIQUE INDEX "idx_workflow_runs_tenant_workflow_id_idempotency_key"
    ON "workflow_runs" ("tenant", "workflow_id", "idempotency_key");
CREATE TABLE "workflow_tasks" (
   "task_id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "run_id" TEXT NOT NULL,
   "node_key" TEXT NOT NULL,
   "done" INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX "idx_workflow_tasks_done"
    ON "workflow_tasks" ("done");
CREATE TABLE "orch_events" (
   "owner_id" TEXT,
   "seq" INTEGER,
   "tenant" TEXT NOT NULL,
   "event" TEXT NOT NULL,
   "data" TEXT NOT NULL,
   "at_ms" INTEGER NOT NULL,
   PRIMARY KEY ("owner_id", "seq")
);
CREATE TABLE "approvals" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT,
   "user_id" TEXT,
   "agent_id" TEXT,
   "run_id" TEXT,
   "step_id" TEXT,
   "node_key" TEXT,
   "action_name" TEXT NOT NULL,
   "apr_params" TEXT,
   "status" TEXT NOT NULL,
   "default_action" TEXT,
   "requested_at" TEXT NOT NULL,
   "expires_at" TEXT NOT NULL,
   "expires_ms" INTEGER NOT NULL,
   "resolved_at" TEXT,
   "resolved_by" TEXT,
   "apr_modifications" TEXT,
   "reason" TEXT
);
CREATE INDEX "idx_approvals_tenant_id"
    ON "approvals" ("tenant", "id");
CREATE INDEX "idx_approvals_status_expires_ms"
    ON "approvals" ("status", "expires_ms");
CREATE TABLE "fleets" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "user_id" TEXT,
   "flt_agent" TEXT NOT NULL,
   "concurrency" INTEGER NOT NULL,
   "timeout_s" INTEGER,
   "max_cents" INTEGER,
   "failure_policy" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "total" INTEGER NOT NULL,
   "total_cents" INTEGER NOT NULL DEFAULT 0,
   "event_seq" INTEGER NOT NULL DEFAULT 0,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE INDEX "idx_fleets_tenant_id"
    ON "fleets" ("tenant", "id");
CREATE TABLE "fleet_items" (
   "id" TEXT PRIMARY KEY,
   "fleet_id" TEXT NOT NULL,
   "item_index" INTEGER NOT NULL,
   "tenant" TEXT NOT NULL,
   "flt_input" TEXT,
   "status" TEXT NOT NULL,
   "task_id" TEXT,
   "agent_id" TEXT,
   "flt_output" TEXT,
   "cost_cents" INTEGER NOT NULL DEFAULT 0,
   "duration_ms" INTEGER,
   "flt_error" TEXT,
   "started_at" TEXT,
   "completed_at" TEXT
);
CREATE UNIQUE INDEX "idx_fleet_items_fleet_id_item_index"
    ON "fleet_items" ("fleet_id", "item_index");
CREATE INDEX "idx_fleet_items_status"
    ON "fleet_items" ("status");
CREATE TABLE "agent_files" (
   "agent_id" TEXT,
   "path" TEXT,
   "tenant" TEXT NOT NULL,
   "content" BLOB NOT NULL,
   "encoding" TEXT NOT NULL,
   "size" INTEGER NOT NULL,
   "modified_at" TEXT NOT NULL,
   PRIMARY KEY ("agent_id", "path")
);
CREATE INDEX "idx_agent_files_tenant_agent_id"
    ON "agent_files" ("tenant", "agent_id");
CREATE TABLE "checkpoints" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "agent_id" TEXT NOT NULL,
   "snapshot_id" TEXT NOT NULL,
   "phase" TEXT,
   "progress" REAL NOT NULL,
   "metadata" TEXT,
   "created_at" TEXT NOT NULL,
   "used_seq" INTEGER NOT NULL
);
CREATE INDEX "idx_checkpoints_agent_id_id"
    ON "checkpoints" ("agent_id", "id");
CREATE TABLE "checkpoint_files" (
   "checkpoint_id" TEXT,
   "path" TEXT,
   "tenant" TEXT NOT NULL,
   "content" BLOB NOT NULL,
   "encoding" TEXT NOT NULL,
   "size" INTEGER NOT NULL,
   "modified_at" TEXT NOT NULL,
   PRIMARY KEY ("checkpoint_id", "path")
);
CREATE TABLE "session_tasks" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "agent_id" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "agent_ref" TEXT,
   "input" TEXT,
   "priority" TEXT NOT NULL,
   "webhook" TEXT,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE INDEX "idx_session_tasks_tenant_session_id_id"
    ON "session_tasks" ("tenant", "session_id", "id");
CREATE INDEX "idx_session_tasks_status"
    ON "session_tasks" ("status");
CREATE TABLE "teams" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "members" TEXT NOT NULL,
   "coordination" TEXT NOT NULL,
   "shared_context" INTEGER NOT NULL,
   "max_rounds" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "team_runs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "team_id" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "task" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "stages" TEXT NOT NULL,
   "stage" INTEGER NOT NULL DEFAULT 0,
   "total_cents" INTEGER NOT NULL DEFAULT 0,
   "output" TEXT,
   "error" TEXT,
   "started_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE INDEX "idx_team_runs_team_id_status"
    ON "team_runs" ("team_id", "status");
CREATE TABLE "team_contributions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "run_id" TEXT NOT NULL,
   "seq" INTEGER NOT NULL,
   "stage" INTEGER NOT NULL,
   "round" INTEGER NOT NULL,
   "member" INTEGER NOT NULL,
   "role" TEXT NOT NULL,
   "phase" TEXT NOT NULL,
   "agent_id" TEXT,
   "task_id" TEXT,
   "status" TEXT NOT NULL,
   "output" TEXT,
   "cost_cents" INTEGER NOT NULL DEFAULT 0,
   "error" TEXT,
   "started_at" TEXT,
   "completed_at" TEXT
);
CREATE UNIQUE INDEX "idx_team_contributions_run_id_seq"
    ON "team_contributions" ("run_id", "seq");
CREATE INDEX "idx_team_contributions_status"
    ON "team_contributions" ("status");
CREATE TABLE "chat_conversations" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "session_id" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "agent_ref" TEXT,
   "profile" TEXT NOT NULL,
   "title" TEXT,
   "metadata" TEXT,
   "context" TEXT,
   "system_prompt" TEXT,
   "knowledge" TEXT,
   "status" TEXT NOT NULL,
   "message_count" INTEGER NOT NULL DEFAULT 0,
   "total_cents" INTEGER NOT NULL DEFAULT 0,
   "last_message_at" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_chat_conversations_tenant_session_id_id"
    ON "chat_conversations" ("tenant", "session_id", "id");
CREATE TABLE "chat_messages" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "conversation_id" TEXT NOT NULL,
   "thread_id" TEXT,
   "role" TEXT NOT NULL,
   "content" TEXT,
   "tool_calls" TEXT,
   "attachments" TEXT NOT NULL,
   "cost_cents" INTEGER NOT NULL DEFAULT 0,
   "token_count" INTEGER,
   "events" TEXT,
   "stream_ms" INTEGER,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_chat_messages_conversation_id_id"
    ON "chat_messages" ("conversation_id", "id");
CREATE INDEX "idx_chat_messages_tenant_id"
    ON "chat_messages" ("tenant", "id");
CREATE TABLE "chat_threads" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "conversation_id" TEXT NOT NULL,
   "parent_message_id" TEXT NOT NULL,
   "title" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_chat_threads_conversation_id_id"
    ON "chat_threads" ("conversation_id", "id");
CREATE TABLE "chat_handoffs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "conversation_id" TEXT NOT NULL,
   "reason" TEXT NOT NULL,
   "to_target" TEXT NOT NULL,
   "metadata" TEXT,
   "status" TEXT NOT NULL,
   "requested_at" TEXT NOT NULL,
   "resolved_at" TEXT
);
CREATE INDEX "idx_chat_handoffs_conversation_id_id"
    ON "chat_handoffs" ("conversation_id", "id");
CREATE TABLE "guardrail_configs" (
   "tenant" TEXT PRIMARY KEY,
   "config" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE TABLE "guardrail_violations" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "message" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "agent_id" TEXT,
   "session_id" TEXT,
   "task_id" TEXT,
   "conversation_id" TEXT,
   "at_ms" INTEGER NOT NULL,
   "timestamp" TEXT NOT NULL
);
CREATE INDEX "idx_guardrail_violations_tenant_at_ms"
    ON "guardrail_violations" ("tenant", "at_ms");
CREATE TABLE "agent_inputs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "agent_id" TEXT NOT NULL,
   "task_id" TEXT,
   "type" TEXT NOT NULL,
   "content" TEXT NOT NULL,
   "metadata" TEXT,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_agent_inputs_agent_id_status"
    ON "agent_inputs" ("agent_id", "status");
CREATE TABLE "agent_ports" (
   "agent_id" TEXT,
   "port" INTEGER,
   "tenant" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   PRIMARY KEY ("agent_id", "port")
);
CREATE TABLE "knowledge_sources" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "collection" TEXT NOT NULL,
   "origin" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "mime_type" TEXT,
   "config" TEXT,
   "sync_schedule" TEXT,
   "file_id" TEXT,
   "chunk_count" INTEGER NOT NULL,
   "token_count" INTEGER NOT NULL,
   "bytes" INTEGER NOT NULL,
   "ready_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_knowledge_sources_tenant_user_id_collection"
    ON "knowledge_sources" ("tenant", "user_id", "collection");
CREATE TABLE "knowledge_chunks" (
   "source_id" TEXT,
   "chunk" INTEGER,
   "tenant" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "collection" TEXT NOT NULL,
   "content" TEXT NOT NULL,
   "terms" TEXT NOT NULL,
   "length" INTEGER NOT NULL,
   "tokens" INTEGER NOT NULL,
   PRIMARY KEY ("source_id", "chunk")
);
CREATE INDEX "idx_knowledge_chunks_tenant_user_id_collection"
    ON "knowledge_chunks" ("tenant", "user_id", "collection");
CREATE TABLE "files" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "user_id" TEXT NOT NULL,
   "filename" TEXT NOT NULL,
   "mime_type" TEXT,
   "size" INTEGER NOT NULL,
   "purpose" TEXT NOT NULL,
   "agent_id" TEXT,
   "session_id" TEXT,
   "content" BLOB NOT NULL,
   "collection" TEXT,
   "knowledge_source_id" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_files_tenant_id"
    ON "files" ("tenant", "id");
CREATE TABLE "tools" (
   "name" TEXT,
   "tenant" TEXT,
   "description" TEXT NOT NULL,
   "parameters" TEXT NOT NULL,
   "handler" TEXT NOT NULL,
   "requires_approval" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   PRIMARY KEY ("tenant", "name")
);
CREATE TABLE "mcp_connections" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "transport" TEXT NOT NULL,
   "url" TEXT,
   "command" TEXT,
   "args" TEXT,
   "headers_sealed" TEXT,
   "credentials_type" TEXT NOT NULL,
   "tool_filter" TEXT,
   "requires_approval" TEXT NOT NULL,
   "catalogue" TEXT NOT NULL,
   "discovered" TEXT NOT NULL,
   "last_health_check" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_mcp_connections_tenant_name"
    ON "mcp_connections" ("tenant", "name");
CREATE TABLE "mcp_credentials" (
   "connection_id" TEXT,
   "user_id" TEXT,
   "tenant" TEXT NOT NULL,
   "sealed" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   PRIMARY KEY ("connection_id", "user_id")
);
CREATE TABLE "mcp_server_configs" (
   "tenant" TEXT PRIMARY KEY,
   "expose" TEXT NOT NULL,
   "auth" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE TABLE "webhooks" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "url" TEXT NOT NULL,
   "events" TEXT NOT NULL,
   "secret_sealed" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_webhooks_tenant_id"
    ON "webhooks" ("tenant", "id");
CREATE TABLE "billing_accounts" (
   "tenant" TEXT PRIMARY KEY,
   "subscription" TEXT,
   "budget" TEXT,
   "user_budget" TEXT,
   "updated_at" TEXT NOT NULL
);
CREATE TABLE "billing_checkouts" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "plan" TEXT NOT NULL,
   "success_url" TEXT NOT NULL,
   "cancel_url" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "expires_ms" INTEGER NOT NULL,
   "completed_at" TEXT
);
CREATE TABLE "webhook_deliveries" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "webhook_id" TEXT NOT NULL,
   "event_id" TEXT NOT NULL,
   "event_type" TEXT NOT NULL,
   "run_id" TEXT,
   "payload" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "attempts" INTEGER NOT NULL DEFAULT 0,
   "due_ms" INTEGER,
   "http_status" INTEGER,
   "error" TEXT,
   "delivered_at" TEXT,
   "failed_at" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_webhook_deliveries_run_id"
    ON "webhook_deliveries" ("run_id");
CREATE INDEX "idx_webhook_deliveries_status_due_ms"
    ON "webhook_deliveries" ("status", "due_ms");
CREATE TABLE "theo_keys" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT,
   "key_hash" TEXT NOT NULL,
   "key_prefix" TEXT NOT NULL,
   "scopes" TEXT NOT NULL,
   "scope" TEXT NOT NULL,
   "org_id" TEXT,
   "allowed_origins" TEXT,
   "source" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT,
   "revoked_at" TEXT
);
CREATE UNIQUE INDEX "idx_theo_keys_key_hash"
    ON "theo_keys" ("key_hash");
CREATE INDEX "idx_theo_keys_tenant_id"
    ON "theo_keys" ("tenant", "id");
CREATE TABLE "theo_conversations" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "title" TEXT,
   "message_count" INTEGER NOT NULL DEFAULT 0,
   "last_message" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_conversations_tenant_id"
    ON "theo_conversations" ("tenant", "id");
CREATE TABLE "theo_messages" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "conversation_id" TEXT NOT NULL,
   "role" TEXT NOT NULL,
   "content" TEXT NOT NULL,
   "mode" TEXT,
   "resolved_mode" TEXT,
   "model" TEXT,
   "tools" TEXT,
   "artifacts" TEXT,
   "follow_ups" TEXT,
   "status" TEXT,
   "error_message" TEXT,
   "cost_units" INTEGER,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_messages_conversation_id_id"
    ON "theo_messages" ("conversation_id", "id");
CREATE TABLE "theo_ledger" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "key_id" TEXT,
   "kind" TEXT NOT NULL,
   "route" TEXT,
   "mode" TEXT,
   "resolved_mode" TEXT,
   "model" TEXT NOT NULL,
   "prompt_tokens" INTEGER NOT NULL,
   "completion_tokens" INTEGER NOT NULL,
   "cost_units" INTEGER NOT NULL,
   "cached" INTEGER DEFAULT 0,
   "at_ms" INTEGER NOT NULL,
   "created_at" TEXT
);
CREATE INDEX "idx_theo_ledger_tenant_at_ms"
    ON "theo_ledger" ("tenant", "at_ms");
CREATE TABLE "theo_credits" (
   "tenant" TEXT PRIMARY KEY,
   "balance_units" INTEGER,
   "low_units" INTEGER NOT NULL,
   "low_sent" INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE "theo_audit" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "entity_type" TEXT NOT NULL,
   "entity_id" TEXT,
   "key_id" TEXT,
   "user_id" TEXT,
   "route" TEXT,
   "method" TEXT,
   "status" INTEGER,
   "mode" TEXT,
   "model" TEXT,
   "cost_units" INTEGER,
   "request_id" TEXT,
   "ip_address" TEXT,
   "user_agent" TEXT,
   "input_summary" TEXT,
   "output_summary" TEXT,
   "prev_hash" TEXT,
   "hash" TEXT NOT NULL,
   "at_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_audit_tenant_id"
    ON "theo_audit" ("tenant", "id");
CREATE TABLE "theo_events" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "data" TEXT NOT NULL,
   "at_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_events_tenant_id"
    ON "theo_events" ("tenant", "id");
CREATE TABLE "theo_idempotency" (
   "tenant" TEXT,
   "idem_key" TEXT,
   "fingerprint" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "status" INTEGER,
   "headers" TEXT,
   "body" BLOB,
   "stream" INTEGER,
   "request_id" TEXT,
   "locked_until_ms" INTEGER,
   "expires_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   PRIMARY KEY ("tenant", "idem_key")
);
CREATE TABLE "theo_documents" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "format" TEXT NOT NULL,
   "title" TEXT NOT NULL,
   "mime_type" TEXT NOT NULL,
   "content" BLOB NOT NULL,
   "size" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "theo_jobs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "public_id" TEXT NOT NULL,
   "prompt" TEXT NOT NULL,
   "params" TEXT,
   "queued_ms" INTEGER NOT NULL,
   "start_ms" INTEGER NOT NULL,
   "end_ms" INTEGER NOT NULL,
   "outcome" TEXT NOT NULL,
   "result" TEXT,
   "error" TEXT,
   "cost_units" INTEGER NOT NULL DEFAULT 0,
   "notified" INTEGER NOT NULL DEFAULT 0,
   "script" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_jobs_tenant_id"
    ON "theo_jobs" ("tenant", "id");
CREATE INDEX "idx_theo_jobs_notified_end_ms"
    ON "theo_jobs" ("notified", "end_ms");
CREATE TABLE "theo_webhooks" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "url" TEXT NOT NULL,
   "event_types" TEXT NOT NULL,
   "enabled" INTEGER NOT NULL DEFAULT 1,
   "description" TEXT,
   "secret_sealed" TEXT NOT NULL,
   "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
   "last_delivered_at" TEXT,
   "seq" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_webhooks_tenant_seq"
    ON "theo_webhooks" ("tenant", "seq");
CREATE TABLE "theo_hooks" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "hook_preset_id" TEXT,
   "event_pattern" TEXT NOT NULL,
   "skill_slug" TEXT NOT NULL,
   "enabled" INTEGER NOT NULL DEFAULT 1,
   "cooldown_minutes" INTEGER,
   "config" TEXT,
   "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
   "last_fired_ms" INTEGER,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_hooks_tenant_id"
    ON "theo_hooks" ("tenant", "id");
CREATE TABLE "theo_hook_executions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "hook_id" TEXT NOT NULL,
   "event_id" TEXT,
   "event_type" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "error" TEXT,
   "created_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE INDEX "idx_theo_hook_executions_hook_id_id"
    ON "theo_hook_executions" ("hook_id", "id");
CREATE TABLE "theo_skills" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "slug" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "description" TEXT,
   "category" TEXT NOT NULL,
   "version" TEXT NOT NULL,
   "system_prompt_ext" TEXT,
   "tool_definitions" TEXT,
   "is_public" INTEGER NOT NULL,
   "status" TEXT NOT NULL,
   "seq" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
, "manifest" TEXT);
CREATE UNIQUE INDEX "idx_theo_skills_tenant_slug"
    ON "theo_skills" ("tenant", "slug");
CREATE TABLE "theo_skill_installs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "skill_id" TEXT NOT NULL,
   "slug" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
, "next_run_ms" INTEGER, "consecutive_failures" INTEGER NOT NULL DEFAULT 0, "paused_at" TEXT);
CREATE UNIQUE INDEX "idx_theo_skill_installs_tenant_skill_id"
    ON "theo_skill_installs" ("tenant", "skill_id");
CREATE TABLE "theo_skill_submissions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "skill_id" TEXT,
   "slug" TEXT NOT NULL,
   "version" TEXT NOT NULL,
   "manifest" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "review_tier" TEXT NOT NULL,
   "auto_approved" INTEGER NOT NULL,
   "review" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
, "reason" TEXT);
CREATE INDEX "idx_theo_skill_submissions_tenant_id"
    ON "theo_skill_submissions" ("tenant", "id");
CREATE TABLE "theo_skill_versions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "skill_id" TEXT NOT NULL,
   "version" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "changelog" TEXT,
   "manifest" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_skill_versions_skill_id_id"
    ON "theo_skill_versions" ("skill_id", "id");
CREATE TABLE "theo_skill_reviews" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "skill_id" TEXT NOT NULL,
   "rating" INTEGER NOT NULL,
   "body" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_skill_reviews_skill_id_id"
    ON "theo_skill_reviews" ("skill_id", "id");
CREATE TABLE "theo_orgs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "slug" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_theo_orgs_tenant_slug"
    ON "theo_orgs" ("tenant", "slug");
CREATE TABLE "theo_workflows" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "trigger_type" TEXT NOT NULL,
   "trigger_config" TEXT NOT NULL,
   "steps" TEXT NOT NULL,
   "enabled" INTEGER NOT NULL,
   "next_run_ms" INTEGER,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_workflows_next_run_ms"
    ON "theo_workflows" ("next_run_ms");
CREATE TABLE "theo_workflow_runs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "workflow_id" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "trigger" TEXT NOT NULL,
   "trigger_data" TEXT,
   "steps_completed" INTEGER NOT NULL,
   "step_results" TEXT,
   "error" TEXT,
   "started_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE INDEX "idx_theo_workflow_runs_workflow_id_id"
    ON "theo_workflow_runs" ("workflow_id", "id");
CREATE TABLE "theo_settings" (
   "tenant" TEXT PRIMARY KEY,
   "default_mode" TEXT NOT NULL,
   "personality" TEXT NOT NULL,
   "timezone" TEXT NOT NULL,
   "theo_branding" INTEGER NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE TABLE "theo_rate_requests" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "requested_tier" TEXT NOT NULL,
   "use_case" TEXT,
   "expected_volume" TEXT,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "theo_billing_sessions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "scope" TEXT NOT NULL,
   "amount_cents" INTEGER,
   "success_url" TEXT,
   "status" TEXT NOT NULL,
   "expires_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "completed_at" TEXT
);
CREATE TABLE "theo_browser_sessions" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "url" TEXT,
   "region" TEXT NOT NULL,
   "keep_alive" INTEGER NOT NULL,
   "proxies" INTEGER NOT NULL,
   "live_view_version" INTEGER NOT NULL,
   "started_ms" INTEGER NOT NULL,
   "expires_ms" INTEGER NOT NULL,
   "last_active_ms" INTEGER NOT NULL,
   "ended_ms" INTEGER,
   "pages" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_browser_sessions_tenant_id"
    ON "theo_browser_sessions" ("tenant", "id");
CREATE TABLE "theo_canvases" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "description" TEXT,
   "status" TEXT NOT NULL,
   "graph" TEXT NOT NULL,
   "compiled_manifest" TEXT,
   "compiled_steps" TEXT,
   "is_public" INTEGER NOT NULL,
   "published_skill_id" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_canvases_tenant_id"
    ON "theo_canvases" ("tenant", "id");
CREATE TABLE "theo_iframes" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "api_key_id" TEXT NOT NULL,
   "appearance" TEXT NOT NULL,
   "behavior" TEXT NOT NULL,
   "security" TEXT NOT NULL,
   "verified_at" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_iframes_tenant_id"
    ON "theo_iframes" ("tenant", "id");
CREATE TABLE "theo_deliveries" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "webhook_id" TEXT NOT NULL,
   "event_id" TEXT NOT NULL,
   "event_type" TEXT NOT NULL,
   "payload" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "attempts" INTEGER NOT NULL DEFAULT 0,
   "due_ms" INTEGER,
   "http_status" INTEGER,
   "error" TEXT,
   "delivered_at" TEXT,
   "failed_at" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_deliveries_status_due_ms"
    ON "theo_deliveries" ("status", "due_ms");
CREATE INDEX "idx_theo_deliveries_webhook_id_id"
    ON "theo_deliveries" ("webhook_id", "id");
CREATE TABLE "theo_delivery_attempts" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "webhook_id" TEXT NOT NULL,
   "delivery_id" TEXT NOT NULL,
   "event_id" TEXT NOT NULL,
   "event_type" TEXT NOT NULL,
   "attempt" INTEGER NOT NULL,
   "status" TEXT NOT NULL,
   "http_status" INTEGER,
   "error" TEXT,
   "at_ms" INTEGER NOT NULL,
   "failed_at" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_delivery_attempts_webhook_id_at_ms"
    ON "theo_delivery_attempts" ("webhook_id", "at_ms");
CREATE TABLE "theo_connectors" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_connectors_tenant_id"
    ON "theo_connectors" ("tenant", "id");
CREATE INDEX "idx_theo_skill_installs_next_run_ms"
    ON "theo_skill_installs" ("next_run_ms");
CREATE TABLE "theo_skill_runs" (
   "id" TEXT PRIMARY KEY,
   "tenant" TEXT NOT NULL,
   "skill_id" TEXT NOT NULL,
   "slug" TEXT NOT NULL,
   "trigger" TEXT NOT NULL,
   "event_id" TEXT,
   "status" TEXT NOT NULL,
   "model" TEXT,
   "steps" TEXT,
   "cost_units" INTEGER NOT NULL,
   "error" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE INDEX "idx_theo_skill_runs_tenant_id"
    ON "theo_skill_runs" ("tenant", "id");
CREATE TABLE "theo_cache" (
   "tenant" TEXT,
   "cache_key" TEXT,
   "scope" TEXT NOT NULL,
   "mode" TEXT NOT NULL,
   "entry" TEXT NOT NULL,
   "expires_ms" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   PRIMARY KEY ("tenant", "cache_key")
);
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm001_core', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm002_clock', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm010_secrets_providers', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm020_agent_definitions', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm030_orchestration', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm040_workflows_fleets', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm050_agent_files', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm060_checkpoints', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm070_session_tasks', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm071_teams', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm072_chat', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm073_guardrails', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm074_agent_io', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm080_knowledge', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm081_files', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm082_tools_mcp', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm083_webhooks', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm084_billing_accounts', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm090_agent_references', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm091_delivery_columns', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm100_theo', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm120_theo_media_jobs', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm121_theo_webhooks_hooks', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm122_theo_skills_orgs', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm123_theo_workflows_account', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm124_theo_browser_canvases', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm125_theo_iframes', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm126_delivery_columns', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm130_theo_events', 'data/schema.sql');
INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('theazo_emu', 'm131_theo_cache', 'data/schema.sql');
