"""Fault injection for testing client retries (DESIGN.md "Mocked model and compute").

`guard` applies, before an endpoint runs (so nothing is stored), the `X-Theazo-Emu-Fault`
header's faults (comma-separated) and the first matching rule whose draw fires: rules
added with POST /_emu/faults first, then the fixtures'. Draws are a digest of the seed,
the rule and its request count, so a CI run repeats exactly; `times` counts firings.
Seeding requests are never faulted, nor is the admin surface (it asks for no guards).
Errors are the neutral ones of errors.py, so each surface renders them with its own codes;
fired faults are journaled; sse.py carries out stream cuts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from theazo_emu.core.errors import ApiError, InternalError, ProviderError, RateLimited, Timeout, Unprocessable
from theazo_emu.core.http import header
from theazo_emu.core.journal import record_event
from theazo_emu.core.mock import draw

if TYPE_CHECKING:
    from theazo_emu.core.http import ApiRoute, Ctx
    from theazo_emu.core.mock import Entry

HEADER = "x-theazo-emu-fault"
_HEADER_BYTES = HEADER.encode()
CUT_AFTER = "sse_cut_after"  # request-state key set by a stream_cut fault: the stream ends after N events
SEEDING = "theazo_emu.fixtures.seeding"  # ASGI scope flag on requests the emulator makes to itself
DEFAULT_RETRY_AFTER = 2  # the reference's own example
MAX_LATENCY_MS = 60_000  # the most a request is delayed, by the header or by rules (fixtures' `latencyMs`)
_ERRORS: dict[str, type[ApiError]] = {
    "provider_error": ProviderError, "timeout": Timeout, "internal_error": InternalError, "rate_limited": RateLimited}
_MESSAGES = {
    "provider_error": "Upstream compute provider returned an error (injected fault).",
    "timeout": "The request timed out (injected fault).",
    "internal_error": "Unexpected server error (injected fault). The requestId helps with support.",
}


class RuleMatch(Protocol):
    method: str | None
    path: str | None
    key: str | None

    def model_dump(self, *, exclude_none: bool) -> dict[str, Any]: ...


class RuleSpec(Protocol):
    """A fault rule as declared, by API or in a fixture file (fixtures/models.FaultSpec)."""

    match: RuleMatch
    fault: str
    latencyMs: int | None
    afterEvents: int | None
    retryAfter: int | None
    times: int | None
    probability: float
    message: str | None


@dataclass(frozen=True)
class Effect:
    """What one fault does to one request."""

    kind: str
    source: str  # "header" or a rule id
    latency_ms: int = 0
    after_events: int | None = None
    retry_after: int | None = None
    message: str | None = None


class FaultRule:
    """A rule and its counters."""

    def __init__(self, rule_id: str, spec: RuleSpec, source: str) -> None:
        self.id, self.spec, self.source = rule_id, spec, source
        self.matched = 0  # requests that matched (the draw's request number)
        self.fired = 0
        self._path = _path_pattern(spec.match.path) if spec.match.path else None

    @property
    def remaining(self) -> int | None:
        return None if self.spec.times is None else max(0, self.spec.times - self.fired)

    def matches(self, method: str, path: str, key: str | None) -> bool:
        match = self.spec.match
        return ((match.method is None or match.method.upper() == method)
                and (self._path is None or self._path.search(path) is not None)
                and (match.key is None or match.key == key))

    def effect(self) -> Effect:
        spec = self.spec
        return Effect(spec.fault, self.id, spec.latencyMs or 0, spec.afterEvents, spec.retryAfter, spec.message)

    def to_api(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": self.id, "fault": spec.fault, "match": spec.match.model_dump(exclude_none=True),
            "latencyMs": spec.latencyMs, "afterEvents": spec.afterEvents, "retryAfter": spec.retryAfter,
            "probability": spec.probability, "times": spec.times, "remaining": self.remaining,
            "matched": self.matched, "fired": self.fired, "message": spec.message, "source": self.source,
        }


def _path_pattern(path: str) -> re.Pattern:
    """`^...` is a regex; otherwise a glob: `*` within one segment, `**` across segments."""
    if path.startswith("^"):
        return re.compile(path)
    parts = re.split(r"(\*\*|\*|\?)", path)
    glob = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("^" + "".join(glob.get(p, re.escape(p)) for p in parts) + "$")


class Faults:
    """The fault rules in force: those added by API, then the fixtures'."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.api_rules: list[FaultRule] = []
        self.fixture_rules: list[FaultRule] = []
        self._count = 0

    def rules(self) -> list[FaultRule]:
        return [*self.api_rules, *self.fixture_rules]

    def add(self, spec: RuleSpec, source: str = "api") -> FaultRule:
        self._count += 1
        rule = FaultRule(f"fault_{self._count}", spec, source)
        self.api_rules.append(rule)
        return rule

    def use_fixtures(self, entries: Iterable["Entry[RuleSpec]"]) -> None:
        """Install the fixture set's rules with fresh counters (ids follow declaration order)."""
        self.fixture_rules = [FaultRule(f"fixture_{n}", e.spec, f"{e.file} {e.path}")
                              for n, e in enumerate(entries, 1)]

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules())
        self.api_rules = [r for r in self.api_rules if r.id != rule_id]
        self.fixture_rules = [r for r in self.fixture_rules if r.id != rule_id]
        return len(self.rules()) < before

    def clear(self) -> int:
        count = len(self.rules())
        self.api_rules, self.fixture_rules = [], []
        return count

    def pick(self, method: str, path: str, key: str | None) -> FaultRule | None:
        """The first matching rule that fires for this request; counts it."""
        for rule in self.rules():
            if rule.remaining == 0 or not rule.matches(method, path, key):
                continue
            rule.matched += 1
            if rule.spec.probability < 1 and draw(self.seed, rule.id, rule.matched) >= rule.spec.probability:
                continue
            rule.fired += 1
            return rule
        return None


def parse_header(value: str) -> list[Effect]:
    """`provider_error`, `latency=250ms, rate_limited=5`, `stream_cut=3`, ... or 422."""
    effects = []
    for token in filter(None, (t.strip() for t in value.split(","))):
        name, _, arg = (part.strip() for part in token.partition("="))
        try:
            effects.append(_header_effect(name.lower(), arg))
        except ValueError as exc:
            message = f"Invalid X-Theazo-Emu-Fault value {token[:60]!r}: {exc}"
            raise Unprocessable(message, [{"field": "X-Theazo-Emu-Fault", "message": str(exc)}]) from None
    return effects


def _header_effect(name: str, arg: str) -> Effect:
    if name == "latency":
        ms = _milliseconds(arg) if arg else None
        if ms is None or not 0 <= ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency needs a duration up to {MAX_LATENCY_MS} ms, such as latency=250ms")
        return Effect("latency", "header", latency_ms=ms)
    if name == "stream_cut":
        if not arg.isdigit():
            raise ValueError("stream_cut needs a number of events, such as stream_cut=3")
        return Effect("stream_cut", "header", after_events=int(arg))
    if name == "rate_limited" and arg:
        if not arg.isdigit() or int(arg) > 86_400:
            raise ValueError("rate_limited takes a Retry-After in whole seconds, such as rate_limited=5")
        return Effect(name, "header", retry_after=int(arg))
    if name in _ERRORS and not arg:
        return Effect(name, "header")
    raise ValueError("expected provider_error, timeout, rate_limited[=seconds], internal_error, "
                     "latency=<duration> or stream_cut=<events>, separated by commas")


def _milliseconds(text: str) -> int:
    """'250ms', '2s' or a bare number of milliseconds, in whole milliseconds."""
    from theazo_emu.core import durations  # only when a latency is asked for

    try:
        return round(durations.to_ms(text, bare="ms"))
    except ValueError:
        raise ValueError(f"expected milliseconds or a duration such as '250ms' or '2s', got {text!r}") from None


def error_for(effect: Effect) -> ApiError:
    """The documented envelope for an injected error; `details.injected` names its source."""
    if effect.kind == "rate_limited":
        after = DEFAULT_RETRY_AFTER if effect.retry_after is None else effect.retry_after
        message = effect.message or f"Too many requests. Retry after {after} seconds."
        return RateLimited(message, {"retryAfter": after, "injected": effect.source},
                           headers={"Retry-After": str(after)})
    return _ERRORS[effect.kind](effect.message or _MESSAGES[effect.kind], {"injected": effect.source})


async def guard(ctx: "Ctx", route: "ApiRoute") -> None:
    """Apply the header's faults and the first rule that fires: delay, cut, or refuse."""
    request = ctx.request
    if request.scope.get(SEEDING):
        return
    value = header(request.scope, _HEADER_BYTES)
    effects = parse_header(value) if value else []
    path = request.scope["path"]  # not request.url: building a URL costs more than the rest of this guard
    rule = ctx.emu.faults.pick(request.method, path, ctx.key)
    if rule is not None:
        effects.append(rule.effect())
    if not effects:
        return
    for effect in effects:  # visible in /_emu/requests?kind=fault
        record_event(ctx.emu, "fault", fault=effect.kind, source=effect.source, method=request.method, path=path)
    latency = min(MAX_LATENCY_MS, sum(e.latency_ms for e in effects))
    if latency:
        await asyncio.sleep(latency / 1000)  # wall time on purpose: it is the client's timeouts under test
    cuts = [e.after_events for e in effects if e.kind == "stream_cut" and e.after_events is not None]
    if cuts:
        setattr(request.state, CUT_AFTER, min(cuts))
    error = next((e for e in effects if e.kind in _ERRORS), None)
    if error is not None:
        raise error_for(error)
