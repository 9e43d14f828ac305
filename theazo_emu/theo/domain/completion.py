"""The completion pipeline, shared by POST /completions and POST /chat/completions.

Order of checks, so that a refused request changes nothing: the conversation (404
`not_found`), the credits (402), the mode's rate limit (429), then the engine's answer
(mock.py, or a fixture script);
a scripted error before any output is audited and raised. Then one transaction writes
everything a completion leaves: the conversation (started when the request has none and
is not stateless) and its two messages, the ledger row and the balance (ledger.py), the
audit entry, and the `completion.created` event; the tokens count against the key's
per-minute tokens. Ids are drawn in a fixed order, so the same requests give the same ids.
A cacheable request (cache.py) that no fixture script answers may be served by the semantic
cache instead of the engine: a new completion, booked at zero tokens and cost, that starts
no conversation and answers the first request's `conversation_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from theazo_emu.core.journal import record_event
from theazo_emu.core.mock import count_tokens
from theazo_emu.theo.domain import audit, cache, conversations, engines, events, ledger
from theazo_emu.theo.domain.answers import Answer, Ask, Tool
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.domain.mock import generated, persona_name
from theazo_emu.theo.domain.ratelimit import limiter
from theazo_emu.theo.domain.scripts import scripted
from theazo_emu.theo.domain.skills import active
from theazo_emu.theo.domain.triggers import joining, preferred_engine

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

ARTIFACT_BASE = "https://cdn.hitheo.invalid/artifacts"  # placeholder URLs: .invalid never resolves
_URL_FIELDS = {"image": ("imageUrl", "png"), "video": ("videoUrl", "mp4"), "document": ("downloadUrl", "pdf")}


@dataclass(frozen=True)
class Caller:
    """Who asks, besides the tenant (the handle the domain is called with): the API key (for
    its rate limits) and its audit id, and the request's facts the audit log keeps (route,
    method, request_id, ip_address, user_agent)."""

    key: str | None
    key_id: str
    request: dict[str, Any]
    org: bool = False  # an org key: its cached answers are its own (cache.py)

    @property
    def request_id(self) -> str:
        return self.request.get("request_id") or ""


@dataclass(frozen=True)
class Request:
    """A completion request, whichever route it came by."""

    prompt: str
    mode: str = "auto"
    conversation_id: str | None = None
    inline_history: tuple[tuple[str, str], ...] | None = None  # stateless history (no conversation kept)
    stateless: bool = False  # keep no conversation even without one (chat without conversation_id)
    persona: str = "theo"
    branding: bool = True
    skills: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_results: tuple[tuple[str, str], ...] = ()
    tool_choice: str = "auto"
    client_tools: bool = False
    model_overrides: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    image_model: str | None = None
    component_library: str | None = None
    attachments: int = 0
    stream: bool = False
    cacheable: bool = False  # POST /completions: the semantic cache may answer (cache.py)


@dataclass
class Result:
    id: str
    created_ms: int
    created: str
    mode: str
    engine: engines.Engine
    answer: Answer
    artifacts: list[dict[str, Any]]
    conversation_id: str | None
    request_id: str
    metadata: dict[str, Any] | None
    skills: tuple[dict[str, Any], ...]  # the skills it activated: id, slug, name
    balance_units: int | None
    call_ids: tuple[str, ...] = ()  # the ids of the answer's tool calls
    library: str | None = None  # genui: the component library
    brand: dict[str, Any] | None = None  # the stream's `meta.brand`, when not Theo's own

    @property
    def resolved_mode(self) -> str:
        return self.answer.resolved_mode


def resolve(request: Request, preferred: str | None = None) -> tuple[str, engines.Engine]:
    """The mode the request runs in (`auto` classified) and the engine that runs it: an
    active skill's `preferred` engine when the request asks for `auto` with no override."""
    if preferred is not None and request.mode == "auto" and not request.model_overrides:
        return engines.BY_ID[preferred].mode, engines.BY_ID[preferred]
    resolved = engines.classify(request.prompt) if request.mode == "auto" else request.mode
    override = request.model_overrides.get(resolved)
    return resolved, engines.BY_ID[override] if override else engines.BY_MODE[resolved]


def run(t: "Tenant", caller: Caller, request: Request) -> Result:
    """Answer a completion and book everything it leaves (see the module docstring)."""
    store = t.store
    conversation = conversations.require(store, request.conversation_id) if request.conversation_id else None
    history = tuple(conversations.history(store, conversation["id"])) if conversation else \
        (request.inline_history or ())
    ledger.require_credits(t)
    request = replace(request, skills=tuple(dict.fromkeys((*request.skills, *joining(store, request.prompt)))))
    resolved, engine = resolve(request, preferred_engine(store, request.skills))
    limits = limiter(t)
    limits.check_mode(caller.key, resolved, t.now_ms())
    ask = Ask(prompt=request.prompt, mode=request.mode, resolved_mode=resolved, engine=engine.id, history=history,
              persona=request.persona, branding=request.branding, skills=request.skills, tools=request.tools,
              tool_results=request.tool_results, tool_choice=request.tool_choice, client_tools=request.client_tools,
              image_model=request.image_model, attachments=request.attachments, tenant=t.name)
    answer = scripted(t, ask)
    scope = caller.key_id if caller.org else "user"
    cache_key = cache.key(scope, ask, request.model_overrides) \
        if answer is None and request.cacheable and t.settings.theo_cache else None
    hit = cache.lookup(t, cache_key) if cache_key else None
    answer = hit.answer if hit else answer or generated(t.settings.seed, ask)
    engine = engines.BY_ID[answer.engine]
    failure = answer.error
    if failure is not None and (failure.after_tokens is None or not request.stream):
        error = TheoError(failure.status, failure.code, failure.message)
        error.after = partial(_audit, t, caller, request, answer, None, None, failure.status)
        raise error
    now = t.now_ms()
    with store.atomic():
        ident = t.new_id("cmpl")
        if conversation is None and request.inline_history is None and not request.stateless and hit is None:
            conversation = conversations.start(t, request.prompt)
        artifacts = hit.artifacts if hit else [_artifact(t, draft) for draft in answer.artifacts]
        call_ids = tuple(t.new_id("call") for _ in answer.tool_calls)
        content = answer.content
        if failure:  # a stream that fails after some tokens: only what it produced is kept and charged
            content = "".join(answer.chunks[:failure.after_tokens])
            produced = count_tokens(content) if not engine.cents_each else 0
            answer = replace(answer, completion_tokens=produced,
                             cost_units=engines.cost_units(engine, answer.prompt_tokens, produced))
        if conversation is not None:
            conversations.add_messages(t, conversation, {"role": "user", "content": request.prompt}, {
                "role": "assistant", "content": content, "mode": request.mode, "resolved_mode": answer.resolved_mode,
                "model": engines.model_to_api(engine), "artifacts": artifacts, "follow_ups": list(answer.follow_ups),
                "tools": [{"toolName": tool["name"], "status": tool["status"], "description": tool.get("description")}
                          for tool in answer.tools_used],
                "status": "error" if failure else "complete", "error_message": failure.message if failure else None,
                "cost_units": answer.cost_units})
        balance = ledger.charge(t, {
            "id": ident, "tenant": t.name, "key_id": caller.key_id, "kind": "completion",
            "route": caller.request.get("route"), "mode": request.mode, "resolved_mode": answer.resolved_mode, "model": engine.id,
            "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
            "cost_units": answer.cost_units, "cached": int(answer.cached), "at_ms": now, "created_at": t.now_iso()})
        conversation_id = hit.conversation_id if hit else conversation["id"] if conversation else None
        if cache_key and hit is None:
            cache.store(t, cache_key, scope, request.mode, answer, artifacts, conversation_id)
        _audit(t, caller, request, answer, ident, conversation_id, failure.status if failure else 200)
        events.emit(t, "completion.created", {
            "completion_id": ident, "conversation_id": conversation_id, "mode": request.mode,
            "resolved_mode": answer.resolved_mode, "model": engine.id, "usage": usage(answer)})
    limits.book_tokens(caller.key, answer.prompt_tokens + answer.completion_tokens, now)
    record_event(t, "theo_completion", tenant=t.name, completionId=ident, mode=request.mode,
                 resolvedMode=answer.resolved_mode, model=engine.id, stream=request.stream,
                 tokens=answer.prompt_tokens + answer.completion_tokens, costUnits=answer.cost_units)
    return Result(ident, now, t.now_iso(), request.mode, engine, answer, artifacts, conversation_id,
                  caller.request_id, request.metadata, active(store, request.skills), balance, call_ids,
                  request.component_library, brand(request))


def brand(request: Request) -> dict[str, Any] | None:
    """Whom the answer speaks for, when the request asks for another voice than Theo's: a
    persona (`none` or a system prompt, named by its "You are ..."), or `theo_branding: false`."""
    if request.persona == "theo" and request.branding:
        return None
    persona = request.persona if request.persona in ("theo", "none") else "custom"
    name = "Theo" if persona == "theo" else persona_name(request.persona)
    return {"name": name, "persona": persona, "theo_branding": request.branding}


def usage(answer: Answer) -> dict[str, Any]:
    counted = {"cost_cents": engines.cents(answer.cost_units), "prompt_tokens": answer.prompt_tokens,
               "completion_tokens": answer.completion_tokens,
               "total_tokens": answer.prompt_tokens + answer.completion_tokens}
    return {**counted, "cached": True} if answer.cached else counted


def _artifact(t: "Tenant", draft: dict[str, Any]) -> dict[str, Any]:
    ident = t.new_id("art")
    artifact = {"id": ident, **draft}
    url = _URL_FIELDS.get(draft.get("type", ""))
    if url is not None and url[0] not in artifact:
        artifact[url[0]] = f"{ARTIFACT_BASE}/{ident}.{url[1]}"
    return artifact


def _audit(t: "Tenant", caller: Caller, request: Request, answer: Answer, ident: str | None,
           conversation_id: str | None, status: int) -> None:
    failure = answer.error
    audit.append(
        t, action="completion.created" if ident else "completion.failed", entity_type="completion",
        entity_id=ident, key_id=caller.key_id, request=caller.request, status=status, mode=request.mode,
        model=answer.engine, cost_units=answer.cost_units if ident else 0,
        input_summary={**audit.prompt_summary(request.prompt), "mode": request.mode, "skills": list(request.skills),
                       "tools": [tool.name for tool in request.tools], "conversationId": conversation_id,
                       "metadata": request.metadata},
        output_summary={"resolvedMode": answer.resolved_mode, "model": answer.engine,
                        "toolsUsed": [tool["name"] for tool in answer.tools_used],
                        "toolCalls": [c["name"] for c in answer.tool_calls],
                        "artifacts": len(answer.artifacts), "promptTokens": answer.prompt_tokens,
                        "completionTokens": answer.completion_tokens if ident else 0,
                        "costCents": engines.cents(answer.cost_units if ident else 0),
                        "error": failure.code if failure else None, "script": answer.script})
