"""Guardrails: the tenant's configuration, the checks, and the violations they record.

The SDK's `theazo.guardrails` (GET/PUT /v1/guardrails, GET /v1/guardrails/violations). One
configuration per tenant (`guardrail_configs`, absent = everything off); the one writer of
it and of `guardrail_violations`. Enforcement is in two places, both deterministic:
- **Input** (`check_input`): a run's task (agent run, session run, task, team run, and
  every run schedules, triggers, workflows and fleets start) and a chat message. A hit is
  refused at once with 422 `guardrail_blocked`, and the violation is recorded.
- **Output** (`screen_run`, `screen_chat`): a settled plan's tool calls (`maxToolCalls`,
  URLs in tool inputs against the domain lists), tool results and final text (PII, content
  filter) and output tokens (`maxOutputTokens`). A run fails on its timeline at the first
  offending event (an `error` event with `guardrail_blocked`; the violation is dated at that
  instant); a chat reply that would violate is refused with 422 before anything is stored.
The patterns are small, fixed and documented in docs/theazo.md, so tests can trigger each one.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant
    from theazo_emu.theazo.mock.engine import RunPlan

CONFIGS, VIOLATIONS = "guardrail_configs", "guardrail_violations"
FILTER_LEVELS = ("off", "light", "moderate", "strict")
DEFAULTS: dict[str, Any] = {"contentFilter": "off", "blockPII": False, "promptInjection": False,
                            "allowedDomains": None, "blockedDomains": []}
TYPES = ("content_filter", "pii", "prompt_injection", "blocked_domain", "domain_not_allowed", "max_tool_calls",
         "max_output_tokens")

# Each level blocks its own phrases and those of the levels below it (whole words, any case).
CONTENT_TERMS = {
    "light": ("build a bomb", "make a bomb", "kill yourself"),
    "moderate": ("steal credentials", "hack into", "hate speech"),
    "strict": ("damn", "stupid", "idiot"),
}
_PII = (
    ("an email address", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("a social security number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("a phone number", re.compile(r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")),
)
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|system)\s+"
    r"(?:instructions|prompts?|rules|messages)\b"
    r"|\breveal\s+(?:your|the)\s+(?:system\s+prompt|instructions|hidden\s+prompt)\b"
    r"|\byou\s+are\s+now\s+(?:in\s+)?(?:developer|dan|jailbreak)\s+mode\b|\bjailbreak\b", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://([A-Za-z0-9.-]+)", re.IGNORECASE)


class GuardrailBlocked(ApiError):
    """422 `guardrail_blocked`; the violation is written once the request's writes roll back,
    so a refused chat message is gone and its violation stays."""

    status, code = 422, "guardrail_blocked"

    def __init__(self, message: str, details: dict[str, Any], violation: Callable[[], str]) -> None:
        super().__init__(message, details | {"violationId": None})
        self.after = lambda: self.details.update(violationId=violation())


class Hit(NamedTuple):
    type: str
    message: str


class Violation(NamedTuple):
    """An output-side hit, found at `offset_ms` of a settled plan."""

    hit: Hit
    offset_ms: int


# ---- configuration ----

def config(t: "Tenant") -> dict[str, Any]:
    """The tenant's configuration, every key present (unset numbers are left out)."""
    row = t.store.find(CONFIGS, order=None, columns="config")
    return {**DEFAULTS, **(row["config"] if row else {})}


def configure(t: "Tenant", settings: dict[str, Any]) -> dict[str, Any]:
    """Replace the tenant's configuration (PUT semantics: what is not given is the default)."""
    with t.store.atomic():
        t.store.execute(f"INSERT INTO {CONFIGS} (tenant, config, updated_at) VALUES (:tenant, :config, :now) "
                        "ON CONFLICT(tenant) DO UPDATE SET config = excluded.config, "
                        "updated_at = excluded.updated_at",
                        config=json.dumps(settings, separators=(",", ":"), sort_keys=True), now=t.now_iso())
    return config(t)


def active(settings: dict[str, Any]) -> bool:
    """Whether any check is on (most tenants have none: runs then skip the screening)."""
    return (settings["contentFilter"] != "off" or settings["blockPII"] or settings["promptInjection"]
            or settings["allowedDomains"] is not None or bool(settings["blockedDomains"])
            or "maxOutputTokens" in settings or "maxToolCalls" in settings)


# ---- the checks ----

def _content(settings: dict[str, Any], text: str) -> Hit | None:
    level = settings["contentFilter"]
    if level == "off":
        return None
    for name in FILTER_LEVELS[1:FILTER_LEVELS.index(level) + 1]:
        for term in CONTENT_TERMS[name]:
            if re.search(rf"\b{re.escape(term)}\b", text, re.IGNORECASE):
                return Hit("content_filter", f"content filter ({level}) matched '{term}'")
    return None


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _pii(settings: dict[str, Any], text: str) -> Hit | None:
    if not settings["blockPII"]:
        return None
    for what, pattern in _PII:
        if pattern.search(text):
            return Hit("pii", f"personal data detected: {what}")
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return Hit("pii", "personal data detected: a payment card number")
    return None


def _injection(settings: dict[str, Any], text: str) -> Hit | None:
    if settings["promptInjection"] and _INJECTION.search(text):
        return Hit("prompt_injection", "prompt injection detected")
    return None


def _matches(host: str, domain: str) -> bool:
    domain = domain.lower().removeprefix("*.")
    return host == domain or host.endswith("." + domain)


def _domains(settings: dict[str, Any], text: str) -> Hit | None:
    allowed, blocked = settings["allowedDomains"], settings["blockedDomains"]
    if allowed is None and not blocked:
        return None
    for match in _URL.finditer(text):
        host = match.group(1).lower().rstrip(".")
        if any(_matches(host, d) for d in blocked):
            return Hit("blocked_domain", f"the domain {host} is blocked")
        if allowed is not None and not any(_matches(host, d) for d in allowed):
            return Hit("domain_not_allowed", f"the domain {host} is not in allowedDomains")
    return None


def _text_hit(settings: dict[str, Any], text: str, *, prompt: bool) -> Hit | None:
    checks = (_content, _pii, _injection, _domains) if prompt else (_content, _pii, _domains)
    for check in checks:
        hit = check(settings, text)
        if hit is not None:
            return hit
    return None


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ---- enforcement ----

def check_input(t: "Tenant", text: str, *, field: str, source: str,
                **who: str | None) -> None:
    """Refuse `text` (a task, a chat message) with 422 `guardrail_blocked` when a check hits;
    the violation is recorded. `who` names agent_id, session_id, task_id, conversation_id."""
    settings = config(t)
    if not active(settings):
        return
    hit = _text_hit(settings, text, prompt=True)
    if hit is not None:
        raise GuardrailBlocked(f"Blocked by guardrails: {hit.message}.", {"field": field, "guardrail": hit.type},
                               partial(record, t, hit, t.now_ms(), source=source, **who))


class Step(NamedTuple):
    """One thing a plan does, in timeline order: a tool call, a tool result, the final text."""

    offset_ms: int
    kind: str  # tool_call | tool_result | output
    value: Any  # the tool input, the result text, the output text


def first_hit(settings: dict[str, Any], steps: Iterable[Step], output_tokens: int) -> Violation | None:
    """The first step of a settled plan that a check refuses, or None."""
    calls, limit = 0, settings.get("maxToolCalls")
    for step in steps:
        if step.kind == "tool_call":
            calls += 1
            if limit is not None and calls > limit:
                return Violation(Hit("max_tool_calls", f"more than maxToolCalls ({limit}) tool calls"), step.offset_ms)
            hit = next((h for h in (_domains(settings, s) for s in _strings(step.value)) if h), None)
        elif step.kind == "output":
            cap = settings.get("maxOutputTokens")
            hit = _text_hit(settings, step.value, prompt=False)
            if hit is None and cap is not None and output_tokens > cap:
                hit = Hit("max_output_tokens", f"{output_tokens} output tokens exceed maxOutputTokens ({cap})")
        else:
            hit = next((h for h in (_text_hit(settings, s, prompt=False) for s in _strings(step.value)) if h), None)
        if hit is not None:
            return Violation(hit, step.offset_ms)
    return None


def screen_run(t: "Tenant", plan: "RunPlan") -> tuple["RunPlan", Violation | None]:
    """The plan as guardrails let it run: cut at its first violation (which is returned, for
    runs.submit to record once the run has its id), or unchanged."""
    settings = config(t)
    if plan.error is not None or not active(settings):
        return plan, None
    steps = [Step(e.offset_ms, e.event, e.data.get("input") if e.event == "tool_call" else e.data.get("output"))
             for e in plan.events if e.event in ("tool_call", "tool_result")]
    found = first_hit(settings, [*steps, Step(plan.duration_ms, "output", plan.output)], plan.output_tokens)
    if found is None:
        return plan, None
    from theazo_emu.theazo.mock.engine import cut_plan

    error = {"code": "guardrail_blocked", "message": f"Blocked by guardrails: {found.hit.message}.",
             "guardrail": found.hit.type}
    return cut_plan(plan, found.offset_ms, error), found


def screen_chat(t: "Tenant", steps: list[Step], output_tokens: int, **who: str | None) -> None:
    """Refuse a settled chat reply that a check hits (422, the violation recorded)."""
    settings = config(t)
    if not active(settings):
        return
    found = first_hit(settings, steps, output_tokens)
    if found is not None:
        raise GuardrailBlocked(f"Blocked by guardrails: the reply was refused ({found.hit.message}).",
                               {"field": "reply", "guardrail": found.hit.type},
                               partial(record, t, found.hit, t.now_ms(), source="chat", **who))


# ---- violations ----

def record(t: "Tenant", hit: Hit, at_ms: int, *, source: str, agent_id: str | None = None,
           session_id: str | None = None, task_id: str | None = None, conversation_id: str | None = None) -> str:
    """Write one violation dated `at_ms`; returns its id."""
    with t.store.atomic():
        ident = t.new_id("viol")
        t.store.insert(VIOLATIONS, {
            "id": ident, "tenant": t.name, "type": hit.type, "message": hit.message, "source": source,
            "agent_id": agent_id, "session_id": session_id, "task_id": task_id, "conversation_id": conversation_id,
            "at_ms": at_ms, "timestamp": iso(at_ms)})
    return ident


def violation_to_api(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "agentId": row["agent_id"], "type": row["type"], "message": row["message"],
            "timestamp": row["timestamp"], "source": row["source"], "sessionId": row["session_id"],
            "taskId": row["task_id"], "conversationId": row["conversation_id"]}
