"""GET /api/v1/benchmarks: latency by mode, measured from the emulator's own journal.

theo-api.md §1.2. Every completion leaves a `theo_completion` event in the journal (its
mode, resolved mode, tokens and cost) beside the request's entry (its duration in virtual
milliseconds: 0 under a frozen clock, wall time under a flowing one). Over the window (24h,
7d or 30d of virtual time before now) the tenant's completions give `latency_by_mode`
(p50, p95, p99, count of the request durations, by resolved mode), `ttft_by_mode` (streams
only: the emulator writes the first token with the rest, so it is their duration),
`classification` (the `auto` requests; null when none), `counters` (totals, tokens and cost,
`by_mode` the count of each mode, as the docs' example shows; no failover happens and routing
is always what it classified, so `failover_count` is 0 and `routing_accuracy` 1.0) and the
`bucket`: the UTC hour the report was aggregated in, stamped as the docs do (`2026-04-16T05`).
The journal is a bounded ring (`--journal-size`): older completions fall out of it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.theo.domain.engines import cents

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

WINDOWS = {"24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}


def _percentile(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _stats(values: list[int], *ps: int) -> dict[str, int]:
    return {**{f"p{p}": _percentile(values, p) for p in ps}, "count": len(values)}


def report(t: "Tenant", window: str) -> dict[str, Any]:
    span = WINDOWS[window]
    now = t.now_ms()
    entries = list(t.journal.entries)
    durations = {e["requestId"]: e.get("durationMs") or 0 for e in entries
                 if e["kind"] == "request" and e.get("requestId")}
    done = [e for e in entries if e["kind"] == "theo_completion" and e.get("tenant") == t.name
            and now - span <= e["atMs"] <= now]
    latency: dict[str, list[int]] = defaultdict(list)
    ttft: dict[str, list[int]] = defaultdict(list)
    by_mode: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "tokens": 0, "cost_units": 0})
    classified: list[int] = []
    for entry in done:
        took = durations.get(entry.get("requestId"), 0)
        mode = entry["resolvedMode"]
        latency[mode].append(took)
        if entry.get("stream"):
            ttft[mode].append(took)
        if entry["mode"] == "auto":
            classified.append(took)
        counts = by_mode[mode]
        counts["count"] += 1
        counts["tokens"] += entry.get("tokens", 0)
        counts["cost_units"] += entry.get("costUnits", 0)
    return {
        "window": window, "bucket": iso(now)[:13], "from": iso(now - span), "to": iso(now),
        "latency_by_mode": {m: _stats(v, 50, 95, 99) for m, v in sorted(latency.items())},
        "ttft_by_mode": {m: _stats(v, 50, 95) for m, v in sorted(ttft.items())},
        "classification": _stats(classified, 50, 95) if classified else None,
        "counters": {"total": len(done), "failover_count": 0, "routing_accuracy": 1.0 if done else None,
                     "total_tokens": sum(c["tokens"] for c in by_mode.values()),
                     "total_cost_cents": cents(sum(c["cost_units"] for c in by_mode.values())),
                     "by_mode": {m: c["count"] for m, c in sorted(by_mode.items())}},
    }
