"""The SQLite store: one connection, an explicit schema, transactions and paging.

A thin layer over the sqlite3 connection (in autocommit mode: a statement outside
`atomic()` commits by itself). The schema is declared as sqlite-utils migrations
(migrations.py, see schema.py); no insert here may invent a table or a column. The
`Emulator` owns the one connection. JSON columns (declared per table in schema.JSON) are
stored as text and decoded here, so callers see plain dicts; camelCase exists only in
serializers.

Tenant isolation holds by construction, not by care: endpoints get `store.scoped(tenant)`
(`ctx.store`), a view whose every statement filters on, or writes, the tenant itself.
Statements written out in SQL stay in the modules that own their tables (a test lists
them); everywhere else reads and writes go through the view.

Every endpoint runs under `atomic_call`: its writes commit only if it returns, so a
request answered with an error (a 5xx above all) stores nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import types
from functools import lru_cache
from typing import Any, Coroutine, Generator

import orjson

from theazo_emu.core.checkpoint import EVERY, LIMIT, Checkpointer
from theazo_emu.core.errors import NotFound
from theazo_emu.core.schema import JSON, prepare
from theazo_emu.registry import TENANT_TABLES

_dumps = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps with options builds an encoder per call
_EMPTY_JSON = {list: "[]", dict: "{}"}  # the commonest JSON values, written without the encoder


class Encoded(str):
    """A JSON column's value already encoded (for data written many times over): stored as is."""

    __slots__ = ()


def encoded(value: Any) -> Encoded:
    return Encoded(_dumps(value))


def _values(table: str, columns: tuple[str, ...], row: dict[str, Any]) -> list[Any]:
    """The row's values in column order, the table's JSON columns encoded."""
    values = list(row.values())
    for i in _json_positions(table, columns):
        value = values[i]
        if value is not None and value.__class__ is not Encoded:
            values[i] = (not value and _EMPTY_JSON.get(type(value))) or _dumps(value)
    return values


@lru_cache(maxsize=512)
def _json_positions(table: str, columns: tuple[str, ...]) -> tuple[int, ...]:
    json_columns = JSON.get(table, ())
    return tuple(i for i, column in enumerate(columns) if column in json_columns)


@lru_cache(maxsize=512)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names, marks = ", ".join(f"[{c}]" for c in columns), ", ".join("?" * len(columns))
    return f"INSERT INTO [{table}] ({names}) VALUES ({marks})"


@lru_cache(maxsize=512)
def _update_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"UPDATE [{table}] SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE id = ?"


_TABLES = re.compile(r"\b(?:FROM|JOIN)\s+\[?(\w+)", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _json_of(sql: str) -> frozenset[str]:
    """The JSON columns of the tables a query reads (its FROM and JOIN clauses)."""
    return frozenset().union(*(JSON.get(table, ()) for table in _TABLES.findall(sql)))


def _decode(text: str) -> Any:
    """A JSON column's value (orjson: every read of a row decodes its JSON columns). Text
    orjson refuses goes to the json module, which also reads NaN and integers past 64 bits;
    text that is not JSON at all (a row written by hand, a file from elsewhere) reads as None
    rather than failing every read of its table. Values strict JSON cannot carry are cleaned
    when answers are encoded (jsonio.dumps)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


class _Atomic:
    """A `with store.atomic():` block: BEGIN ... COMMIT, or a savepoint when nested; ROLLBACK
    on an error. A class rather than a generator: an agent run enters three of them.
    It also keeps the transaction's id sequence numbers (see Store.next_seq) in step:
    written at the outermost COMMIT, put back on a rollback."""

    __slots__ = ("store", "outer", "name", "seqs")

    def __init__(self, store: "Store") -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        self.outer, self.name = not store.db.in_transaction, f"sp{store._depth}"
        store.db.execute("BEGIN" if self.outer else f"SAVEPOINT {self.name}")
        self.seqs = {} if self.outer else dict(store._seqs)
        store._seqs = {} if self.outer else store._seqs
        store._depth += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        store = self.store
        db = store.db
        try:
            if kind is None:
                if self.outer and store._seqs:
                    db.executemany(_SAVE_SEQ, store._seqs.items())
                db.execute("COMMIT" if self.outer else f"RELEASE {self.name}")
                if self.outer:
                    store.committed()
            elif db.in_transaction:  # an error may have ended the transaction already
                db.execute("ROLLBACK" if self.outer else f"ROLLBACK TO {self.name}")
                if not self.outer:
                    db.execute(f"RELEASE {self.name}")
        finally:
            if kind is not None or self.outer:
                store._seqs = self.seqs  # a rollback forgets the numbers it handed out
            store._depth -= 1


class _Joined:
    """A block inside an open transaction that takes no savepoint: it rolls back with it."""

    __slots__ = ("store",)

    def __init__(self, store: "Store") -> None:
        self.store = store

    def __enter__(self) -> None:
        self.store._depth += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        self.store._depth -= 1


_SAVE_SEQ = "INSERT INTO counters (tenant, seq) VALUES (?, ?) ON CONFLICT(tenant) DO UPDATE SET seq = excluded.seq"


class StoreError(Exception):
    """The database cannot be opened; the message names its path."""


class Store:
    """The database behind one emulator."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            if path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
                # In WAL mode a commit has reached the operating system when it returns: a process
                # that dies (kill -9, a crash, Ctrl-C) loses nothing it answered. NORMAL leaves out
                # the fsync per commit, which only a power cut between two checkpoints would need,
                # and which made every write wait on the disk with the event loop blocked.
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it (checkpoint.py)
                self.db.execute(f"PRAGMA journal_size_limit={LIMIT * 4096}")
            self.db.execute("PRAGMA foreign_keys=ON")
            prepare(self.db)
        except sqlite3.DatabaseError as exc:  # a missing directory, a file that is not a database...
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        self._checkpointer = None if path == ":memory:" else Checkpointer(path, lambda: self.db.total_changes)
        self._commits = 0  # since the checkpointer's last nudge
        self._depth = 0  # open atomic() blocks
        self._seqs: dict[str, int] = {}  # the open transaction's last id sequence number per tenant
        self._shapes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # per query: names, JSON columns

    def atomic(self, savepoint: bool = True) -> "_Atomic | _Joined":
        """Writes that belong together commit together. Nested, a block takes a savepoint, so
        an error inside undoes only its own writes; with `savepoint=False` it joins the open
        transaction instead (for blocks that raise nothing once they write: checks first)."""
        if not savepoint and self.db.in_transaction:
            return _Joined(self)
        return _Atomic(self)

    def next_seq(self, tenant: str) -> int:
        """The tenant's next id sequence number; call inside the write it numbers.

        Inside atomic() the numbers are counted in memory from the stored one and written
        once, when the outermost block commits (a firing allocates three ids). Only reset
        and state import write `counters` otherwise, and they allocate no ids."""
        if not self._depth:
            with self.atomic():
                return self.next_seq(tenant)
        seq = self._seqs.get(tenant)
        if seq is None:
            row = self.db.execute("SELECT seq FROM counters WHERE tenant = ?", [tenant]).fetchone()
            seq = row[0] if row else 0
        self._seqs[tenant] = seq + 1
        return seq + 1

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert into an existing table; an unknown column is an error, never a new one."""
        columns = tuple(row)
        self.db.execute(_insert_sql(table, columns), _values(table, columns, row))
        return row

    def insert_many(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows that share their columns, in one statement (call inside atomic())."""
        if not rows:
            return
        columns = tuple(rows[0])
        self.db.executemany(_insert_sql(table, columns), [_values(table, columns, row) for row in rows])

    def update(self, table: str, ident: str, changes: dict[str, Any]) -> None:
        columns = tuple(changes)
        self.db.execute(_update_sql(table, columns), [*_values(table, columns, changes), ident])

    def get(self, table: str, tenant: str, ident: str, kind: str) -> dict[str, Any]:
        """One row of this tenant, or `NotFound` (another tenant's id is simply not found)."""
        row = self.one(f"SELECT * FROM [{table}] WHERE id = ? AND tenant = ?", [ident, tenant])
        if row is None:
            raise NotFound(kind, ident)
        return row

    def by_id(self, table: str, ident: str) -> dict[str, Any] | None:
        """The row with this id whatever its tenant: only for public routes, whose id is the
        credential (http.public_row), and for timers, which act for every tenant."""
        return self.one(f"SELECT * FROM [{table}] WHERE id = ?", [ident])

    def one(self, sql: str, params: list[Any] | tuple = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def all(self, sql: str, params: list[Any] | tuple = ()) -> list[dict[str, Any]]:
        # Reads go straight to the connection: sqlite-utils' query() adds per-call work
        # (keyword sniffing, key de-duplication) that shows on the hottest path.
        cursor = self.db.execute(sql, params)
        shape = self._shapes.get(sql)
        if shape is None:  # a query's columns never change: name them and find its JSON ones once
            if len(self._shapes) > 4096:
                self._shapes.clear()
            names = tuple(column[0] for column in cursor.description)
            shape = self._shapes[sql] = (names, tuple(_json_of(sql).intersection(names)))
        names, json_columns = shape
        rows = [dict(zip(names, row)) for row in cursor]
        if json_columns:
            for row in rows:
                for name in json_columns:
                    if row[name] is not None:
                        row[name] = _decode(row[name])
        return rows

    def scalar(self, sql: str, params: list[Any] | tuple = ()) -> Any:
        return self.db.execute(sql, params).fetchone()[0]

    def page(self, table: str, where: str, params: list[Any], limit: int, after: str | None) -> list[dict]:
        """Up to limit+1 rows, newest id first, strictly older than `after` when given."""
        if after is not None:
            where, params = f"({where}) AND id < ?", [*params, after]
        return self.all(f"SELECT * FROM [{table}] WHERE {where} ORDER BY id DESC LIMIT ?", [*params, limit + 1])

    def scoped(self, tenant: str) -> "Scoped":
        """This tenant's view of the store (see the module docstring)."""
        return Scoped(self, tenant)

    def reset(self, tenant: str | None) -> None:
        """Delete every tenant's rows, or one tenant's, in one transaction."""
        where, params = ("tenant = ?", [tenant]) if tenant else ("1", [])
        with self.atomic():
            self.db.execute(f"DELETE FROM run_events WHERE run_id IN (SELECT id FROM runs WHERE {where})", params)
            for table in TENANT_TABLES:
                self.db.execute(f"DELETE FROM [{table}] WHERE {where}", params)

    def committed(self) -> None:
        """Count a commit; every `checkpoint.EVERY`, the checkpointer moves the log into the file.
        When the log has outgrown what it can copy between two commits, this copies the rest,
        so that the next transaction starts the log over (see checkpoint.py)."""
        self._commits += 1
        checkpointer = self._checkpointer
        if checkpointer is None:
            return
        if checkpointer.wanted:
            busy = self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0]
            checkpointer.wanted = bool(busy)
        if self._commits >= EVERY:
            self._commits = 0
            checkpointer.nudge()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.db.close()


class Scoped:
    """One tenant's rows. `where` fragments are ANDed after `tenant = ?`, so no statement made
    through here can read or change another tenant's row; inserts get the tenant written in."""

    __slots__ = ("store", "tenant")

    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    def _where(self, where: str, params: list[Any] | tuple) -> tuple[str, list[Any]]:
        return ("tenant = ?", [self.tenant]) if where == "1" else (f"tenant = ? AND ({where})", [self.tenant, *params])

    def get(self, table: str, ident: str, kind: str) -> dict[str, Any]:
        """The row with this id, or `NotFound` naming `kind` (another tenant's id is not found)."""
        return self.store.get(table, self.tenant, ident, kind)

    def find(self, table: str, where: str = "1", params: list[Any] | tuple = (), *, order: str | None = "id",
             columns: str = "*", group: str | None = None) -> dict | None:
        """The first matching row in `order`, or None."""
        rows = self.rows(table, where, params, order=order, limit=1, columns=columns, group=group)
        return rows[0] if rows else None

    def rows(self, table: str, where: str = "1", params: list[Any] | tuple = (), *, order: str | None = "id",
             limit: int | None = None, columns: str = "*", group: str | None = None) -> list[dict[str, Any]]:
        """The matching rows in `order` (None: no order, for aggregates), at most `limit`."""
        where, params = self._where(where, params)
        tail = ((f" GROUP BY {group}" if group else "") + (f" ORDER BY {order}" if order else "")
                + (f" LIMIT {int(limit)}" if limit is not None else ""))
        return self.store.all(f"SELECT {columns} FROM [{table}] WHERE {where}{tail}", params)

    def value(self, table: str, expression: str, where: str = "1", params: list[Any] | tuple = ()) -> Any:
        """One value computed over the matching rows, such as `COUNT(*)` or `MAX(end_ms)`."""
        where, params = self._where(where, params)
        return self.store.scalar(f"SELECT {expression} FROM [{table}] WHERE {where}", params)

    def count(self, table: str, where: str = "1", params: list[Any] | tuple = ()) -> int:
        return self.value(table, "COUNT(*)", where, params)

    def page(self, table: str, where: str, params: list[Any] | tuple, limit: int, after: str | None) -> list[dict]:
        """Up to limit+1 rows, newest id first, strictly older than `after` when given."""
        where, params = self._where(where, params)
        return self.store.page(table, where, params, limit, after)

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert a row of this tenant (its `tenant` column is set here)."""
        return self.store.insert(table, {**row, "tenant": self.tenant})

    def insert_many(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows of this tenant that share their columns, in one statement (their
        `tenant` column is set here; call inside atomic())."""
        self.store.insert_many(table, [{**row, "tenant": self.tenant} for row in rows])

    def update(self, table: str, ident: str, changes: dict[str, Any]) -> None:
        """Change this tenant's row `ident` (nothing happens to another tenant's)."""
        columns = tuple(changes)
        sql = _update_sql(table, columns) + " AND tenant = ?"
        self.store.db.execute(sql, [*_values(table, columns, changes), ident, self.tenant])

    def delete(self, table: str, where: str, params: list[Any] | tuple = ()) -> int:
        """Delete the matching rows; returns how many went."""
        where, params = self._where(where, params)
        return self.store.db.execute(f"DELETE FROM [{table}] WHERE {where}", params).rowcount

    def select(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a statement written out (a join, an aggregate over several tables) that
        names this tenant as `:tenant` wherever it reads a tenant table."""
        return self.store.all(_tenanted(sql), {**params, "tenant": self.tenant})

    def execute(self, sql: str, **params: Any) -> int:
        """Run a statement written out (an UPDATE of many rows, say) that confines itself to
        this tenant with `:tenant`; returns how many rows it changed."""
        return self.store.db.execute(_tenanted(sql), {**params, "tenant": self.tenant}).rowcount

    def atomic(self, savepoint: bool = True) -> "_Atomic | _Joined":
        return self.store.atomic(savepoint)

    def next_seq(self) -> int:
        """This tenant's next sequence number (Store.next_seq): call inside the write it numbers."""
        return self.store.next_seq(self.tenant)


def _tenanted(sql: str) -> str:
    """The statement, if it names the tenant; a statement that does not could reach any
    tenant's rows, so it is refused before it runs."""
    if ":tenant" not in sql:
        raise ValueError(f"a statement run through a tenant's view must name :tenant: {sql[:80]}")
    return sql


async def atomic_call(store: Store, call: Coroutine[Any, Any, Any]) -> Any:
    """Run an endpoint so that what it writes commits only if it returns: an error, expected
    or not (so every 4xx and 5xx), rolls its writes back. The transaction lasts until the
    endpoint first waits on something (the connection is shared: another request must never
    write inside this one's transaction); what it wrote by then commits there, and the rest
    of it runs as any code does, each write block committing on its own. Nearly every
    endpoint never waits (a run, a firing, a reset); those that do wait first and write after
    (local exec, the clock advance)."""
    block = store.atomic()
    block.__enter__()
    try:
        signal = call.send(None)
    except StopIteration as done:
        block.__exit__(None, None, None)
        return done.value
    except BaseException as exc:
        block.__exit__(type(exc), exc, exc.__traceback__)
        _settle(store, exc)
        raise
    block.__exit__(None, None, None)
    return await _resumed(store, call, signal)


def _settle(store: Store, exc: BaseException) -> None:
    """Write what a refusal records of itself (ApiError.settle), in a block of its own."""
    settle = getattr(exc, "settle", None)
    if settle is not None:
        with store.atomic():
            settle()


@types.coroutine
def _resumed(store: Store, call: Coroutine[Any, Any, Any], signal: Any) -> Generator[Any, Any, Any]:
    """Go on driving `call` from where it first waited, as `await call` would have."""
    while True:
        try:
            sent = yield signal
        except GeneratorExit:
            call.close()
            raise
        except BaseException as exc:  # thrown into the awaiting task (cancellation): hand it on
            thrown, sent = exc, None
        else:
            thrown = None
        try:
            signal = call.send(sent) if thrown is None else call.throw(thrown)
        except StopIteration as done:
            return done.value
        except BaseException as exc:
            if exc is not thrown:
                _settle(store, exc)
            raise
