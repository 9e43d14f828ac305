"""Async jobs: POST /api/v1/video and /research (202 with a job to poll), GET /api/v1/jobs/:id.

theo-api.md §1.2; the timeline is theo/domain/jobs.py. Creating a job is admitted like a
completion (402, the mode's 429) and charged at once. The answer is `{id (vid_/res_),
job_id, status: "queued", created, poll_url}`. GET /jobs/:id (by `job_id`, or the `vid_`/
`res_` id) answers `{"job": {...}}`, as the SDK reads it, with the same fields also at the
top level, as the docs show them: id, type, status (queued, active, completed, failed),
progress 0-100, result, error, created_at, completed_at. Another tenant's id is 404.
"""

from __future__ import annotations

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.media import CreateResearch, CreateVideo
from theazo_emu.theo.domain import jobs, media
from theazo_emu.theo.routes.media import caller


async def _create(ctx: Ctx, kind: str, params: dict) -> dict:
    who = caller(ctx)
    media.admit(ctx.t, who, kind)
    prompt = ctx.body.prompt
    cost = jobs.cost_units(kind, prompt, params)
    with ctx.store.atomic():
        row = jobs.create(ctx.t, kind, prompt, params, cost)
        media.book(ctx.t, who, kind=kind, mode=kind, model="theo-1-motion" if kind == "video" else "theo-1-research",
                   entity_id=row["id"], prompt=prompt, cost_units=cost, output={"jobId": row["id"]})
    return {"id": row["public_id"], "job_id": row["id"], "status": "queued", "created": row["created_at"],
            "poll_url": f"/api/v1/jobs/{row['id']}"}


async def create_video(ctx: Ctx) -> dict:
    """Queue a video (`duration` 5s, 10s or 15s; `style`); poll the job for the result."""
    body: CreateVideo = ctx.body
    return await _create(ctx, "video", {"duration": body.duration or "5s", "style": body.style})


async def create_research(ctx: Ctx) -> dict:
    """Queue a research report (`depth` basic or advanced, `max_sources` 1-50)."""
    body: CreateResearch = ctx.body
    return await _create(ctx, "research", {"depth": body.depth, "max_sources": body.max_sources})


async def get_job(ctx: Ctx) -> dict:
    """A job's status and progress, its result once completed or its error once failed."""
    ident = ctx.params["job_id"]
    row = ctx.store.find(jobs.TABLE, "id = ? OR public_id = ?", [ident, ident])
    if row is None:
        ctx.store.get(jobs.TABLE, ident, jobs.KIND)  # the 404
    job = jobs.job_to_api(row, ctx.now_ms())
    return {"job": job, **job}


routes = [
    api_route("/api/v1/video", create_video, "POST", body=CreateVideo, status=202),
    api_route("/api/v1/research", create_research, "POST", body=CreateResearch, status=202),
    api_route("/api/v1/jobs/{job_id}", get_job),
]
