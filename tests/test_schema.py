"""The frozen schema (core/schema.sql) and the migrations it stands for.

A fresh database loads the frozen file; an older database file runs the migrations it
lacks. Both must end with the same tables, so the file is checked against the migrations.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from theazo_emu.core.migrations import dump, loaded

migrations = loaded()
from theazo_emu.core.schema import frozen
from theazo_emu.core.store import Store


def _objects(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()


def test_frozen_schema_equals_the_migrations() -> None:
    # If this fails after a new migration: python -m theazo_emu.cli.regen
    assert frozen()[0] == dump()


def test_a_fresh_database_gets_every_migration_recorded() -> None:
    store = Store(":memory:")
    names = [row[0] for row in store.db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [m.name for m in migrations._migrations] and len(names) >= 5


def test_an_older_file_is_migrated_to_the_same_schema(tmp_path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(Database(conn), stop_before="m030_orchestration")
    conn.execute("INSERT INTO sessions (id, tenant, user_id, status, created_at) VALUES ('ses_1', 't', 'u', 'active', 'x')")
    conn.close()
    upgraded = Store(str(path))
    fresh = Store(":memory:")
    assert _objects(upgraded.db) == _objects(fresh.db)
    assert upgraded.scalar("SELECT user_id FROM sessions WHERE id = 'ses_1'") == "u"  # its rows kept
    upgraded.close()


def test_a_current_file_is_opened_as_it_is(tmp_path) -> None:
    path = str(tmp_path / "current.db")
    Store(path).close()
    store = Store(path)
    assert store.scalar("SELECT COUNT(*) FROM _sqlite_migrations") == len(frozen()[1])
    store.close()


DELIVERY_COLUMNS = ("m091_delivery_columns", "m126_delivery_columns")


def test_an_older_file_gets_the_one_delivery_vocabulary_with_its_rows(tmp_path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = Migrations(migrations.name)
    before._migrations = [m for m in migrations._migrations if m.name not in DELIVERY_COLUMNS]
    before.apply(Database(conn))
    conn.execute("INSERT INTO webhook_deliveries (id, tenant, webhook_id, event_id, event, run_id, payload, status, "
                 "attempts, due_ms, response_status, error, created_at, updated_at) VALUES ('whd_1', 't', 'wh_1', "
                 "'evt_1', 'run.completed', 'run_1', '{}', 'pending', 2, 5, 503, 'boom', 'c', 'u')")
    conn.execute("INSERT INTO theo_deliveries (id, tenant, webhook_id, event_id, event_type, payload, status, attempt, "
                 "http_status, error_message, failed_at, created_at, updated_at) VALUES ('whd_2', 't', 'uuid', "
                 "'evt_2', 'key.created', '{}', 'failed', 5, 500, 'gone', 'f', 'c', 'u')")
    conn.close()
    upgraded = Store(str(path))
    assert _objects(upgraded.db) == _objects(Store(":memory:").db)
    assert upgraded.one("SELECT * FROM webhook_deliveries") == {
        "id": "whd_1", "tenant": "t", "webhook_id": "wh_1", "event_id": "evt_1", "event_type": "run.completed",
        "run_id": "run_1", "payload": "{}", "status": "pending", "attempts": 2, "due_ms": 5, "http_status": 503,
        "error": "boom", "delivered_at": None, "failed_at": None, "created_at": "c", "updated_at": "u"}
    assert upgraded.one("SELECT * FROM theo_deliveries") == {
        "id": "whd_2", "tenant": "t", "webhook_id": "uuid", "event_id": "evt_2", "event_type": "key.created",
        "payload": "{}", "status": "failed", "attempts": 5, "due_ms": None, "http_status": 500, "error": "gone",
        "delivered_at": None, "failed_at": "f", "created_at": "c", "updated_at": "u"}
    upgraded.close()
