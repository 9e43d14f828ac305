"""State export and import: every table's rows as one JSON document, and back.

DESIGN.md "Admin API". Tables come from sqlite_master, so new families' tables are included
(skipped: SQLite's, migrations, `clock`, which the document carries itself, and the key check
in `crypto_meta`). Secrets stay AES-GCM ciphertext, never plaintext; JSON columns are decoded,
BLOBs become {"$base64": ...}. Invariants: export -> import into a fresh emulator -> export
gives the identical document; an import is one transaction (all rows or none).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Unprocessable
from theazo_emu.core.schema import JSON
from theazo_emu.registry import RENAMED_COLUMNS

log = logging.getLogger("theazo_emu")

if TYPE_CHECKING:
    from theazo_emu.core.host import Host

FORMAT = "theazo-emu-state"
VERSION = 1
SKIPPED_TABLES = frozenset({"_sqlite_migrations", "clock", "crypto_meta"})


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    order: str  # ORDER BY clause that makes the export stable
    tenant_filter: str | None  # SQL condition selecting one tenant's rows (one `?`), None: global


def tables(db: Any) -> list[Table]:
    """Every state table, by name, with how to order and how to select a tenant's rows."""
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    virtual = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
    names = [n for n in names if n not in SKIPPED_TABLES and not any(n.startswith(v + "_") for v in virtual)]
    info = {n: db.execute(f"PRAGMA table_info([{n}])").fetchall() for n in names}
    tenanted = {n for n in names if any(col[1] == "tenant" for col in info[n])}
    out = []
    for name in names:
        columns = tuple(col[1] for col in info[name])
        pk = [col[1] for col in sorted(info[name], key=lambda c: c[5]) if col[5]]
        order = ", ".join(f"[{c}]" for c in pk) if pk else "rowid"
        out.append(Table(name, columns, order, _tenant_filter(db, name, columns, tenanted)))
    return out


def _tenant_filter(db: Any, name: str, columns: tuple[str, ...], tenanted: set[str]) -> str | None:
    """`tenant = ?` for tenant tables; for child tables (run_events), a link to a tenant
    table: a declared foreign key, else a `<x>_id` column naming table `<x>s`."""
    if "tenant" in columns:
        return "tenant = ?"
    links = [(fk[2], fk[3], fk[4] or "id") for fk in db.execute(f"PRAGMA foreign_key_list([{name}])").fetchall()]
    links += [(c[:-3] + "s", c, "id") for c in columns if c.endswith("_id")]
    for parent, column, parent_column in links:
        if parent in tenanted:
            return f"[{column}] IN (SELECT [{parent_column}] FROM [{parent}] WHERE tenant = ?)"
    return None


def export_state(emu: "Host", tenant: str | None = None) -> dict[str, Any]:
    """The whole state (or one tenant's) as one JSON-ready document."""
    body: dict[str, Any] = {}
    db = emu.store.db  # every tenant's tables (or one tenant's rows of them)
    for table in tables(db):
        if tenant is not None and table.tenant_filter is None:
            continue
        where, params = (f"WHERE {table.tenant_filter}", [tenant]) if tenant is not None else ("", [])
        cursor = db.execute(f"SELECT * FROM [{table.name}] {where} ORDER BY {table.order}", params)
        body[table.name] = [_export_row(table.name, table.columns, row) for row in cursor.fetchall()]
    now = emu.clock.now_ms()
    return {"format": FORMAT, "version": VERSION, "tenant": tenant, "seed": emu.settings.seed,
            "clock": {"now": iso(now), "epochMs": now, "frozen": emu.clock.frozen}, "tables": body}


def _export_row(table: str, columns: tuple[str, ...], row: tuple) -> dict[str, Any]:
    out, json_columns = {}, JSON.get(table, ())
    for column, value in zip(columns, row):
        if isinstance(value, bytes):
            value = {"$base64": base64.b64encode(value).decode("ascii")}
        elif column in json_columns and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # written by hand as plain text; imported back the same way
        out[column] = value
    return out


def write_export(emu: "Host", path: Path) -> None:
    """The whole state written to `path` (through a temporary file, so a half-written
    document never replaces a good one); logged, and an unwritable path logged, not raised."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(json.dumps(export_state(emu), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        log.error("cannot write the state to %s: %s", path, exc.strerror)
        return
    log.warning("state written to %s", path)


def import_state(emu: "Host", document: dict[str, Any]) -> dict[str, Any]:
    """Replace the state (or, for a one-tenant document, that tenant's) with the document's."""
    store = emu.store  # every tenant's tables (or one tenant's rows of them)
    known = {t.name: t for t in tables(store.db)}
    rows_by_table = {name: _renamed(name, rows) for name, rows in document["tables"].items()}
    tenant = document.get("tenant")
    problems = [{"field": f"tables.{name}", "message": "no such table"} for name in rows_by_table
                if name not in known]
    for name, rows in rows_by_table.items():
        if name in known:
            problems += _row_problems(known[name], rows, tenant)
    if problems:
        raise Unprocessable(f"The state document does not fit this emulator's schema: "
                            f"{problems[0]['field']}: {problems[0]['message']}.", problems[:50])
    counts: dict[str, int] = {}
    try:
        with store.atomic():
            store.db.execute("PRAGMA defer_foreign_keys = ON")
            for table in known.values():
                if tenant is None:
                    store.db.execute(f"DELETE FROM [{table.name}]")
                elif table.tenant_filter is not None:
                    store.db.execute(f"DELETE FROM [{table.name}] WHERE {table.tenant_filter}", [tenant])
            for name, rows in rows_by_table.items():
                for row in rows:
                    _insert(store.db, name, row)
                counts[name] = len(rows)
    except (sqlite3.Error, OverflowError) as exc:
        raise Unprocessable(f"The state document was refused by the database: {exc}.",
                            [{"field": "tables", "message": str(exc)}]) from None
    clock = document.get("clock")
    if clock is not None:
        emu.clock.set(clock["epochMs"])
        if clock.get("frozen", True):
            emu.clock.freeze()
        else:
            emu.clock.resume()
        emu.save_clock()
    emu.changes.notify()
    return {"ok": True, "tenant": tenant, "tables": counts, "clock": emu.clock.describe()}


def _renamed(table: str, rows: list[dict]) -> list[dict]:
    """Rows as this schema names their columns (a document exported before a rename)."""
    renames = RENAMED_COLUMNS.get(table)
    if not renames or not isinstance(rows, list):
        return rows
    return [{renames.get(k, k): v for k, v in row.items()} if isinstance(row, dict) else row for row in rows]


def _row_problems(table: Table, rows: list[dict], tenant: str | None) -> list[dict[str, str]]:
    problems = []
    for index, row in enumerate(rows):
        unknown = sorted(set(row) - set(table.columns))
        json_columns = JSON.get(table.name, ())
        blob = next((c for c, v in row.items() if c not in json_columns and not _is_base64(v)), None)
        infinite = next((c for c, v in row.items() if not _finite(v)), None)
        if unknown:
            problems.append({"field": f"tables.{table.name}[{index}].{unknown[0]}", "message": "no such column"})
        elif infinite is not None:
            problems.append({"field": f"tables.{table.name}[{index}].{infinite}",
                             "message": "NaN and infinities are not JSON values"})
        elif blob is not None:
            problems.append({"field": f"tables.{table.name}[{index}].{blob}",
                             "message": "a {\"$base64\": ...} value must be valid base64"})
        elif tenant is not None and table.tenant_filter == "tenant = ?" and row.get("tenant") != tenant:
            problems.append({"field": f"tables.{table.name}[{index}].tenant",
                             "message": "a one-tenant document may only hold that tenant's rows"})
        elif tenant is not None and table.tenant_filter is None:
            problems.append({"field": f"tables.{table.name}", "message": "not a per-tenant table"})
            break
    return problems


def _is_base64(value: Any) -> bool:
    """False only for a {"$base64": ...} marker whose text does not decode."""
    if not (isinstance(value, dict) and set(value) == {"$base64"}):
        return True
    try:
        base64.b64decode(value["$base64"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return False
    return True


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _insert(db: Any, table: str, row: dict[str, Any]) -> None:
    if not row:
        db.execute(f"INSERT INTO [{table}] DEFAULT VALUES")
        return
    json_columns = JSON.get(table, ())
    values = [_import_value(value, column in json_columns) for column, value in row.items()]
    columns = ", ".join(f"[{c}]" for c in row)
    db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({', '.join('?' * len(row))})", values)


def _import_value(value: Any, is_json: bool) -> Any:
    if isinstance(value, dict) and set(value) == {"$base64"} and not is_json:
        return base64.b64decode(value["$base64"])
    if is_json and value is not None:
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value
