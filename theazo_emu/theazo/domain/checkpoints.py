"""Checkpoints: the one writer of `checkpoints` and `checkpoint_files`.

sdk-compat.md "Agent instance". A checkpoint keeps a copy of the agent's files (agent_files)
as they were when it was made (`create`); `restore()` puts them back inside the resume's
transaction.
`used_seq` orders checkpoints by when they were made or resumed from (the clock may be
frozen, so an order, not an instant). The routes are theazo/routes/checkpoints.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import NotFound

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE = "checkpoints"


def checkpoint_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "agentId": row["agent_id"], "snapshotId": row["snapshot_id"], "phase": row["phase"],
            "progress": row["progress"], "metadata": row["metadata"], "createdAt": row["created_at"]}


def create(t: "Tenant", agent: dict, phase: str | None, progress: Any, metadata: Any) -> dict:
    """A checkpoint of the agent with a copy of its files, now."""
    store = t.store
    with store.atomic():
        row = store.insert(TABLE, {
            "id": t.new_id("ckpt"), "tenant": t.name, "agent_id": agent["id"],
            "snapshot_id": t.new_id("snap"), "phase": phase, "progress": progress,
            "metadata": metadata, "created_at": iso(t.now_ms()), "used_seq": next_use(store, agent["id"])})
        copy_files(store, "agent_files", "agent_id", agent["id"], "checkpoint_files", "checkpoint_id", row["id"])
    return row


def copy_files(store: "Scoped", source: str, source_key: str, source_id: str,
               target: str, target_key: str, target_id: str) -> None:
    """Copy one owner's files (an agent's or a checkpoint's) to another owner, in SQL."""
    columns = "path, tenant, content, encoding, size, modified_at"
    store.execute(f"INSERT INTO {target} ({target_key}, {columns}) SELECT :target, {columns} FROM {source} "
                  f"WHERE {source_key} = :source AND tenant = :tenant", target=target_id, source=source_id)


def next_use(store: "Scoped", agent_id: str) -> int:
    """The next number in the order checkpoints are made or resumed from (the clock may be frozen)."""
    return store.value(TABLE, "COALESCE(MAX(used_seq), 0) + 1", "agent_id = ?", [agent_id])


def restore(t: "Tenant", agent: dict, checkpoint_id: str) -> None:
    """Put the agent's files back as they were at the checkpoint (call inside the resume's
    transaction); NotFound for a checkpoint that is not this agent's."""
    store = t.store
    row = store.find(TABLE, "id = ? AND agent_id = ?", [checkpoint_id, agent["id"]], order=None, columns="id")
    if row is None:
        raise NotFound("checkpoint", checkpoint_id)
    with store.atomic():
        store.delete("agent_files", "agent_id = ?", [agent["id"]])
        copy_files(store, "checkpoint_files", "checkpoint_id", checkpoint_id, "agent_files", "agent_id", agent["id"])
        store.update(TABLE, checkpoint_id, {"used_seq": next_use(store, agent["id"])})
