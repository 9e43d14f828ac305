"""The frozen schema (core/schema.sql) and the migrations it stands for.

A fresh database loads the frozen file; an older database file runs the migrations it
lacks. Both must end with the same tables, so the file is checked against the migrations.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

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
