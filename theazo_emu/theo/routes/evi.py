"""E.V.I. canvases: /api/v1/evi/canvases (list, create), /:id (get, patch, delete), and
/:id/compile, /:id/test, /:id/publish (theo-api.md §1.2; theo/domain/canvases.py).

Records are the SDK's camelCase CanvasRecord; lists hold the newest 50. Compile answers
`{compiled: true, manifest, steps, errors: []}`, or 422 with the error envelope (code
`compile_failed`) beside `{compiled: false, manifest: null, steps: null, errors}`. Test
compiles, then answers the mock engine's reply to `message` (with `history`) under the
canvas's prompt, `{response, cost_cents, errors}` (booked like a completion). Publish
compiles and submits the manifest as a skill with the given `slug` and `version`: `{published,
visibility, submission, skillId}` (422 `review_failed` when the review fails). Another
tenant's id, or a deleted canvas, is 404.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.api import NoBody
from theazo_emu.theo.bodies.skills import CreateCanvas, PublishCanvas, TestCanvas, UpdateCanvas
from theazo_emu.theo.domain import canvases, engines, media, orgs, skills
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.errors import error_body
from theazo_emu.theo.domain.mock import generated
from theazo_emu.theo.routes.media import caller


def _canvas(ctx: Ctx) -> dict[str, Any]:
    return ctx.store.get(canvases.TABLE, ctx.params["canvas_id"], canvases.KIND)


async def list_canvases(ctx: Ctx) -> dict:
    """This tenant's canvases, the newest 50."""
    rows = ctx.store.rows(canvases.TABLE, order="id DESC", limit=canvases.MAX_LISTED)
    return {"canvases": [canvases.canvas_to_api(row) for row in rows]}


async def create_canvas(ctx: Ctx) -> dict:
    """Create a draft canvas."""
    body: CreateCanvas = ctx.body
    now = ctx.now_iso()
    graph = body.graph_json.model_dump() if body.graph_json else {"nodes": [], "edges": []}
    with ctx.store.atomic():
        row = {"id": ctx.t.new_id("cnv"), "name": body.name, "description": body.description,
               "status": "draft", "graph": graph, "compiled_manifest": None, "compiled_steps": None, "is_public": 0,
               "published_skill_id": None, "created_at": now, "updated_at": now}
        ctx.store.insert(canvases.TABLE, row)
    return {"canvas": canvases.canvas_to_api(row)}


async def get_canvas(ctx: Ctx) -> dict:
    """One canvas."""
    return {"canvas": canvases.canvas_to_api(_canvas(ctx))}


async def update_canvas(ctx: Ctx) -> dict:
    """Change a canvas; a new graph sends it back to draft."""
    body: UpdateCanvas = ctx.body
    row = _canvas(ctx)
    changes: dict[str, Any] = {"updated_at": ctx.now_iso()}
    if body.name is not None:
        changes["name"] = body.name
    if "description" in body.model_fields_set:
        changes["description"] = body.description
    if body.is_public is not None:
        changes["is_public"] = int(body.is_public)
    if body.graph_json is not None:
        changes.update(graph=body.graph_json.model_dump(), status="draft", compiled_manifest=None,
                       compiled_steps=None)
    ctx.store.update(canvases.TABLE, row["id"], changes)
    return {"canvas": canvases.canvas_to_api({**row, **changes})}


async def delete_canvas(ctx: Ctx) -> dict:
    """Delete a canvas."""
    row = _canvas(ctx)
    ctx.store.delete(canvases.TABLE, "id = ?", [row["id"]])
    return {"deleted": True, "id": row["id"]}


def _compiled(ctx: Ctx, row: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | JSONResponse]:
    """(the updated row, the compile answer) or (None, a 422 answer)."""
    manifest, steps, errors = canvases.compile_graph(row)
    if errors:
        request_id = ctx.request.scope.get("state", {}).get("request_id")
        body = {**error_body(422, "compile_failed", f"The canvas does not compile: {errors[0]['message']}.",
                             request_id), "compiled": False, "manifest": None, "steps": None, "errors": errors}
        return None, JSONResponse(body, status_code=422)
    changes = {"compiled_manifest": manifest, "compiled_steps": steps, "updated_at": ctx.now_iso()}
    if row["status"] == "draft":
        changes["status"] = "testing"
    ctx.store.update(canvases.TABLE, row["id"], changes)
    return {**row, **changes}, {"compiled": True, "manifest": manifest, "steps": steps, "errors": []}


async def compile_canvas(ctx: Ctx) -> Any:
    """Validate the graph and compile it to a skill manifest and steps."""
    _, answer = _compiled(ctx, _canvas(ctx))
    return answer


async def test_canvas(ctx: Ctx) -> Any:
    """Compile, then answer a message as the canvas would."""
    body: TestCanvas = ctx.body
    row, answer = _compiled(ctx, _canvas(ctx))
    if row is None:
        return answer
    who = caller(ctx)
    media.admit(ctx.t, who, "fast")
    reply = generated(ctx.emu.settings.seed, Ask(
        prompt=body.message, mode="fast", resolved_mode="fast", engine="theo-1-flash",
        history=tuple((m.role, m.content) for m in body.history or ()),
        persona=row["compiled_manifest"]["systemPromptExtension"]))
    with ctx.store.atomic():
        media.book(ctx.t, who, kind="canvas_test", mode="fast", model="theo-1-flash", entity_id=ctx.t.new_id(
            "cnvt"), prompt=body.message, tokens_in=reply.prompt_tokens,
            tokens_out=reply.completion_tokens, cost_units=reply.cost_units, output={"canvasId": row["id"]})
    return {"response": reply.content, "cost_cents": engines.cents(reply.cost_units), "errors": []}


async def publish_canvas(ctx: Ctx) -> Any:
    """Compile and submit the canvas as a skill."""
    body: PublishCanvas = ctx.body
    row, answer = _compiled(ctx, _canvas(ctx))
    if row is None:
        return answer
    if body.visibility == "org":
        ctx.store.get(orgs.TABLE, body.target_org_id or "", orgs.KIND)
    manifest = {**row["compiled_manifest"], "slug": body.slug, "version": body.version,
                "author": body.author.model_dump(exclude_none=True), "license": body.license,
                "keywords": body.keywords or [], "readme": body.readme}
    verdict = skills.passed_review(ctx.store, manifest, "The canvas's manifest")
    with ctx.store.atomic():
        submission = skills.submit(ctx.t, manifest, verdict)
        published = submission["status"] == "approved"
        ctx.store.update(canvases.TABLE, row["id"], {
            "status": "published" if published else row["status"], "is_public": int(body.visibility == "public"),
            "published_skill_id": submission["skill_id"], "updated_at": ctx.now_iso()})
    return {"published": published, "visibility": body.visibility,
            "submission": {k: v for k, v in skills.submission_to_api(submission).items()
                           if k in ("id", "status", "reviewTier", "autoApproved")},
            "skillId": submission["skill_id"]}


routes = [
    api_route("/api/v1/evi/canvases", list_canvases),
    api_route("/api/v1/evi/canvases", create_canvas, "POST", body=CreateCanvas, status=201),
    api_route("/api/v1/evi/canvases/{canvas_id}", get_canvas),
    api_route("/api/v1/evi/canvases/{canvas_id}", update_canvas, "PATCH", body=UpdateCanvas),
    api_route("/api/v1/evi/canvases/{canvas_id}", delete_canvas, "DELETE"),
    api_route("/api/v1/evi/canvases/{canvas_id}/compile", compile_canvas, "POST", body=NoBody),
    api_route("/api/v1/evi/canvases/{canvas_id}/test", test_canvas, "POST", body=TestCanvas),
    api_route("/api/v1/evi/canvases/{canvas_id}/publish", publish_canvas, "POST", body=PublishCanvas),
]
