"""The Emulator: one object holding everything a running instance has.

`create_app(settings)` builds one and puts it on `app.state.emu`; nothing lives in
module-level state, so several emulators can run in one process (the tests do).
It owns the store, the virtual clock, the id source, the mock engine, a `Changes`
notifier that wakes streams when the clock moves or a run starts, the timer sources
(things due at virtual instants, timers.py), the record/replay switch (tape.py), the keys'
readable aliases, and the guards: the checks that run before an
endpoint, in the one order GUARD_ORDER declares, on the surfaces that ask for them.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theazo_emu.core import delivery, faults
from theazo_emu.core.auth import KeyAliases
from theazo_emu.core.changes import Changes
from theazo_emu.core.clock import Clock
from theazo_emu.core.crypto import open_cipher
from theazo_emu.core.faults import Faults
from theazo_emu.core.ids import IdSource
from theazo_emu.core.journal import Journal
from theazo_emu.core.ratelimit import RateLimiter
from theazo_emu.core.store import Scoped, Store
from theazo_emu.core.tenant import Tenant
from theazo_emu.core.timers import TimerSource
from theazo_emu.fixtures.active import Fixtures
from theazo_emu.record.tape import Tape
from theazo_emu.theazo.domain import pricing
from theazo_emu.theazo.mock.scripts import fixture_engine

from .settings import Settings

if TYPE_CHECKING:
    from theazo_emu.core.http import Guard
    from theazo_emu.core.surface import Surface

# The guards (core/http.Guard) in the order they run. The rate limit goes first, so a
# refused request does no other work; a replay comes after the scopes, so it is only ever
# shown to a key that may make the request.
GUARD_ORDER = ("rate_limit", "scopes", "idempotency", "faults")


class Emulator:
    """The running instance (what cross-tenant code uses of it is core/host.Host)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db)
        try:
            self.cipher = open_cipher(settings.master_key, self.store)  # secrets at rest, see crypto.py
        except Exception:
            self.store.close()
            raise
        self.clock = Clock.from_setting(settings.clock)
        stored = self.store.scalar("SELECT MAX(now_ms) FROM clock")
        if stored is not None and stored > self.clock.now_ms():
            self.clock.set(stored)  # a persisted database never sees its time run backwards
        self.ids = IdSource(settings.seed)
        self.changes = Changes()
        self.workdir = settings.workdir or Path(tempfile.gettempdir()) / "theazo-emu"
        self.timers: list[TimerSource] = []  # the families' (lazy.timers), registered in create_app
        self.journal = Journal(settings.journal_size)  # requests and server-side events
        self.background: set[asyncio.Task] = set()  # in-flight real-world calls (workflow webhooks)
        self.rate_limiter = RateLimiter(settings.rate_limit)
        # In-memory state a surface keeps for this emulator (its rate-limit windows, a cached
        # answer), under names it owns; it lives and dies with the emulator, like the journal.
        self.extras: dict[str, Any] = {}
        self.faults = Faults(settings.seed)  # fault rules: the API's, then the fixtures'
        self.fixtures = Fixtures(settings.fixtures, self.faults)  # installed (loaded, seeded) in create_app
        self.engine = fixture_engine(settings.seed, pricing, self.fixtures.layers)  # priced by the ledger's table
        self.aliases = KeyAliases()  # readable names of the keys seen (the inspector shows them)
        self.tape = Tape(self)  # what is recorded or replayed (tape.py); started in create_app
        self.guards: dict[str, Guard] = {"rate_limit": self.rate_limiter.guard, "scopes": self.fixtures.scope_guard,
                                         "faults": faults.guard}

    def guards_for(self, surface: "Surface") -> list[Guard]:
        """The guards a surface asks for, in GUARD_ORDER (its own implementation where it has one)."""
        return [surface.own_guards.get(name) or self.guards[name] for name in GUARD_ORDER if name in surface.guards]

    def tenant(self, name: str, store: Scoped | None = None) -> Tenant:
        """The handle domain code works with on this tenant's behalf (core/tenant.py), over
        `store` when the caller has the tenant's view already (a request's `ctx.store`)."""
        return Tenant(store or self.store.scoped(name), self.clock, self.settings, changes=self.changes, cipher=self.cipher,
                      engine=self.engine, journal=self.journal, ids=self.ids.make, background=self.background,
                      extras=self.extras, layers=self.fixtures.layers, outbox=self._outbox,
                      faults=self.faults)

    def _outbox(self, product: Any, rows: list[dict[str, Any]], send_now: bool = True) -> list[dict[str, Any]]:
        """Store pending webhook deliveries and send those due (a handle's `outbox`)."""
        return delivery.queue(self, product, rows, send_now)

    def new_id(self, prefix: str, tenant: str) -> str:
        """A fresh id for a row about to be written (call inside that write's transaction)."""
        return self.ids.make(prefix, tenant, self.clock.now_ms(), self.store.next_seq(tenant))

    def save_clock(self) -> None:
        """Remember the virtual time in the database (called whenever it is moved)."""
        self.store.db.execute("INSERT INTO clock (id, now_ms) VALUES (1, ?) "
                              "ON CONFLICT(id) DO UPDATE SET now_ms = excluded.now_ms", [self.clock.now_ms()])

    def close(self) -> None:
        self.store.close()
