"""The store's transactions and the id sequence numbers they keep in step."""

from __future__ import annotations

import pytest

from theazo_emu.core.store import Store


def test_atomic_rolls_back_a_nested_block_alone() -> None:
    store = Store(":memory:")
    with store.atomic():
        store.insert("counters", {"tenant": "a", "seq": 1})
        try:
            with store.atomic():
                store.insert("counters", {"tenant": "b", "seq": 1})
                raise RuntimeError("inner")
        except RuntimeError:
            pass
    assert [r["tenant"] for r in store.all("SELECT tenant FROM counters")] == ["a"]
    try:
        with store.atomic():
            store.insert("counters", {"tenant": "c", "seq": 1})
            raise RuntimeError("outer")
    except RuntimeError:
        pass
    assert store.scalar("SELECT COUNT(*) FROM counters") == 1 and not store.db.in_transaction


def _stored(store: Store, tenant: str) -> int | None:
    row = store.db.execute("SELECT seq FROM counters WHERE tenant = ?", [tenant]).fetchone()
    return row[0] if row else None


def test_sequence_numbers_are_written_when_the_transaction_commits() -> None:
    store = Store(":memory:")
    with store.atomic():
        assert [store.next_seq("a"), store.next_seq("a"), store.next_seq("b")] == [1, 2, 1]
        assert _stored(store, "a") is None  # counted in memory until COMMIT
    assert (_stored(store, "a"), _stored(store, "b")) == (2, 1)
    assert store.next_seq("a") == 3 and _stored(store, "a") == 3  # outside a transaction: at once


def test_a_rolled_back_block_hands_its_numbers_out_again() -> None:
    store = Store(":memory:")
    with store.atomic():
        assert store.next_seq("a") == 1
        with pytest.raises(RuntimeError):
            with store.atomic():
                assert store.next_seq("a") == 2
                raise RuntimeError("nested")
        assert store.next_seq("a") == 2  # the savepoint's number again
        with store.atomic():
            assert store.next_seq("a") == 3  # a nested block that commits keeps its numbers
        assert store.next_seq("a") == 4
    with pytest.raises(RuntimeError):
        with store.atomic():
            assert store.next_seq("a") == 5
            raise RuntimeError("outer")
    assert _stored(store, "a") == 4
    with store.atomic():
        assert store.next_seq("a") == 5


def test_reset_restarts_the_numbers() -> None:
    store = Store(":memory:")
    with store.atomic():
        store.next_seq("a")
    store.reset("a")
    with store.atomic():
        assert store.next_seq("a") == 1


def test_a_block_without_savepoint_joins_the_open_transaction() -> None:
    store = Store(":memory:")
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    with store.atomic():
        with store.atomic(savepoint=False):
            store.insert("counters", {"tenant": "a", "seq": 1})
            assert store.next_seq("b") == 1  # still counted in the transaction's memory
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in statements)
    assert _stored(store, "b") == 1
    with pytest.raises(RuntimeError):
        with store.atomic():
            with store.atomic(savepoint=False):
                store.insert("counters", {"tenant": "c", "seq": 1})
                assert store.next_seq("b") == 2
            raise RuntimeError("the outer block fails: the joined writes go with it")
    assert store.scalar("SELECT COUNT(*) FROM counters WHERE tenant = 'c'") == 0 and _stored(store, "b") == 1
    with store.atomic(savepoint=False):  # with no transaction open it is one of its own
        store.insert("counters", {"tenant": "d", "seq": 1})
        assert store.db.in_transaction
    assert store.scalar("SELECT COUNT(*) FROM counters WHERE tenant = 'd'") == 1


def test_a_statement_written_out_through_a_tenant_view_must_name_the_tenant() -> None:
    store = Store(":memory:")
    for tenant, user in (("t1", "u1"), ("t2", "u2")):
        store.scoped(tenant).insert("sessions", {"id": f"ses_{tenant}", "user_id": user, "status": "active",
                                                 "created_at": "2025-05-01T00:00:00.000Z"})
    mine = store.scoped("t1")
    rows = mine.select("SELECT id FROM sessions WHERE tenant = :tenant AND status = :status", status="active")
    assert rows == [{"id": "ses_t1"}]
    assert mine.execute("UPDATE sessions SET status = 'paused' WHERE tenant = :tenant") == 1
    assert store.one("SELECT status FROM sessions WHERE id = 'ses_t2'") == {"status": "active"}
    for sql in ("SELECT id FROM sessions", "UPDATE sessions SET status = 'x'"):
        with pytest.raises(ValueError, match=":tenant"):
            (mine.select if sql.startswith("SELECT") else mine.execute)(sql)
    assert store.one("SELECT status FROM sessions WHERE id = 'ses_t2'") == {"status": "active"}


def test_a_tenant_handle_mints_ids_and_writes_only_its_own_rows(emu) -> None:
    one, two = emu.tenant("t1"), emu.tenant("t2")
    with one.store.atomic():
        first = one.new_id("ses")
        one.store.insert("sessions", {"id": first, "user_id": "u", "status": "active", "created_at": one.now_iso()})
    assert first.startswith("ses_") and first != two.new_id("ses")
    assert one.store.count("sessions") == 1 and two.store.count("sessions") == 0 and one.name == "t1"
