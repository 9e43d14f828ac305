"""What GET /api/v1/health reports: healthy by default, or what PUT /_emu/theo/health set.

theo-api.md §1.1: the answer is cached for 30 seconds (of virtual time here), which the
`X-Cache: HIT|MISS` header tells; `down` answers 503 with `Retry-After: 30`. The state lives
in the emulator's extras (it is forgotten on a full reset, like any in-memory state).
Each provider carries a `latencyMs` and the body an `infrastructure` block (database, redis),
as `docs/cli-reference/status.mdx` and the MCP package's tests show: fixed figures (those of
the status page), so answers stay deterministic; a provider set `down` or `unconfigured` has
no latency to report (null).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from theazo_emu.theo.domain.engines import VERSION

if TYPE_CHECKING:
    from theazo_emu.core.clock import Clock

CACHE_MS = 30_000
PROVIDERS = ("theo-core", "theo-vision", "theo-search")
LATENCY_MS = {"theo-core": 45, "theo-vision": 120, "theo-search": 89}
INFRASTRUCTURE = {"database": {"status": "healthy", "latencyMs": 3}, "redis": {"status": "healthy", "latencyMs": 1}}


@dataclass
class Health:
    status: str = "healthy"
    providers: dict[str, str] = field(default_factory=lambda: {name: "healthy" for name in PROVIDERS})
    cached_at_ms: int | None = None
    timestamp: str | None = None

    def set(self, status: str, providers: dict[str, str] | None) -> None:
        self.status = status
        self.providers = {name: "healthy" for name in PROVIDERS} | (providers or {})
        self.cached_at_ms = None  # the next request computes afresh

    def answer(self, clock: "Clock") -> tuple[dict[str, Any], bool]:
        """The body and whether it came from the cache."""
        now = clock.now_ms()
        hit = self.cached_at_ms is not None and now - self.cached_at_ms < CACHE_MS
        if not hit:
            self.cached_at_ms, self.timestamp = now, clock.now_iso()
        body = {"status": self.status, "timestamp": self.timestamp, "version": VERSION,
                "providers": {name: {"status": status, "latencyMs": _latency(name, status)}
                              for name, status in self.providers.items()},
                "infrastructure": {name: dict(part) for name, part in INFRASTRUCTURE.items()}}
        return body, hit


def _latency(provider: str, status: str) -> int | None:
    return None if status in ("down", "unconfigured") else LATENCY_MS.get(provider, 50)


def state(extras: dict[str, Any]) -> Health:
    """The health state kept in the emulator's extras (made on first use)."""
    found = extras.get("theo.health")
    if found is None:
        found = extras["theo.health"] = Health()
    return found
