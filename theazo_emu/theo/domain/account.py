"""A tenant's account on Theo: settings, the tool catalogue, voice tokens, rate-limit
increase requests and billing sessions. Owns theo_settings, theo_rate_requests and
theo_billing_sessions.

theo-api.md §1.1-§1.2. A rate-limit increase request waits `pending` until a person at Theo
approves it (publishing rate_limit.upgraded, as the rate-limiting page says) or denies it
(theo/staff.py). Settings are `default_mode`, `personality`, `timezone` and
`theo_branding` (defaults: auto, theo, UTC, true). The tool catalogue is the built-in tools
plus the tools of the tenant's installed skills. A voice token is `theo_voice_` and a digest,
valid 30 minutes of virtual time, with the system instruction and the function
declarations a live session needs. A billing checkout or portal is a session with a URL of
this emulator (`/_emu/theo/billing/:id`): opening a checkout's page completes it, adding its
amount to the tenant's credits when the tenant is billed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.theo.domain import events, ledger, skills
from theazo_emu.theo.domain.engines import cents, units
from theazo_emu.theo.domain.ratelimit import TIERS

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

SETTINGS, RATE_REQUESTS, BILLING = "theo_settings", "theo_rate_requests", "theo_billing_sessions"
DEFAULTS = {"default_mode": "auto", "personality": "theo", "timezone": "UTC", "theo_branding": True}
VOICE_TTL_MS = 30 * 60_000
BILLING_TTL_MS = 24 * 3_600_000

BUILTIN_TOOLS = (
    ("web_search", "Search the web and return ranked results with snippets.", "research", "user", False),
    ("browse_page", "Open a page in a browser session and read it.", "browser", "user", False),
    ("generate_image", "Generate an image from a prompt.", "creative", "user", False),
    ("run_code", "Run a code snippet in a sandbox and return its output.", "code", "user", False),
    ("create_document", "Write a document (pdf, docx, pptx, xlsx, csv).", "documents", "user", False),
    ("memory_recall", "Recall facts from earlier conversations.", "memory", "user", False),
    ("send_email", "Send an email on the user's behalf.", "connectors", "org_member", True),
    ("manage_keys", "Create or revoke API keys of the organisation.", "admin", "org_admin", True),
)


def settings(t: "Tenant") -> dict[str, Any]:
    row = t.store.find(SETTINGS, order=None)
    if row is None:
        return dict(DEFAULTS)
    return {"default_mode": row["default_mode"], "personality": row["personality"], "timezone": row["timezone"],
            "theo_branding": bool(row["theo_branding"])}


def save_settings(t: "Tenant", values: dict[str, Any]) -> None:
    t.store.execute(
        "INSERT INTO theo_settings (tenant, default_mode, personality, timezone, theo_branding, updated_at) "
        "VALUES (:tenant, :mode, :personality, :timezone, :branding, :at) ON CONFLICT(tenant) DO UPDATE SET "
        "default_mode = excluded.default_mode, personality = excluded.personality, timezone = excluded.timezone, "
        "theo_branding = excluded.theo_branding, updated_at = excluded.updated_at",
        mode=values["default_mode"], personality=values["personality"], timezone=values["timezone"],
        branding=int(values["theo_branding"]), at=t.now_iso())


def tools(store: "Scoped") -> list[dict[str, Any]]:
    out = [{"name": name, "description": text, "inputSchema": {"type": "object", "properties": {
        "input": {"type": "string"}}, "required": ["input"]}, "outputSchema": {"type": "object"},
        "category": category, "permissionLevel": level, "requiresApproval": approval, "skillId": None}
        for name, text, category, level, approval in BUILTIN_TOOLS]
    for slug in skills.installed_slugs(store):
        skill = skills.by_slug(store, slug)
        for tool in (skill or {}).get("tool_definitions") or []:
            out.append({"name": tool["name"], "description": tool.get("description", ""),
                        "inputSchema": tool.get("inputSchema") or tool.get("input_schema") or {"type": "object"},
                        "outputSchema": tool.get("outputSchema"), "category": "skill", "permissionLevel": "user",
                        "requiresApproval": bool(tool.get("requiresApproval")), "skillId": skill["id"]})
    return out


def voice_token(t: "Tenant", nonce: str) -> dict[str, Any]:
    now = t.now_ms()
    digest = hashlib.blake2b(f"{t.settings.seed}|{t.name}|{nonce}|voice".encode(), digest_size=24).hexdigest()
    mode = settings(t)
    persona = ("You are Theo, a concise and friendly voice assistant." if mode["personality"] == "theo"
               else "You are a concise voice assistant.")
    declarations = [{"name": "search_web", "description": "Search the web for current information.",
                     "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                    "required": ["query"]}},
                    {"name": "create_task", "description": "Create a task for the user.",
                     "parameters": {"type": "object", "properties": {"title": {"type": "string"},
                                                                     "due": {"type": "string"}},
                                    "required": ["title"]}}]
    return {"token": f"theo_voice_{digest}", "expiresAt": iso(now + VOICE_TTL_MS),
            "systemInstruction": f"{persona} Answer in short spoken sentences; the user's timezone is "
                                 f"{mode['timezone']}.",
            "tools": [{"functionDeclarations": declarations}]}


def billing_session(t: "Tenant", kind: str, scope: str, amount_cents: int | None,
                    success_url: str | None) -> dict[str, Any]:
    now = t.now_ms()
    row = {"id": t.new_id("cs" if kind == "checkout" else "bps"), "kind": kind, "scope": scope,
           "amount_cents": amount_cents, "success_url": success_url, "status": "open",
           "expires_ms": now + BILLING_TTL_MS, "created_at": iso(now), "completed_at": None}
    t.store.insert(BILLING, row)
    return row


def complete_checkout(t: "Tenant", row: dict[str, Any]) -> dict[str, Any]:
    """Complete an open, unexpired checkout of this tenant: its amount joins a billed tenant's credits."""
    now = t.now_ms()
    if row["status"] != "open" or now > row["expires_ms"] or row["kind"] != "checkout":
        return {"id": row["id"], "status": "expired" if now > row["expires_ms"] else row["status"],
                "creditsAddedCents": 0}
    current = ledger.account(t)
    added = 0
    with t.store.atomic():
        if current["balance_units"] is not None:
            added = row["amount_cents"]
            ledger.set_account(t, current["balance_units"] + units(added), None)
        t.store.update(BILLING, row["id"], {"status": "complete", "completed_at": iso(now)})
    balance = ledger.account(t)["balance_units"]
    return {"id": row["id"], "status": "complete", "creditsAddedCents": added,
            "balanceCents": None if balance is None else cents(balance), "successUrl": row["success_url"]}


def increase_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """A rate-limit increase request."""
    return {"id": row["id"], "requested_tier": row["requested_tier"], "use_case": row["use_case"],
            "expected_volume": row["expected_volume"], "status": row["status"], "created_at": row["created_at"]}


def decide_increase(t: "Tenant", row: dict[str, Any], approve: bool) -> dict[str, Any]:
    """Approve or deny a pending increase request (call inside a transaction); an approval
    publishes rate_limit.upgraded with the tier's limits."""
    status = "approved" if approve else "denied"
    t.store.update(RATE_REQUESTS, row["id"], {"status": status})
    if approve:
        tier = TIERS[row["requested_tier"]]
        events.emit(t, "rate_limit.upgraded", {"request_id": row["id"], "tier": row["requested_tier"], "limits": {
            "requests_per_minute": tier.requests, "tokens_per_minute": tier.tokens}})
    return {**row, "status": status}
