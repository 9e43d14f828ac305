"""What the kernel and the shared machinery use of a running emulator: the `Host` protocol.

Code that is cross-tenant by nature (the front door, timers, deliveries, snapshots, the
journal, record/replay, fixtures, the admin API) works with the whole running instance, not
one tenant's handle (core/tenant.py). It names that instance `Host`, which lists only what
it uses; `emulator.Emulator` satisfies it structurally, so nothing below the wiring imports
the Emulator, even to name a type. A `TimerSource` (what core/timers.py fires) is declared here
beside the host it is handed.

The fixtures and the tape belong to the shared machinery above the core (fixtures/active.py,
record/tape.py); the core only passes them through, so they are not typed here. Nor are the
parts whose own modules name the request context (faults, the rate limiter, guards, surfaces):
naming them here would close a loop of type imports through core/http.py, and this module
stays a leaf that any module may import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from theazo_emu.core.auth import KeyAliases
    from theazo_emu.core.changes import Changes
    from theazo_emu.core.clock import Clock
    from theazo_emu.core.crypto import Cipher
    from theazo_emu.core.ids import IdSource
    from theazo_emu.core.store import Store
    from theazo_emu.settings import Settings


class TimerSource(Protocol):
    """Something due at virtual instants, for every tenant. core/timers.py, the one owner of
    time, hands it the running instance (for tenants' handles and what is kept in memory) and
    the whole store explicitly (its rows are every tenant's); a firing works on one
    tenant's rows through that tenant's handle (`emu.tenant(row["tenant"])`)."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        """The earliest instant (epoch ms) at which something is due, or None."""

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        """Do everything due at or before `at_ms`; describe what happened. Nothing of another
        source is due before `horizon_ms` (>= at_ms): a source may go on to fire its own
        instants up to it, in time order with the clock set to each (as fire_until would),
        but only while what it fires makes nothing due for another source, moving the clock
        with `reach` (the one owner of time moving forward while firing)."""


class Host(Protocol):
    """A running emulator, as cross-tenant code sees it."""

    settings: "Settings"
    store: "Store"
    clock: "Clock"
    ids: "IdSource"
    cipher: "Cipher"
    changes: "Changes"
    journal: Any  # core.journal.Journal
    timers: list[TimerSource]
    background: set["asyncio.Task"]
    rate_limiter: Any  # core.ratelimit.RateLimiter
    extras: dict[str, Any]
    faults: Any  # core.faults.Faults
    aliases: "KeyAliases"
    fixtures: Any  # fixtures.active.Fixtures
    tape: Any  # record.tape.Tape

    def guards_for(self, surface: Any) -> list[Any]:
        """The guards a surface asks for, in their one order."""

    def tenant(self, name: str, store: Any = None) -> Any:
        """The handle domain code works with on this tenant's behalf (a core.tenant.Tenant)."""

    def new_id(self, prefix: str, tenant: str) -> str:
        """A fresh id for a row about to be written (inside that write's transaction)."""

    def save_clock(self) -> None:
        """Remember the virtual time in the database."""
