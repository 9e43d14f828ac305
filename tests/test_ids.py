"""Ids keep their exact characters: persisted databases and recorded cassettes hold them."""

from __future__ import annotations

import pytest

from theazo_emu.core.ids import IdSource, is_id


@pytest.mark.parametrize(("prefix", "tenant", "now_ms", "seq", "expected"), [
    ("ses", "tenant_a", 1_746_057_600_000, 1, "ses_01JT4J9700000001SSJGDWKXGR"),
    ("task", "tenant_b", 0, 2**30 + 5, "task_0000000000000005ZQEE3FPKGP"),  # the sequence wraps at 30 bits
    ("agt", "t", -1, 0, "agt_ZZZZZZZZZZ0000002PSYSFWTAH"),  # the instant wraps at 50 bits
])
def test_an_id_is_the_instant_the_sequence_and_a_digest(prefix, tenant, now_ms, seq, expected) -> None:
    made = IdSource(7).make(prefix, tenant, now_ms, seq)
    assert made == expected and is_id(made, prefix)


def test_ids_sort_by_instant_then_sequence() -> None:
    source = IdSource(0)
    made = [source.make("run", "t", ms, seq) for ms in (5, 1_000, 86_400_000) for seq in (1, 2, 1024)]
    assert made == sorted(made)
