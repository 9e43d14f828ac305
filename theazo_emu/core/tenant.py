"""The tenant-bound handle: what domain code works with, so isolation holds by construction.

A `Tenant` carries one tenant's view of the store (store.Scoped: every statement made
through it filters on, or writes, this tenant), the virtual clock, fresh ids for its rows,
the settings, the change feed that wakes streams and timers, the cipher for its secrets,
the mock engine and the journal. Domain functions take it first (`def start_run(t: Tenant,
agent_id, task)`) instead of the whole Emulator and a tenant name beside it. Code that is
cross-tenant by nature (timer sources firing for every tenant, the admin API, snapshots,
seeding) holds the running instance (core/host.Host), and asks it for a handle
(`emu.tenant(name)`) when it calls the domain on one tenant's behalf.

The handle is built from parts, not from the Emulator, so this module imports nothing of
the emulator and no module needs the Emulator only to name a type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from theazo_emu.core.clock import Clock
    from theazo_emu.core.journal import Journal
    from theazo_emu.core.store import Scoped
    from theazo_emu.settings import Settings


class Tenant:
    """One tenant's handle: `name`, `store` (its rows only), `clock`, `settings`, `changes`,
    `cipher`, `engine`, `journal`, `faults` (the fault rules in force, for work no request
    carries: a scheduled run), and `new_id(prefix)` for a row about to be written.

    Also, for a surface's domain: `extras` (the emulator's in-memory state a surface keeps
    under names it owns: rate-limit windows, a health override), `layers()` (the fixture
    layers in force) and `outbox(product, rows, send_now=True)` (store pending webhook
    deliveries, core/delivery.queue, and send those due)."""

    __slots__ = ("name", "store", "clock", "settings", "changes", "cipher", "engine", "journal", "_ids",
                 "background", "extras", "layers", "outbox", "faults")

    def __init__(self, store: "Scoped", clock: "Clock", settings: "Settings", *, changes: Any, cipher: Any,
                 engine: Any, journal: "Journal", ids: Callable[[str, str, int, int], str], background: set,
                 extras: dict[str, Any] | None = None, layers: Callable[[], Any] | None = None,
                 outbox: Callable[..., list[dict[str, Any]]] | None = None, faults: Any = None) -> None:
        self.name, self.store, self.clock, self.settings = store.tenant, store, clock, settings
        self.changes, self.cipher, self.engine, self.journal = changes, cipher, engine, journal
        self._ids, self.background = ids, background
        self.extras = {} if extras is None else extras
        self.layers = layers if layers is not None else (lambda: ())
        self.outbox, self.faults = outbox, faults

    def new_id(self, prefix: str) -> str:
        """A fresh id for a row of this tenant about to be written (inside that write's transaction)."""
        return self._ids(prefix, self.name, self.clock.now_ms(), self.store.next_seq())

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def now_iso(self) -> str:
        return self.clock.now_iso()

    def __repr__(self) -> str:
        return f"Tenant({self.name!r})"
