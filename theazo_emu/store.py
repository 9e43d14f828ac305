"""The SQLite store: one connection, an explicit schema, transactions and paging.

A thin layer over sqlite-utils. The schema is declared with `Migrations` and every
table is created explicitly; no insert may invent a table or a column. The `Emulator`
owns the one connection. JSON columns are stored as text and decoded here, so resource
modules see plain dicts; camelCase exists only in their serializers. Every row carries
its tenant and every query filters on it: tenants never see each other.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .errors import NotFound

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


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v, separators=(",", ":")) if k in JSON_COLUMNS and v is not None else v)
            for k, v in row.items()}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_COLUMNS.intersection(row):
        if row[key] is not None:
            row[key] = json.loads(row[key])
    return row


class Store:
    """The database behind one emulator."""

    def __init__(self, path: str) -> None:
        conn = sqlite3.connect(path, check_same_thread=False)
        self.path = path
        self.db = Database(conn, execute_plugins=False)
        if path != ":memory:":
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        migrations.apply(self.db)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Writes that belong together commit together (savepoints when nested)."""
        with self.db.atomic():
            yield

    def next_seq(self, tenant: str) -> int:
        """The tenant's next id sequence number; call inside the write it numbers."""
        self.db.execute(
            "INSERT INTO counters (tenant, seq) VALUES (?, 1) "
            "ON CONFLICT(tenant) DO UPDATE SET seq = seq + 1", [tenant])
        return self.db.execute("SELECT seq FROM counters WHERE tenant = ?", [tenant]).fetchone()[0]

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert into an existing table; an unknown column is an error, never a new one."""
        data = _encode(row)
        columns = ", ".join(f"[{c}]" for c in data)
        marks = ", ".join("?" for _ in data)
        self.db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(data.values()))
        return row

    def update(self, table: str, ident: str, changes: dict[str, Any]) -> None:
        data = _encode(changes)
        assignments = ", ".join(f"[{c}] = ?" for c in data)
        self.db.execute(f"UPDATE [{table}] SET {assignments} WHERE id = ?", [*data.values(), ident])

    def get(self, table: str, tenant: str, ident: str, kind: str) -> dict[str, Any]:
        """One row of this tenant, or `NotFound` (another tenant's id is simply not found)."""
        row = self.one(f"SELECT * FROM [{table}] WHERE id = ? AND tenant = ?", [ident, tenant])
        if row is None:
            raise NotFound(kind, ident)
        return row

    def one(self, sql: str, params: list[Any] | tuple = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def all(self, sql: str, params: list[Any] | tuple = ()) -> list[dict[str, Any]]:
        # Reads go straight to the connection: sqlite-utils' query() adds per-call work
        # (keyword sniffing, key de-duplication) that shows on the hottest path.
        cursor = self.db.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [_decode(dict(zip(names, row))) for row in cursor]

    def scalar(self, sql: str, params: list[Any] | tuple = ()) -> Any:
        return self.db.conn.execute(sql, params).fetchone()[0]

    def page(self, table: str, where: str, params: list[Any], limit: int, after: str | None) -> list[dict]:
        """Up to limit+1 rows, newest id first, strictly older than `after` when given."""
        if after is not None:
            where, params = f"({where}) AND id < ?", [*params, after]
        return self.all(f"SELECT * FROM [{table}] WHERE {where} ORDER BY id DESC LIMIT ?", [*params, limit + 1])

    def reset(self, tenant: str | None) -> None:
        """Delete every tenant's rows, or one tenant's, in one transaction."""
        where, params = ("tenant = ?", [tenant]) if tenant else ("1", [])
        with self.atomic():
            self.db.execute(f"DELETE FROM run_events WHERE run_id IN (SELECT id FROM runs WHERE {where})", params)
            for table in TENANT_TABLES:
                self.db.execute(f"DELETE FROM [{table}] WHERE {where}", params)

    def close(self) -> None:
        self.db.close()
