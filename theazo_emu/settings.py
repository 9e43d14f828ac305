"""Every option of the emulator, in one frozen dataclass.

The CLI builds one from its flags and `THEAZO_EMU_*` variables; tests build one directly.
Nothing else reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Pace = Literal["realtime", "instant"]
Dialect = Literal["auto", "reference", "sdk"]
ExecMode = Literal["mock", "local"]
ReplayMode = Literal["strict", "fallback"]

MAX_BODY_BYTES = 1024 * 1024
EXEC_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4010
    db: str = ":memory:"
    seed: int = 0
    clock: str = "now"
    pace: Pace = "realtime"
    dialect: Dialect = "auto"
    fixtures: Path | None = None
    exec_mode: ExecMode = "mock"
    exec_timeout_s: float = EXEC_TIMEOUT_S
    heartbeat_s: float = 15.0
    max_body_bytes: int = MAX_BODY_BYTES
    workdir: Path | None = None
    # Key for secrets at rest (crypto.py): 64 hex chars or base64 of 32 bytes; kept out of repr.
    master_key: str | None = field(default=None, repr=False)
    # Requests per minute per API key: None (off), 'free', 'cloud', 'team' or a number (ratelimit.py).
    rate_limit: str | None = None
    # The Theo surface's per-key tier: None (off), 'free', 'starter', 'pro', 'enterprise' or a
    # number of requests per minute (theo/domain/ratelimit.py).
    theo_rate_limit: str | None = None
    # Theo's semantic cache (theo/domain/cache.py): on, as the service caches by default.
    theo_cache: bool = True
    # Let Theo webhooks call private addresses and plain http (a receiver on loopback).
    allow_private_webhooks: bool = False
    # Record and replay (recording.py) and the journal's size (journal.py).
    record: Path | None = None
    upstream: str | None = None
    replay: Path | None = None
    replay_mode: ReplayMode = "strict"
    journal_size: int = 10_000
    # `serve --export-on-exit FILE`: the whole state is written there when the app shuts down.
    export_on_exit: Path | None = None
    extra: dict = field(default_factory=dict)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def dry_run(self) -> "Settings":
        """These settings for a scratch emulator (fixture dry runs): in memory, no fixtures,
        and never recording or replaying (a dry run must not touch a cassette)."""
        return replace(self, fixtures=None, db=":memory:", record=None, upstream=None, replay=None,
                       export_on_exit=None)
