"""Skills: GET/POST/DELETE /api/v1/skills (marketplace, installed, install, uninstall) and
/skills/create, /skills/submit, /skills/submissions, /skills/sandbox, /skills/:id with its
versions and reviews (theo-api.md §1.1-§1.2; theo/domain/skills.py).

`GET ?filter=marketplace` (the default) or `installed` answers `{skills}`. POST and DELETE
take `{skillId}` (a uuid; 400 otherwise, 404 for no such skill): install answers 201
`{installed: true}`, uninstall `{uninstalled: true}` (404 when it was not installed); both
publish skill.installed / skill.uninstalled and are audited; installing starts a skill's
schedule trigger, runs its onInstall hook and resumes it when paused (triggers.py), and
uninstalling runs its onUninstall hook. create answers 201 `{skill}`
(409 `conflict` when the slug exists); submit answers 201 `{submission, review}` or 422
`review_failed` naming the failed checks. The sandbox runs a skill on a message with the
mock engine, unbilled.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import Ctx, api_route, query_choice
from theazo_emu.theo.bodies.skills import CreateReview, CreateSkill, SandboxRun, SkillRef, SubmitSkill
from theazo_emu.theo.domain import audit, skills, triggers
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.domain.mock import generated
from theazo_emu.theo.surface import key_facts, request_facts


def _skill(ctx: Ctx, ident: str) -> dict[str, Any]:
    skill = skills.find(ctx.store, ident)
    if skill is None:
        raise TheoError(404, "not_found", f"No skill {ident[:100]!r}.")
    return skill


def _audit(ctx: Ctx, action: str, skill: dict[str, Any], status: int = 200) -> None:
    audit.append(ctx.t, action=action, entity_type="skill", entity_id=skill["id"],
                 key_id=key_facts(ctx)[1], request=request_facts(ctx), status=status,
                 input_summary={"skillId": skill["id"], "slug": skill["slug"]}, output_summary={"action": action})


async def list_skills(ctx: Ctx) -> dict:
    """The marketplace (default) or the installed skills."""
    which = query_choice(ctx, "filter", ("marketplace", "installed")) or "marketplace"
    return {"skills": skills.installed(ctx.store) if which == "installed" else skills.marketplace(ctx.store),
            "filter": which}


async def install_skill(ctx: Ctx) -> dict:
    """Install a skill: it joins every completion of this tenant."""
    body: SkillRef = ctx.body
    skill = _skill(ctx, body.skillId)
    with ctx.store.atomic():
        if skills.install(ctx.t, skill):
            _audit(ctx, "skill.installed", skill, 201)
        triggers.installed(ctx.t, skill)  # installing again resumes a paused skill
    return {"installed": True, "skillId": skill["id"], "slug": skill["slug"]}


async def uninstall_skill(ctx: Ctx) -> dict:
    """Uninstall a skill."""
    body: SkillRef = ctx.body
    skill = _skill(ctx, body.skillId)
    with ctx.store.atomic():
        if not skills.uninstall(ctx.t, skill):
            raise TheoError(404, "not_found", f"Skill {skill['slug']} is not installed.")
        _audit(ctx, "skill.uninstalled", skill)
        triggers.uninstalled(ctx.t, skill)
    return {"uninstalled": True, "skillId": skill["id"], "slug": skill["slug"]}


async def create_skill(ctx: Ctx) -> dict:
    """Create a skill of this tenant (a draft for the marketplace when public)."""
    body: CreateSkill = ctx.body
    if skills.by_slug(ctx.store, body.slug) is not None:
        raise Conflict(f"A skill with slug '{body.slug}' already exists.")
    tools = [t.model_dump(exclude_none=True) for t in body.tool_definitions or ()]
    with ctx.store.atomic():
        row = skills.create(ctx.t, slug=body.slug, name=body.name, category=body.category,
                            description=body.description, prompt=body.system_prompt_ext, tools=tools,
                            is_public=body.is_public)
        _audit(ctx, "skill.created", row, 201)
    return {"skill": skills.skill_to_api(ctx.store, row)}


async def submit_skill(ctx: Ctx) -> dict:
    """Submit a manifest for review; an auto-tier one is approved at once."""
    body: SubmitSkill = ctx.body
    manifest = body.manifest
    if body.skill_id is not None:
        target = _skill(ctx, body.skill_id)
        manifest = {**manifest, "slug": manifest.get("slug", target["slug"])}
        if manifest["slug"] != target["slug"]:
            raise TheoError(400, "validation_error", "The manifest's slug is not the slug of skill_id.")
    verdict = skills.passed_review(ctx.store, manifest, "The manifest")
    with ctx.store.atomic():
        row = skills.submit(ctx.t, manifest, verdict)
    return {"submission": skills.submission_to_api(row), "review": verdict}


async def list_submissions(ctx: Ctx) -> dict:
    """This tenant's submissions, newest first (`status` filters)."""
    status = query_choice(ctx, "status", ("approved", "pending_review", "rejected", "suspended"))
    where, params = ("status = ?", [status]) if status else ("1", [])
    rows = ctx.store.rows(skills.SUBMISSIONS, where, params, order="id DESC", limit=100)
    return {"submissions": [skills.submission_to_api(row) for row in rows]}


async def get_skill(ctx: Ctx) -> dict:
    """One skill."""
    skill = _skill(ctx, ctx.params["skill_id"])
    return {"skill": skills.detail_to_api(ctx.store, skill)}


async def skill_versions(ctx: Ctx) -> dict:
    """A skill's versions, newest first."""
    return {"versions": skills.versions(ctx.store, _skill(ctx, ctx.params["skill_id"]))}


async def list_reviews(ctx: Ctx) -> dict:
    """A skill's reviews (this tenant's), newest first, with their average."""
    skill = _skill(ctx, ctx.params["skill_id"])
    rows = ctx.store.rows(skills.REVIEWS, "skill_id = ?", [skill["id"]], order="id DESC", limit=100)
    average = round(sum(r["rating"] for r in rows) / len(rows), 2) if rows else None
    return {"reviews": [_review(r) for r in rows], "average_rating": average, "count": len(rows)}


def _review(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "skillId": row["skill_id"], "rating": row["rating"], "body": row["body"],
            "createdAt": row["created_at"]}


async def create_review(ctx: Ctx) -> dict:
    """Rate a skill 1-5, with an optional text."""
    body: CreateReview = ctx.body
    skill = _skill(ctx, ctx.params["skill_id"])
    row = {"id": ctx.t.new_id("srev"), "skill_id": skill["id"], "rating": body.rating,
           "body": body.body, "created_at": ctx.now_iso()}
    with ctx.store.atomic():
        ctx.store.insert(skills.REVIEWS, row)
    return {"review": _review(row)}


async def run_sandbox(ctx: Ctx) -> dict:
    """Try a skill on a message (nothing is installed or billed)."""
    body: SandboxRun = ctx.body
    if body.manifest is not None:
        verdict = skills.review(ctx.store, body.manifest)
        slug = body.manifest.get("slug") if isinstance(body.manifest.get("slug"), str) else "draft-skill"
        name = body.manifest.get("name") or slug
    else:
        skill = _skill(ctx, body.skill_id) if body.skill_id else skills.by_slug(ctx.store, body.slug or "")
        if skill is None:
            raise TheoError(404, "not_found", f"No skill with slug {body.slug!r}.")
        verdict, slug, name = None, skill["slug"], skill["name"]
    answer = generated(ctx.emu.settings.seed, Ask(prompt=body.message, mode="auto", resolved_mode="fast",
                                                  engine="theo-1-flash", skills=(slug,)))
    return {"response": answer.content, "skill": {"slug": slug, "name": name}, "review": verdict,
            "tools_used": list(answer.tools_used), "usage": {"cost_cents": 0, "prompt_tokens": answer.prompt_tokens,
                                                             "completion_tokens": answer.completion_tokens}}


routes = [
    api_route("/api/v1/skills", list_skills, query=("filter",)),
    api_route("/api/v1/skills", install_skill, "POST", body=SkillRef, status=201),
    api_route("/api/v1/skills", uninstall_skill, "DELETE", body=SkillRef),
    api_route("/api/v1/skills/create", create_skill, "POST", body=CreateSkill, status=201),
    api_route("/api/v1/skills/submit", submit_skill, "POST", body=SubmitSkill, status=201),
    api_route("/api/v1/skills/submissions", list_submissions, query=("status",)),
    api_route("/api/v1/skills/sandbox", run_sandbox, "POST", body=SandboxRun),
    api_route("/api/v1/skills/{skill_id}", get_skill),
    api_route("/api/v1/skills/{skill_id}/versions", skill_versions),
    api_route("/api/v1/skills/{skill_id}/reviews", list_reviews),
    api_route("/api/v1/skills/{skill_id}/reviews", create_review, "POST", body=CreateReview, status=201),
]
