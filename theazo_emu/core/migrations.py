"""The database schema, declared explicitly as sqlite-utils migrations, one set for the whole
emulator whose functions live with their product (theazo/migrations.py, theo/migrations.py;
registry.MIGRATIONS lists those modules in the order they run).

Every table is created by a migration with its primary key, NOT NULL columns and defaults;
nothing else creates tables or columns. Each API family appends its own migration function
(names are unique and never change once released, since persisted databases record them).
Every table holding tenant data has a `tenant` column and is named by its family in
registry.py; its JSON columns are declared in schema.JSON.

A fresh database does not replay these: it loads core/schema.sql, their frozen result
(`python -m theazo_emu.cli.regen` rewrites it; a test keeps the two equal). They run
only to bring an older database file up to date, so sqlite-utils stays off the start-up
path.
"""

from __future__ import annotations

import importlib

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from theazo_emu.registry import MIGRATIONS

migrations = Migrations("theazo_emu")


def loaded() -> Migrations:
    """The set with every product's migrations registered, in registry order."""
    for module in MIGRATIONS:
        importlib.import_module(module)  # registers its functions on `migrations` once
    return migrations


def dump() -> str:
    """The schema these migrations build on an empty database, as core/schema.sql."""
    import sqlite3

    conn = sqlite3.connect(":memory:", isolation_level=None)
    loaded().apply(Database(conn))
    objects = conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                           "ORDER BY rowid").fetchall()
    names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    lines = ["-- The schema for a fresh database: the frozen result of the migrations (core/migrations.py).",
             "-- Rewritten by `python -m theazo_emu.cli.regen`; tests/test_schema.py keeps it equal to them."]
    lines += [f"{sql};" for (sql,) in objects]
    lines += [f"INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
              f"VALUES ('{migrations.name}', '{name}', '{FROZEN}');" for name in names]
    return "\n".join(lines) + "\n"


# The applied_at of migrations a fresh database took from the dump: a label that databases
# already carry (the file itself is core/schema.sql).
FROZEN = "data/schema.sql"
