"""Async jobs (POST /video, /research) on the virtual clock. Owns theo_jobs.

theo-api.md §1.2 and the SDK's JobStatus. A job is `queued` until its start, `active` (its
progress rising from 0 to 99 with the clock) until its end, then `completed` with a result
or `failed` with an error; the status is derived from the clock whenever it is read, so
`waitForJob` sees it move under a flowing clock and under POST /_emu/clock/advance alike.
By default a video queues 2 s and runs 20 s, research 1 s and 10 s (`--pace instant`: both
end at once); a fixture's `jobs` entry (first match on type, prompt and key) sets the
timeline, the outcome and the result. When a job ends, job.completed or job.failed is
published (`TheoJobTimer`, registered in registry.py, as the clock reaches its end).
Results are the mock engine's: a video's placeholder URL, a research report with sources.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.core.clock import iso
from theazo_emu.core.mock import first_match
from theazo_emu.theo.domain import engines, events
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.mock import generated

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant
    from theazo_emu.theo.fixtures import JobSpec

TABLE, KIND = "theo_jobs", "job"
PUBLIC_PREFIX = {"video": "vid", "research": "res"}
TIMELINE_MS = {"video": (2_000, 20_000), "research": (1_000, 10_000)}  # (queued, active)
MEDIA_BASE = "https://cdn.hitheo.invalid/artifacts"


class Plan(NamedTuple):
    queued_ms: int
    active_ms: int
    outcome: str
    result: Any
    error: str | None
    fail_progress: int
    script: str | None


def scripted(t: "Tenant", kind: str, prompt: str) -> tuple["JobSpec", str] | None:
    """The first fixture `jobs` entry matching the type and the prompt, and where it is declared."""
    entry = first_match(t.layers(), t.name, lambda layer: layer.jobs,
                        lambda spec: ((spec.match.type is None or spec.match.type == kind)
                                      and (spec.match.prompt is None or spec.match.prompt.test(prompt))))
    return None if entry is None else (entry.spec, f"{entry.file} {entry.path}")


def default_result(t: "Tenant", kind: str, ident: str, prompt: str, params: dict[str, Any]) -> Any:
    """The mock's result: a video's URL and length, or a research report with its sources."""
    if kind == "video":
        seconds = int(str(params.get("duration") or "5s").rstrip("s") or 5)
        return {"video_url": f"{MEDIA_BASE}/{ident}.mp4", "thumbnail_url": f"{MEDIA_BASE}/{ident}.jpg",
                "duration_seconds": seconds, "engine": "theo-1-motion", "prompt": prompt,
                "style": params.get("style")}
    answer = generated(t.settings.seed, Ask(prompt=prompt, mode="research", resolved_mode="research",
                                            engine="theo-1-research"))
    count = int(params.get("max_sources") or 10)
    digest = hashlib.sha256(f"{t.settings.seed}|{prompt}".encode()).hexdigest()
    sources = [{"title": f"Source {n} on {prompt[:40]}", "url": f"https://sources.hitheo.invalid/{digest[:12]}/{n}"}
               for n in range(1, min(count, 5 if params.get("depth") == "basic" else 10) + 1)]
    return {"report": answer.content, "sources": sources, "depth": params.get("depth") or "advanced"}


def plan(t: "Tenant", kind: str, prompt: str) -> Plan:
    found = scripted(t, kind, prompt)
    if found is not None:
        spec, where = found
        return Plan(round(spec.queuedSeconds * 1000), round(spec.durationSeconds * 1000), spec.status,
                    spec.result, spec.error or (f"The {kind} job failed (scripted by {where})."
                                                if spec.status == "failed" else None), spec.failProgress, where)
    queued, active = (0, 0) if t.settings.pace == "instant" else TIMELINE_MS[kind]
    return Plan(queued, active, "completed", None, None, 0, None)


def create(t: "Tenant", kind: str, prompt: str, params: dict[str, Any],
           cost_units: int) -> dict[str, Any]:
    """A new job (call inside the request's transaction); publishes its end at once if due."""
    now = t.now_ms()
    steps = plan(t, kind, prompt)
    ident = t.new_id("job")
    public = t.new_id(PUBLIC_PREFIX[kind])
    if steps.outcome == "failed":
        params = {**params, "_fail_progress": steps.fail_progress}
    result = steps.result if steps.result is not None or steps.outcome == "failed" else \
        default_result(t, kind, public, prompt, params)
    row = {"id": ident, "type": kind, "public_id": public, "prompt": prompt, "params": params,
           "queued_ms": now, "start_ms": now + steps.queued_ms, "end_ms": now + steps.queued_ms + steps.active_ms,
           "outcome": steps.outcome, "result": result if steps.outcome == "completed" else None,
           "error": steps.error, "cost_units": cost_units, "notified": 0, "script": steps.script,
           "created_at": iso(now)}
    t.store.insert(TABLE, row)
    if row["end_ms"] <= now:
        notify(t, {**row, "tenant": t.name})
    t.changes.notify()
    return row


def state(row: dict[str, Any], now: int) -> tuple[str, int]:
    """(status, progress) at `now`."""
    if now < row["start_ms"]:
        return "queued", 0
    if now < row["end_ms"]:
        span = row["end_ms"] - row["start_ms"]
        return "active", min(99, (now - row["start_ms"]) * 100 // span)
    if row["outcome"] == "failed":
        params = row["params"] or {}
        return "failed", int(params.get("_fail_progress", 50))
    return "completed", 100


def job_to_api(row: dict[str, Any], now: int) -> dict[str, Any]:
    status, progress = state(row, now)
    done = status in ("completed", "failed")
    return {"id": row["id"], "job_id": row["id"], "public_id": row["public_id"], "type": row["type"],
            "status": status, "progress": progress, "result": row["result"] if status == "completed" else None,
            "error": row["error"] if status == "failed" else None, "created_at": row["created_at"],
            "started_at": iso(row["start_ms"]) if now >= row["start_ms"] else None,
            "completed_at": iso(row["end_ms"]) if done else None}


def notify(t: "Tenant", row: dict[str, Any]) -> None:
    """Publish job.completed or job.failed for a job that has ended (once)."""
    t.store.update(TABLE, row["id"], {"notified": 1})
    job = job_to_api(row, row["end_ms"])
    events.emit(t, f"job.{row['outcome']}", {
        "job_id": row["id"], "id": row["public_id"], "type": row["type"], "status": job["status"],
        "result": job["result"], "error": job["error"], "completed_at": job["completed_at"]})


def cost_units(kind: str, prompt: str, params: dict[str, Any]) -> int:
    """A video costs the motion engine's price per clip; research its engine's tokens."""
    if kind == "video":
        return engines.cost_units(engines.BY_ID["theo-1-motion"], 0, 0)
    sources = int(params.get("max_sources") or 10)
    return engines.cost_units(engines.BY_ID["theo-1-research"], 8 + len(prompt) // 4, 400 + 50 * sources)


class TheoJobTimer:
    """The timers.TimerSource of jobs: a job reaches its end (its event is published)."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar(f"SELECT MIN(end_ms) FROM {TABLE} WHERE notified = 0")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        rows = store.all(f"SELECT * FROM {TABLE} WHERE notified = 0 AND end_ms <= ? ORDER BY end_ms, id", [at_ms])
        for row in rows:
            with store.atomic():
                notify(emu.tenant(row["tenant"]), row)
        return [{"type": "theo_job", "jobId": row["id"], "status": row["outcome"], "endedAt": iso(row["end_ms"])}
                for row in rows]
