"""Skills: the marketplace, installs, skills a tenant creates, submissions and their review,
versions and reviews. Owns theo_skills, theo_skill_installs, theo_skill_submissions,
theo_skill_versions and theo_skill_reviews.

theo-api.md §1.1-§1.2 and the SDK's SkillSummary / SubmissionRecord / SkillManifest. The
marketplace is a built-in catalogue (MARKETPLACE) plus the tenant's own public skills. A
built-in skill's id is a uuid digest of its slug; a tenant's skill gets a uuid of its own when
created (never one derived from its slug alone: two tenants may both have `my-skill`), and a
slug the tenant has already is 409 `conflict`. A completion names the skills it activated by
their ids (`active`). Installed skills join every completion of the tenant (completion.py reads
`installed_slugs`). A submitted manifest is reviewed at once: checks on its slug, version,
name, description, category, prompt extension, tools and permissions (a failed check is 422
`review_failed`); its tier is `security` (external:http with writes or tools), `staff`
(tools, knowledge or writes) or `auto`, as the SDK's `theo skill validate` predicts, and only `auto` is approved at once (the skill is
created or moved to the new version); the others stay `pending_review`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from theazo_emu.core.cron import check_timezone, compile_cron
from theazo_emu.theo.domain import engines, events, hooks
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.domain.keys import user_id

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE, INSTALLS, SUBMISSIONS, VERSIONS, REVIEWS = ("theo_skills", "theo_skill_installs", "theo_skill_submissions",
                                                   "theo_skill_versions", "theo_skill_reviews")
CATEGORIES = ("productivity", "domain", "integration", "automation", "creative")
PERMISSIONS = ("read:conversations", "read:artifacts", "write:artifacts", "write:notes", "external:http",
               "execute:tools", "autonomous:run")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
TOOL_NAME = re.compile(r"^[a-z0-9_]+$")
TRIGGERS = ("manual", "keyword", "event", "schedule")
AUTONOMOUS = ("event", "schedule")  # the triggers that run a skill with no one asking (triggers.py)
DEFAULT_ENGINE = "theo-1-flash"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def skill_uuid(text: str) -> str:
    """A uuid-shaped digest: a built-in skill's id from its slug, a tenant's from a fresh id."""
    h = hashlib.sha256(f"skill|{text}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _builtin(slug: str, name: str, category: str, description: str, installs: int, tools: list[str],
             permissions: list[str]) -> dict[str, Any]:
    return {"id": skill_uuid(slug), "slug": slug, "name": name, "description": description, "category": category,
            "version": "1.0.0", "system_prompt_ext": f"You are using the {name} skill: {description}",
            "tool_definitions": [{"name": t, "description": f"{t.replace('_', ' ')} ({name})",
                                  "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}}}}
                                 for t in tools],
            "permissions": permissions, "is_public": 1, "status": "active", "base_installs": installs,
            "author": None, "created_at": "2026-03-28T00:00:00.000Z", "updated_at": "2026-03-28T00:00:00.000Z"}


MARKETPLACE = (
    _builtin("web-research", "Web Research", "productivity", "Searches the web and cites its sources.", 1840,
             ["web_search"], ["external:http"]),
    _builtin("code-review", "Code Review", "productivity", "Reviews code for bugs, style and security.", 1210,
             ["lint_code"], ["read:artifacts"]),
    _builtin("meeting-notes", "Meeting Notes", "productivity", "Turns transcripts into notes and action items.",
             960, [], ["write:notes"]),
    _builtin("insurance-quoting", "Insurance Quoting", "domain", "Drafts carrier quotes from client details.", 420,
             ["quote_policy"], ["read:conversations"]),
    _builtin("slack-notify", "Slack Notify", "integration", "Posts summaries to a Slack channel.", 730,
             ["post_message"], ["external:http", "execute:tools"]),
    _builtin("image-director", "Image Director", "creative", "Writes detailed prompts for image generation.", 655,
             [], []),
)
BY_ID = {skill["id"]: skill for skill in MARKETPLACE}
BY_SLUG = {skill["slug"]: skill for skill in MARKETPLACE}


def find(store: "Scoped", ident: str) -> dict[str, Any] | None:
    """A built-in skill or one of the tenant's, by id."""
    return BY_ID.get(ident) or store.find(TABLE, "id = ?", [ident])


def by_slug(store: "Scoped", slug: str) -> dict[str, Any] | None:
    return BY_SLUG.get(slug) or store.find(TABLE, "slug = ?", [slug])


def new_id(t: "Tenant") -> str:
    """A new skill's id: uuid-shaped, as the API's skill ids are, and the tenant's own."""
    return skill_uuid(f"{t.name}|{t.new_id('skill')}")


def active(store: "Scoped", slugs: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """The skills a completion activated, as it names them: id, slug and name (a slug no skill
    has: a digest of it for an id, a name made from it)."""
    found = [by_slug(store, slug) for slug in slugs]
    return tuple({"id": skill["id"], "slug": slug, "name": skill["name"]} if skill is not None else
                 {"id": skill_uuid(slug), "slug": slug, "name": slug.replace("-", " ").title()}
                 for slug, skill in zip(slugs, found))


def installed_slugs(store: "Scoped") -> tuple[str, ...]:
    """The slugs of the tenant's installed skills that are not suspended."""
    slugs = [row["slug"] for row in store.rows(INSTALLS, columns="slug")]
    return tuple(slug for slug in slugs if (by_slug(store, slug) or {}).get("status") != "suspended")


def skill_to_api(store: "Scoped", row: dict[str, Any], installs: dict[str, int] | None = None) -> dict[str, Any]:
    installed = installs if installs is not None else _install_counts(store)
    builtin = row["id"] in BY_ID
    manifest = row.get("manifest") or {}
    return {"id": row["id"], "slug": row["slug"], "name": row["name"], "description": row["description"],
            "category": row["category"], "isPublic": bool(row["is_public"]),
            "installCount": row.get("base_installs", 0) + installed.get(row["id"], 0), "version": row["version"],
            "toolDefinitions": row["tool_definitions"] or [],
            "requiredPermissions": row.get("permissions") or manifest.get("permissions") or [],
            "configSchema": None, "setupGuide": None, "comingSoon": False, "readme": manifest.get("readme"),
            "authorUserId": None if builtin else user_id(store.tenant), "orgScopeId": None, "status": row["status"],
            "installed": row["id"] in installed, "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def _install_counts(store: "Scoped") -> dict[str, int]:
    return {row["skill_id"]: 1 for row in store.rows(INSTALLS, columns="skill_id")}


def detail_to_api(store: "Scoped", row: dict[str, Any]) -> dict[str, Any]:
    """GET /skills/:id: the summary plus the fields the get page lists (its names and the SDK's)."""
    summary, manifest = skill_to_api(store, row), row.get("manifest") or {}
    return {**summary, "systemPromptExt": row["system_prompt_ext"], "systemPromptExtension": row["system_prompt_ext"],
            "declaredPermissions": summary["requiredPermissions"],
            "reviewStatus": "suspended" if row["status"] == "suspended" else "approved",
            "license": manifest.get("license") or "MIT", "keywords": manifest.get("keywords") or [],
            "trigger": manifest.get("trigger"), "modelPreference": manifest.get("modelPreference")}


def marketplace(store: "Scoped") -> list[dict[str, Any]]:
    own = store.rows(TABLE, "is_public = 1 AND status = 'active'", order="seq")
    installs = _install_counts(store)
    return [skill_to_api(store, row, installs) for row in (*MARKETPLACE, *own)]


def installed(store: "Scoped") -> list[dict[str, Any]]:
    installs = _install_counts(store)
    rows = [find(store, row["skill_id"]) for row in store.rows(INSTALLS)]
    return [skill_to_api(store, row, installs) for row in rows if row is not None]


def install(t: "Tenant", skill: dict[str, Any]) -> bool:
    """Install (call inside a transaction); False when it already was."""
    if t.store.find(INSTALLS, "skill_id = ?", [skill["id"]]) is not None:
        return False
    t.store.insert(INSTALLS, {"id": t.new_id("sinst"), "skill_id": skill["id"], "slug": skill["slug"],
                              "created_at": t.now_iso()})
    events.emit(t, "skill.installed", {"skill_id": skill["id"], "slug": skill["slug"]})
    return True


def uninstall(t: "Tenant", skill: dict[str, Any]) -> bool:
    if not t.store.delete(INSTALLS, "skill_id = ?", [skill["id"]]):
        return False
    events.emit(t, "skill.uninstalled", {"skill_id": skill["id"], "slug": skill["slug"]})
    return True


def create(t: "Tenant", *, slug: str, name: str, category: str, description: str | None,
           prompt: str, tools: list[dict[str, Any]], is_public: bool, version: str = "1.0.0",
           changelog: str | None = None, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    now = t.now_iso()
    row = {"id": new_id(t), "slug": slug, "name": name, "description": description,
           "category": category, "version": version, "system_prompt_ext": prompt, "tool_definitions": tools,
           "is_public": int(is_public), "manifest": manifest, "status": "active", "seq": t.store.next_seq(),
           "created_at": now, "updated_at": now}
    t.store.insert(TABLE, row)
    add_version(t, row["id"], version, changelog, manifest)
    return row


def add_version(t: "Tenant", skill_id: str, version: str, changelog: str | None,
                manifest: dict[str, Any] | None) -> None:
    t.store.execute("UPDATE theo_skill_versions SET status = 'superseded' WHERE tenant = :tenant "
                    "AND skill_id = :skill_id AND status = 'active'", skill_id=skill_id)
    t.store.insert(VERSIONS, {"id": t.new_id("sver"), "skill_id": skill_id, "version": version,
                              "status": "active", "changelog": changelog, "manifest": manifest,
                              "created_at": t.now_iso()})


def versions(store: "Scoped", skill: dict[str, Any]) -> list[dict[str, Any]]:
    if skill["id"] in BY_ID:
        return [{"id": skill_uuid(f"{skill['slug']}@{skill['version']}"), "version": skill["version"],
                 "status": "active", "changelog": "First release.", "manifestSnapshot": None,
                 "createdAt": skill["created_at"]}]
    rows = store.rows(VERSIONS, "skill_id = ?", [skill["id"]], order="id DESC")
    return [{"id": r["id"], "version": r["version"], "status": r["status"], "changelog": r["changelog"],
             "manifestSnapshot": r["manifest"], "createdAt": r["created_at"]} for r in rows]


def _semver(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def passed_review(store: "Scoped", manifest: dict[str, Any], subject: str) -> dict[str, Any]:
    """The review of a manifest that passed it; 422 `review_failed` naming the failed checks
    otherwise (`subject` names the manifest in the message)."""
    verdict = review(store, manifest)
    if not verdict["passed"]:
        failed = "; ".join(f"{name}: {verdict['details'][name]}" for name, result in verdict["checks"].items()
                           if result == "fail")
        raise TheoError(422, "review_failed", f"{subject} failed review ({failed}).")
    return verdict


# Phrases of a prompt-injection attempt in a prompt extension (the docs' "injection heuristics").
INJECTION = re.compile(r"(?i)\b(ignore|disregard|forget)\b.{0,20}\b(previous|prior|above|all|system)\b.{0,20}"
                       r"\b(instructions|prompts?|rules)\b|\breveal\b.{0,30}\bsystem prompt\b")


def _schema_problem(manifest: dict[str, Any]) -> str | None:
    """What in the manifest's required fields breaks the manifest reference, or None."""
    slug, prompt = manifest.get("slug"), manifest.get("systemPromptExtension")
    if not (isinstance(slug, str) and SLUG.match(slug) and len(slug) <= 64):
        return "slug: lowercase letters, digits and inner hyphens"
    if not (isinstance(manifest.get("version"), str) and SEMVER.match(manifest["version"])):
        return "version: x.y.z"
    if not (isinstance(manifest.get("name"), str) and 0 < len(manifest["name"].strip()) <= 100):
        return "name: 1-100 chars"
    if not (isinstance(manifest.get("description"), str) and manifest["description"].strip()):
        return "description: required"
    if manifest.get("category") not in CATEGORIES:
        return f"category: one of {', '.join(CATEGORIES)}"
    if not (isinstance(prompt, str) and 0 < len(prompt) <= 20_000):
        return "systemPromptExtension: 1-20,000 chars"
    return None


def trigger_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's trigger, model preference and hooks (the review's
    `trigger` check), or None."""
    preference, hooks_ = manifest.get("modelPreference"), manifest.get("hooks")
    if preference is not None and not (isinstance(preference, str) and preference in engines.BY_ID):
        return f"modelPreference must be an engine id such as {DEFAULT_ENGINE}"
    if hooks_ is not None and not (isinstance(hooks_, dict) and all(
            k in ("onInstall", "onUninstall") and (v is None or isinstance(v, str) and len(v) <= 4000)
            for k, v in hooks_.items())):
        return "hooks may hold onInstall and onUninstall, each a text of at most 4,000 characters"
    trigger = manifest.get("trigger")
    if trigger is None:
        return None
    if not isinstance(trigger, dict) or not isinstance(trigger.get("type"), str) or trigger["type"] not in TRIGGERS:
        return f"trigger.type must be one of {', '.join(TRIGGERS)}"
    config, kind = trigger.get("config") or {}, trigger["type"]
    if not isinstance(config, dict):
        return "trigger.config must be an object"
    if kind in AUTONOMOUS and "autonomous:run" not in (manifest.get("permissions") or []):
        return f"a {kind} trigger needs the autonomous:run permission"
    words = config.get("keywords")
    if kind == "keyword" and not (isinstance(words, list) and 0 < len(words) <= 100 and all(
            isinstance(w, str) and 0 < len(w.strip()) <= 100 for w in words)):
        return "a keyword trigger needs config.keywords, a list of 1-100 words of at most 100 characters"
    if kind == "event" and not (isinstance(config.get("eventType"), str) and len(config["eventType"]) <= 200
                                and hooks.PATTERN.match(config["eventType"])):
        return "an event trigger needs config.eventType, an event name or pattern such as order.*.completed"
    if kind == "schedule":
        cron, zone = config.get("cron"), config.get("timezone")
        if not isinstance(cron, str) or not (zone is None or isinstance(zone, str)):
            return "a schedule trigger needs config.cron, a cron expression, and an optional config.timezone (IANA)"
        try:
            check_timezone(zone)
            compile_cron(cron, zone)
        except ValueError as exc:
            return f"a schedule trigger needs config.cron, a cron expression ({exc})"
    for cap, top in (("maxSteps", 50), ("maxSpendCents", 10_000)):
        value = config.get(cap)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0 < value <= top):
            return f"trigger.config.{cap} must be a number above 0 and at most {top}"
    return None


def review(store: "Scoped", manifest: dict[str, Any]) -> dict[str, Any]:
    """The automated review of a manifest: {passed, tier, checks {name: "pass" | "fail"}, details
    {name: what failed}} (the submit page's shape; `details` names what to fix)."""
    tools = manifest.get("tools") if isinstance(manifest.get("tools"), list) else []
    permissions = manifest.get("permissions") if isinstance(manifest.get("permissions"), list) else []
    knowledge = manifest.get("knowledge") if isinstance(manifest.get("knowledge"), list) else []
    slug, version, prompt = manifest.get("slug"), manifest.get("version"), manifest.get("systemPromptExtension")
    existing = by_slug(store, slug) if isinstance(slug, str) else None
    own = existing is not None and existing["id"] not in BY_ID
    problems = {
        "schema": _schema_problem(manifest),
        "injection_scan": "systemPromptExtension reads as a prompt-injection attempt"
        if isinstance(prompt, str) and INJECTION.search(prompt) else None,
        "tool_names": None if all(isinstance(t, dict) and isinstance(t.get("name"), str) and TOOL_NAME.match(t["name"])
                                  and isinstance(t.get("description"), str) for t in tools)
        else "each tool needs a lowercase name (a-z, 0-9, _) and a description",
        "permissions": None if all(p in PERMISSIONS for p in permissions)
        else f"each one of {', '.join(PERMISSIONS)}",
        "trigger": trigger_problem(manifest),
        "slug_unique": "the slug belongs to a marketplace skill" if existing is not None and not own else None,
        "version_integrity": "a new version must be greater than the current one"
        if own and isinstance(version, str) and SEMVER.match(version)
        and _semver(version) <= _semver(existing["version"]) else None,  # type: ignore[index]
    }
    writes = any(isinstance(p, str) and p.startswith("write:") for p in permissions)
    tier = ("security" if "external:http" in permissions and (writes or tools)
            else "staff" if tools or knowledge or writes else "auto")
    return {"passed": not any(problems.values()), "tier": tier,
            "checks": {name: "fail" if problem else "pass" for name, problem in problems.items()},
            "details": {name: problem for name, problem in problems.items() if problem}}


def submission_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "status": row["status"], "reviewTier": row["review_tier"],
            "autoApproved": bool(row["auto_approved"]), "skillId": row["skill_id"], "slug": row["slug"],
            "manifestVersion": row["version"], "reason": row.get("reason"), "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def submit(t: "Tenant", manifest: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    """Record a reviewed submission (call inside a transaction); an `auto` one is approved at
    once (`publish`), the others wait for a person at Theo (staff.py)."""
    auto = verdict["tier"] == "auto"
    now = t.now_iso()
    row = {"id": t.new_id("ssub"), "skill_id": None, "slug": manifest["slug"], "version": manifest["version"],
           "manifest": manifest, "status": "pending_review", "review_tier": verdict["tier"],
           "auto_approved": int(auto), "review": verdict, "reason": None, "created_at": now, "updated_at": now}
    t.store.insert(SUBMISSIONS, row)
    events.emit(t, "skill.submitted", {"submission_id": row["id"], "slug": row["slug"], "tier": verdict["tier"]})
    return publish(t, row) if auto else row


def publish(t: "Tenant", row: dict[str, Any]) -> dict[str, Any]:
    """Approve a submission (call inside a transaction): its manifest becomes the skill, new or
    in its new version, and skill.approved is published. Returns the submission as it is now."""
    manifest, slug, version, now = row["manifest"], row["slug"], row["version"], t.now_iso()
    tools = [tool for tool in manifest.get("tools") or [] if isinstance(tool, dict)]
    existing = t.store.find(TABLE, "slug = ?", [slug])
    if existing is None:
        skill = create(t, slug=slug, name=manifest["name"], category=manifest["category"],
                       description=manifest.get("description"), prompt=manifest["systemPromptExtension"], tools=tools,
                       is_public=False, version=version, changelog=manifest.get("changelog"), manifest=manifest)
    else:
        skill = {**existing, "version": version, "name": manifest["name"], "description": manifest.get("description"),
                 "system_prompt_ext": manifest["systemPromptExtension"], "tool_definitions": tools,
                 "manifest": manifest, "status": "active", "updated_at": now}
        t.store.update(TABLE, existing["id"], {k: skill[k] for k in ("version", "name", "description",
                                                                       "system_prompt_ext", "tool_definitions",
                                                                       "manifest", "status", "updated_at")})
        add_version(t, existing["id"], version, manifest.get("changelog"), manifest)
    changes = {"status": "approved", "skill_id": skill["id"], "updated_at": now}
    t.store.update(SUBMISSIONS, row["id"], changes)
    events.emit(t, "skill.approved", {"submission_id": row["id"], "skill_id": skill["id"], "slug": slug,
                                      "version": version})
    return {**row, **changes}


def reject(t: "Tenant", row: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """Turn a pending submission down (call inside a transaction); skill.rejected is published."""
    changes = {"status": "rejected", "reason": reason, "updated_at": t.now_iso()}
    t.store.update(SUBMISSIONS, row["id"], changes)
    events.emit(t, "skill.rejected", {"submission_id": row["id"], "slug": row["slug"], "version": row["version"],
                                      "reason": reason})
    return {**row, **changes}


def suspend(t: "Tenant", row: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """Take an approved submission's skill down (call inside a transaction): it leaves the
    marketplace and stops joining completions and running on its triggers, though it stays
    installed; skill.suspended is published."""
    now = t.now_iso()
    t.store.update(TABLE, row["skill_id"], {"status": "suspended", "updated_at": now})
    changes = {"status": "suspended", "reason": reason, "updated_at": now}
    t.store.update(SUBMISSIONS, row["id"], changes)
    events.emit(t, "skill.suspended", {"submission_id": row["id"], "skill_id": row["skill_id"], "slug": row["slug"],
                                       "reason": reason})
    return {**row, **changes}
