"""Theo's tables (the theo_ prefix), declared as sqlite-utils migrations (core/migrations.py
says how they are kept)."""

from __future__ import annotations

from sqlite_utils import Database

from theazo_emu.core.migrations import migrations


@migrations()
def m100_theo(db: Database) -> None:
    # The Theo surface (/api/v1). API keys created through /api/v1/keys (or declared by fixtures),
    # stored as a SHA-256 digest of the key, never the key.
    db["theo_keys"].create(
        {"id": str, "tenant": str, "name": str, "key_hash": str, "key_prefix": str, "scopes": str, "scope": str,
         "org_id": str, "allowed_origins": str, "source": str, "created_at": str, "updated_at": str,
         "revoked_at": str},
        pk="id", not_null={"tenant", "key_hash", "key_prefix", "scopes", "scope", "source", "created_at"},
    )
    db["theo_keys"].create_index(["key_hash"], unique=True)
    db["theo_keys"].create_index(["tenant", "id"])
    # Conversations and their messages (completions with a conversation append to them).
    db["theo_conversations"].create(
        {"id": str, "tenant": str, "title": str, "message_count": int, "last_message": str, "created_at": str,
         "updated_at": str},
        pk="id", not_null={"tenant", "message_count", "created_at", "updated_at"}, defaults={"message_count": 0},
    )
    db["theo_conversations"].create_index(["tenant", "id"])
    db["theo_messages"].create(
        {"id": str, "tenant": str, "conversation_id": str, "role": str, "content": str, "mode": str,
         "resolved_mode": str, "model": str, "tools": str, "artifacts": str, "follow_ups": str, "status": str,
         "error_message": str, "cost_units": int, "created_at": str},
        pk="id", not_null={"tenant", "conversation_id", "role", "content", "created_at"},
    )
    db["theo_messages"].create_index(["conversation_id", "id"])
    # The Theo ledger: one row per completion; usage is its aggregate. Costs are integer units
    # of 1/10,000 cent (cost_cents on the wire is units / 10,000).
    db["theo_ledger"].create(
        {"id": str, "tenant": str, "key_id": str, "kind": str, "route": str, "mode": str, "resolved_mode": str,
         "model": str, "prompt_tokens": int, "completion_tokens": int, "cost_units": int, "cached": int,
         "at_ms": int, "created_at": str},
        pk="id", not_null={"tenant", "kind", "model", "prompt_tokens", "completion_tokens", "cost_units", "at_ms"},
        defaults={"cached": 0},
    )
    db["theo_ledger"].create_index(["tenant", "at_ms"])
    # A tenant's credit balance (absent or NULL: no billing, as Theo's test keys) and its
    # credits.low threshold; `low_sent` remembers that credits.low fired until the balance recovers.
    db["theo_credits"].create(
        {"tenant": str, "balance_units": int, "low_units": int, "low_sent": int},
        pk="tenant", not_null={"low_units", "low_sent"}, defaults={"low_sent": 0},
    )
    # The append-only audit log: each entry carries the SHA-256 of its content and of the one before.
    db["theo_audit"].create(
        {"id": str, "tenant": str, "action": str, "entity_type": str, "entity_id": str, "key_id": str,
         "user_id": str, "route": str, "method": str, "status": int, "mode": str, "model": str, "cost_units": int,
         "request_id": str, "ip_address": str, "user_agent": str, "input_summary": str, "output_summary": str,
         "prev_hash": str, "hash": str, "at_ms": int, "created_at": str},
        pk="id", not_null={"tenant", "action", "entity_type", "hash", "at_ms", "created_at"},
    )
    db["theo_audit"].create_index(["tenant", "id"])
    # Events for webhooks (credits.low, completion.created, key.created, ...), oldest first.
    db["theo_events"].create(
        {"id": str, "tenant": str, "type": str, "data": str, "at_ms": int, "created_at": str},
        pk="id", not_null={"tenant", "type", "data", "at_ms", "created_at"},
    )
    db["theo_events"].create_index(["tenant", "id"])
    # Idempotency-Key records: per tenant, the request's fingerprint and, once answered, the
    # answer to replay (status, headers, body; a stream's body as its raw frames).
    db["theo_idempotency"].create(
        {"tenant": str, "idem_key": str, "fingerprint": str, "state": str, "status": int, "headers": str,
         "body": bytes, "stream": int, "request_id": str, "locked_until_ms": int, "expires_ms": int,
         "created_at": str},
        pk=("tenant", "idem_key"), not_null={"fingerprint", "state", "expires_ms", "created_at"},
    )

@migrations()
def m120_theo_media_jobs(db: Database) -> None:
    # Documents made by POST /api/v1/documents (their bytes, served by signed download URLs).
    db["theo_documents"].create(
        {"id": str, "tenant": str, "format": str, "title": str, "mime_type": str, "content": bytes, "size": int,
         "created_at": str},
        pk="id", not_null={"tenant", "format", "title", "mime_type", "content", "size", "created_at"},
    )
    # Async jobs (video, research): their timeline on the virtual clock (queued until start_ms,
    # active until end_ms, then the outcome); `notified` once job.completed/failed was emitted.
    db["theo_jobs"].create(
        {"id": str, "tenant": str, "type": str, "public_id": str, "prompt": str, "params": str, "queued_ms": int,
         "start_ms": int, "end_ms": int, "outcome": str, "result": str, "error": str, "cost_units": int,
         "notified": int, "script": str, "created_at": str},
        pk="id", not_null={"tenant", "type", "public_id", "prompt", "queued_ms", "start_ms", "end_ms", "outcome",
                           "cost_units", "notified", "created_at"},
        defaults={"notified": 0, "cost_units": 0},
    )
    db["theo_jobs"].create_index(["tenant", "id"])
    db["theo_jobs"].create_index(["notified", "end_ms"])

@migrations()
def m121_theo_webhooks_hooks(db: Database) -> None:
    # Webhook endpoints (signing secret sealed) and their deliveries, one per event and
    # endpoint; `due_ms` is set while an attempt waits on the virtual clock.
    db["theo_webhooks"].create(
        {"id": str, "tenant": str, "url": str, "event_types": str, "enabled": int, "description": str,
         "secret_sealed": str, "consecutive_failures": int, "last_delivered_at": str, "seq": int,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "url", "event_types", "enabled", "secret_sealed", "consecutive_failures",
                           "seq", "created_at", "updated_at"},
        defaults={"enabled": 1, "consecutive_failures": 0},
    )
    db["theo_webhooks"].create_index(["tenant", "seq"])
    db["theo_deliveries"].create(
        {"id": str, "tenant": str, "webhook_id": str, "event_id": str, "event_type": str, "payload": str,
         "status": str, "attempt": int, "due_ms": int, "http_status": int, "error_message": str,
         "delivered_at": str, "failed_at": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "webhook_id", "event_id", "event_type", "payload", "status", "attempt",
                           "created_at", "updated_at"},
        defaults={"attempt": 0},
    )
    db["theo_deliveries"].create_index(["webhook_id", "id"])
    db["theo_deliveries"].create_index(["status", "due_ms"])
    # Hooks: an event pattern (or a preset's) that runs a skill, with a cooldown; their executions.
    db["theo_hooks"].create(
        {"id": str, "tenant": str, "hook_preset_id": str, "event_pattern": str, "skill_slug": str, "enabled": int,
         "cooldown_minutes": int, "config": str, "consecutive_failures": int, "last_fired_ms": int,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "event_pattern", "skill_slug", "enabled", "consecutive_failures", "created_at",
                           "updated_at"},
        defaults={"enabled": 1, "consecutive_failures": 0},
    )
    db["theo_hooks"].create_index(["tenant", "id"])
    db["theo_hook_executions"].create(
        {"id": str, "tenant": str, "hook_id": str, "event_id": str, "event_type": str, "status": str,
         "error": str, "created_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "hook_id", "event_type", "status", "created_at"},
    )
    db["theo_hook_executions"].create_index(["hook_id", "id"])

@migrations()
def m122_theo_skills_orgs(db: Database) -> None:
    # Skills a tenant created (the marketplace's built-in ones live in code), installs,
    # submissions with their review, versions and reviews.
    db["theo_skills"].create(
        {"id": str, "tenant": str, "slug": str, "name": str, "description": str, "category": str, "version": str,
         "system_prompt_ext": str, "tool_definitions": str, "is_public": int, "status": str, "seq": int,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "slug", "name", "category", "version", "is_public", "status", "seq",
                           "created_at", "updated_at"},
    )
    db["theo_skills"].create_index(["tenant", "slug"], unique=True)
    db["theo_skill_installs"].create(
        {"id": str, "tenant": str, "skill_id": str, "slug": str, "created_at": str},
        pk="id", not_null={"tenant", "skill_id", "slug", "created_at"},
    )
    db["theo_skill_installs"].create_index(["tenant", "skill_id"], unique=True)
    db["theo_skill_submissions"].create(
        {"id": str, "tenant": str, "skill_id": str, "slug": str, "version": str, "manifest": str, "status": str,
         "review_tier": str, "auto_approved": int, "review": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "slug", "version", "manifest", "status", "review_tier", "auto_approved",
                           "review", "created_at", "updated_at"},
    )
    db["theo_skill_submissions"].create_index(["tenant", "id"])
    db["theo_skill_versions"].create(
        {"id": str, "tenant": str, "skill_id": str, "version": str, "status": str, "changelog": str,
         "manifest": str, "created_at": str},
        pk="id", not_null={"tenant", "skill_id", "version", "status", "created_at"},
    )
    db["theo_skill_versions"].create_index(["skill_id", "id"])
    db["theo_skill_reviews"].create(
        {"id": str, "tenant": str, "skill_id": str, "rating": int, "body": str, "created_at": str},
        pk="id", not_null={"tenant", "skill_id", "rating", "created_at"},
    )
    db["theo_skill_reviews"].create_index(["skill_id", "id"])
    # Organisations (org-scoped keys name one).
    db["theo_orgs"].create(
        {"id": str, "tenant": str, "name": str, "slug": str, "type": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "slug", "type", "created_at", "updated_at"},
    )
    db["theo_orgs"].create_index(["tenant", "slug"], unique=True)

@migrations()
def m123_theo_workflows_account(db: Database) -> None:
    # Workflows (a schedule trigger's next firing in `next_run_ms`, NULL otherwise) and their runs.
    db["theo_workflows"].create(
        {"id": str, "tenant": str, "name": str, "trigger_type": str, "trigger_config": str, "steps": str,
         "enabled": int, "next_run_ms": int, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "trigger_type", "trigger_config", "steps", "enabled", "created_at",
                           "updated_at"},
    )
    db["theo_workflows"].create_index(["next_run_ms"])
    db["theo_workflow_runs"].create(
        {"id": str, "tenant": str, "workflow_id": str, "status": str, "trigger": str, "trigger_data": str,
         "steps_completed": int, "step_results": str, "error": str, "started_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "workflow_id", "status", "trigger", "steps_completed", "started_at"},
    )
    db["theo_workflow_runs"].create_index(["workflow_id", "id"])
    # Account settings (one row per tenant), rate-limit increase requests, billing sessions.
    db["theo_settings"].create(
        {"tenant": str, "default_mode": str, "personality": str, "timezone": str, "theo_branding": int,
         "updated_at": str},
        pk="tenant", not_null={"default_mode", "personality", "timezone", "theo_branding", "updated_at"},
    )
    db["theo_rate_requests"].create(
        {"id": str, "tenant": str, "requested_tier": str, "use_case": str, "expected_volume": str, "status": str,
         "created_at": str},
        pk="id", not_null={"tenant", "requested_tier", "status", "created_at"},
    )
    db["theo_billing_sessions"].create(
        {"id": str, "tenant": str, "kind": str, "scope": str, "amount_cents": int, "success_url": str,
         "status": str, "expires_ms": int, "created_at": str, "completed_at": str},
        pk="id", not_null={"tenant", "kind", "scope", "status", "expires_ms", "created_at"},
    )

@migrations()
def m124_theo_browser_canvases(db: Database) -> None:
    # Browser sessions: their timeline on the virtual clock (expires_ms moves with activity
    # when keep_alive), the pages open, and when they ended.
    db["theo_browser_sessions"].create(
        {"id": str, "tenant": str, "url": str, "region": str, "keep_alive": int, "proxies": int,
         "live_view_version": int, "started_ms": int, "expires_ms": int, "last_active_ms": int, "ended_ms": int,
         "pages": str, "created_at": str},
        pk="id", not_null={"tenant", "region", "keep_alive", "proxies", "live_view_version", "started_ms",
                           "expires_ms", "last_active_ms", "pages", "created_at"},
    )
    db["theo_browser_sessions"].create_index(["tenant", "id"])
    # E.V.I. canvases: a graph of nodes and edges, compiled to a manifest, published as a skill.
    db["theo_canvases"].create(
        {"id": str, "tenant": str, "name": str, "description": str, "status": str, "graph": str,
         "compiled_manifest": str, "compiled_steps": str, "is_public": int, "published_skill_id": str,
         "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "status", "graph", "is_public", "created_at", "updated_at"},
    )
    db["theo_canvases"].create_index(["tenant", "id"])

@migrations()
def m125_theo_iframes(db: Database) -> None:
    # Embeddable widgets: the API key they speak with, their look, behaviour and security
    # (Turnstile, the origins that may frame them), and when they were last verified.
    db["theo_iframes"].create(
        {"id": str, "tenant": str, "name": str, "status": str, "api_key_id": str, "appearance": str,
         "behavior": str, "security": str, "verified_at": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "status", "api_key_id", "appearance", "behavior", "security",
                           "created_at", "updated_at"},
    )
    db["theo_iframes"].create_index(["tenant", "id"])

@migrations()
def m126_delivery_columns(db: Database) -> None:
    # Deliveries name their columns as Theazo's do (one delivery machine, core/delivery.py):
    # the attempts made so far, and the error of the last one.
    db["theo_deliveries"].transform(rename={"attempt": "attempts", "error_message": "error"},
                                    defaults={"attempt": 0})


@migrations()
def m130_theo_events(db: Database) -> None:
    # The delivery log as the API shows it: one row per attempt of a webhook delivery.
    db["theo_delivery_attempts"].create(
        {"id": str, "tenant": str, "webhook_id": str, "delivery_id": str, "event_id": str, "event_type": str,
         "attempt": int, "status": str, "http_status": int, "error": str, "at_ms": int, "failed_at": str,
         "created_at": str},
        pk="id", not_null={"tenant", "webhook_id", "delivery_id", "event_id", "event_type", "attempt", "status",
                           "at_ms", "created_at"},
    )
    db["theo_delivery_attempts"].create_index(["webhook_id", "at_ms"])
    # What a person at Theo decides: a submission's reason, a skill's approved manifest (its
    # permissions, trigger, hooks, model preference), connectors and their status.
    db["theo_skill_submissions"].add_column("reason", str)
    db["theo_skills"].add_column("manifest", str)
    db["theo_connectors"].create(
        {"id": str, "tenant": str, "name": str, "type": str, "status": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"tenant", "name", "type", "status", "created_at", "updated_at"},
    )
    db["theo_connectors"].create_index(["tenant", "id"])
    # Skill triggers: an installed skill's schedule (its next run on the virtual clock) and
    # autonomous state (paused after repeated failures), and the runs its triggers made.
    db["theo_skill_installs"].add_column("next_run_ms", int)
    db["theo_skill_installs"].add_column("consecutive_failures", int, not_null_default=0)
    db["theo_skill_installs"].add_column("paused_at", str)
    db["theo_skill_installs"].create_index(["next_run_ms"])
    db["theo_skill_runs"].create(
        {"id": str, "tenant": str, "skill_id": str, "slug": str, "trigger": str, "event_id": str, "status": str,
         "model": str, "steps": str, "cost_units": int, "error": str, "created_at": str},
        pk="id", not_null={"tenant", "skill_id", "slug", "trigger", "status", "cost_units", "created_at"},
    )
    db["theo_skill_runs"].create_index(["tenant", "id"])


@migrations()
def m131_theo_cache(db: Database) -> None:
    # The semantic cache: per tenant, a completion's answer under the digest of what it depends
    # on (and its scope: the user, or an org key), kept until `expires_ms` on the virtual clock.
    db["theo_cache"].create(
        {"tenant": str, "cache_key": str, "scope": str, "mode": str, "entry": str, "expires_ms": int,
         "created_at": str},
        pk=("tenant", "cache_key"), not_null={"scope", "mode", "entry", "expires_ms", "created_at"},
    )
