"""The fixture-file schema and the fault-rule body, declared once as pydantic models.

A file (`.json`/`.toml`) holds `keys` (seed data, scopes, rate limits per API key), `runs`,
`exec`, `chat` (scripted chat replies) and `faults` (the body of POST /_emu/faults); `FixtureDocument`, the body of POST
/_emu/fixtures, adds a `key`. Unlike API bodies these refuse unknown fields, naming the
expected ones, so a typo cannot silently disable a fixture. Seed bodies are checked by
the API itself when sent. Durations: milliseconds, or strings such as '250ms', '2s'.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .. import durations
from ..catalog import endpoints
from ..domain import pricing
from ..ratelimit import parse_limit
from .fixture_parts import Strict, Text, TextMatch  # noqa: F401 (TextMatch: part of this module's API)
from .theo_fixtures import CompletionSpec, JobSpec, TheoKeySpec, TranscriptSpec, check_theo_key

_TEST_KEY = re.compile(r"^th_test_[\x21-\x7e]{1,500}$")
_SCOPE = re.compile(r"^(\*|[a-z][a-z0-9-]*)(?::(read|write|\*))?$")
MAX_TIMELINE_MS = 24 * 3_600_000
MAX_LATENCY_MS = 60_000
# The reference's error codes a scripted run may fail with.
RUN_ERROR_CODES = ("provider_error", "timeout", "internal_error", "rate_limited", "session_limit_exceeded",
                   "forbidden", "unauthorized", "conflict", "not_found", "unprocessable_entity")
FAULT_KINDS = ("provider_error", "timeout", "rate_limited", "internal_error", "latency", "stream_cut")


def to_ms(value: Any) -> Any:
    """A number of milliseconds, or '250ms', '2s', '1.5m', '1h' as milliseconds (None stays)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected milliseconds or a duration such as '250ms' or '2s'")
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else value
    try:
        return int(round(durations.to_ms(value, bare="ms")))
    except ValueError:
        raise ValueError(f"expected milliseconds or a duration such as '250ms' or '2s', got {value!r}") from None


Ms = Annotated[int, BeforeValidator(to_ms), Field(ge=0, le=MAX_TIMELINE_MS)]


@cache
def families() -> frozenset[str]:
    """API families, named as in the README: the path segment after /v1/."""
    return frozenset(path.split("/")[2] for _, path, _ in endpoints() if path.startswith("/v1/"))


class RunMatch(Strict):
    task: Text | None = None
    instructions: Text | None = None
    definition: Text | None = None
    model: Text | None = None
    tools: list[str] | None = Field(default=None, description="Every listed tool is enabled on the agent.")
    key: str | None = Field(default=None, description="Only runs of this API key's agents.")


class EventSpec(Strict):
    offset: Ms
    type: Literal["thinking", "tool_call", "tool_result"]
    text: str | None = None
    tool: str | None = None
    input: dict[str, Any] | None = None
    output: Any = None

    @model_validator(mode="after")
    def _fields(self) -> "EventSpec":
        if self.type == "thinking" and self.text is None:
            raise ValueError("a 'thinking' event needs 'text'")
        if self.type != "thinking" and not self.tool:
            raise ValueError(f"a '{self.type}' event needs 'tool'")
        return self


class ToolCallSpec(Strict):
    tool: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)
    output: Any = ""


class Usage(Strict):
    inputTokens: int = Field(ge=0, le=10**9)
    outputTokens: int = Field(ge=0, le=10**9)


class RunError(Strict):
    code: Literal[RUN_ERROR_CODES]  # type: ignore[valid-type]
    message: str | None = None


def _cost_cents(value: Any) -> Any:
    return value.get("amount") if isinstance(value, dict) and set(value) <= {"amount", "currency"} else value


class RunSpec(Strict):
    name: str | None = None
    match: RunMatch
    events: list[EventSpec] = Field(default_factory=list)
    output: str = ""
    toolCalls: list[ToolCallSpec] | None = None
    usage: Usage | None = None
    cost: Annotated[int | None, BeforeValidator(_cost_cents), Field(ge=0, le=10**9)] = None
    duration: Annotated[int | None, BeforeValidator(to_ms), Field(ge=0, le=MAX_TIMELINE_MS)] = None
    error: Annotated[RunError | None, BeforeValidator(lambda v: {"code": v} if isinstance(v, str) else v)] = None
    artifacts: list[str] = Field(default_factory=list)

    @field_validator("events")
    @classmethod
    def _ordered(cls, events: list[EventSpec]) -> list[EventSpec]:
        for i, (before, after) in enumerate(zip(events, events[1:]), 1):
            if after.offset < before.offset:
                raise ValueError(f"offsets must not decrease: events[{i}] at {after.offset} ms comes after "
                                 f"events[{i - 1}] at {before.offset} ms")
        return events

    @model_validator(mode="after")
    def _consistent(self) -> "RunSpec":
        if self.error is not None and self.output:
            raise ValueError("give 'output' or 'error', not both")
        last = self.events[-1].offset if self.events else 0
        if self.duration is not None and self.duration < last:
            raise ValueError(f"duration {self.duration} ms is before the last event ({last} ms)")
        compute = pricing.compute_cents(pricing.compute_minutes(self.duration_ms))
        if self.cost is not None and self.cost < compute:
            raise ValueError(f"cost {self.cost} is below the compute charge of {compute} cents for a "
                             f"{self.duration_ms} ms run")
        return self

    @property
    def duration_ms(self) -> int:
        """The final event's offset: `duration`, else one second after the last event."""
        if self.duration is not None:
            return self.duration
        return (self.events[-1].offset if self.events else 0) + 1000


class ExecMatch(Strict):
    language: Annotated[list[str] | None, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = None
    code: Text | None = None
    key: str | None = Field(default=None, description="Only exec calls made with this API key.")


class ExecSpec(Strict):
    name: str | None = None
    match: ExecMatch
    stdout: str = ""
    stderr: str = ""
    exitCode: int = Field(default=0, ge=0, le=255)
    durationMs: int | None = Field(default=None, ge=0, le=3_600_000)


class ChatMatch(Strict):
    message: Text | None = None
    instructions: Text | None = Field(default=None, description="The conversation's system prompt and agent "
                                                                 "instructions.")
    agent: Text | None = Field(default=None, description="The conversation's agent reference (or definition name).")
    key: str | None = Field(default=None, description="Only conversations of this API key.")


class ChatToolCallSpec(Strict):
    name: str = Field(min_length=1, max_length=100)
    input: dict[str, Any] = Field(default_factory=dict)
    output: str = ""


class ChatSpec(Strict):
    """A scripted chat reply: its text, the tool calls before it, its tokens, cost and duration."""

    name: str | None = None
    match: ChatMatch
    reply: str = Field(min_length=1, max_length=100_000)
    toolCalls: list[ChatToolCallSpec] = Field(default_factory=list, max_length=50)
    usage: Usage | None = None
    cost: Annotated[int | None, BeforeValidator(_cost_cents), Field(ge=0, le=10**9)] = None
    duration: Annotated[int | None, BeforeValidator(to_ms), Field(ge=0, le=MAX_TIMELINE_MS)] = None


class FaultMatch(Strict):
    method: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,10}$")
    path: str | None = Field(default=None, min_length=1, max_length=1000,
                             description="A glob (* within a segment, ** across) or, starting with ^, a regex.")
    key: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        if path is not None and path.startswith("^"):
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        elif path is not None and not path.startswith(("/", "*")):
            raise ValueError("must start with '/' (a glob) or '^' (a regular expression)")
        return path


class FaultSpec(Strict):
    """A fault rule: which requests (`match`), what happens (`fault`), how often."""

    match: FaultMatch = Field(default_factory=FaultMatch)
    fault: Literal[FAULT_KINDS]  # type: ignore[valid-type]
    latencyMs: Annotated[int | None, BeforeValidator(to_ms), Field(ge=0, le=MAX_LATENCY_MS)] = None
    afterEvents: int | None = Field(default=None, ge=0, le=10**6)
    retryAfter: int | None = Field(default=None, ge=0, le=86_400)
    times: int | None = Field(default=None, ge=1, le=10**9)
    probability: float = Field(default=1.0, ge=0, le=1)
    message: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _needs(self) -> "FaultSpec":
        if self.fault == "latency" and self.latencyMs is None:
            raise ValueError("a 'latency' fault needs 'latencyMs'")
        if self.fault == "stream_cut" and self.afterEvents is None:
            raise ValueError("a 'stream_cut' fault needs 'afterEvents'")
        return self


class SessionSeed(BaseModel):
    """A POST /v1/sessions body, plus the agents and secrets to create in it."""

    model_config = ConfigDict(extra="allow", defer_build=True, frozen=True)
    agents: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[dict[str, Any]] = Field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RequestSeed(Strict):
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(pattern=r"^/(v1|api/v1)/")
    body: dict[str, Any] | None = None


class SeedFields(Strict):
    """A key's seed data and limits; the seed bodies are checked by the API when sent."""

    scopes: list[str] | None = Field(default=None, description="Omit for an unrestricted key.")
    rateLimit: int | str | None = Field(default=None, description="free, cloud, team, off or requests per minute.")
    sessions: list[SessionSeed] = Field(default_factory=list)
    definitions: list[dict[str, Any]] = Field(default_factory=list)
    providers: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[dict[str, Any]] = Field(default_factory=list)
    requests: list[RequestSeed] = Field(default_factory=list)

    @field_validator("rateLimit")
    @classmethod
    def _rate(cls, value: int | str | None) -> int | str | None:
        if value is not None:
            parse_limit(value)
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str] | None) -> list[str] | None:
        for scope in scopes or ():
            match = _SCOPE.match(scope)
            if not match:
                raise ValueError(f"invalid scope {scope!r}: expected '<family>:read', '<family>:write', "
                                 "'<family>:*', '*:read' or '*'")
            if match.group(1) != "*" and match.group(1) not in families():
                raise ValueError(f"unknown family {match.group(1)!r} in scope {scope!r} "
                                 f"(families: {', '.join(sorted(families()))})")
        return scopes


def check_key(key: str | None) -> str | None:
    if key is not None and not _TEST_KEY.match(key):
        raise ValueError("must be a test key, th_test_<printable characters>")
    return key


class KeySpec(SeedFields):
    key: str

    @field_validator("key")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        return check_key(key)


class FixtureFile(Strict):
    description: str | None = None
    keys: list[KeySpec] = Field(default_factory=list)
    runs: list[RunSpec] = Field(default_factory=list)
    exec: list[ExecSpec] = Field(default_factory=list)
    chat: list[ChatSpec] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    completions: list[CompletionSpec] = Field(default_factory=list)  # Theo: models/theo_fixtures.py
    theoKeys: list[TheoKeySpec] = Field(default_factory=list)
    jobs: list[JobSpec] = Field(default_factory=list)
    transcripts: list[TranscriptSpec] = Field(default_factory=list)


class FixtureDocument(FixtureFile, SeedFields):
    """The body of POST /_emu/fixtures: a fixture document added at run time. With `key`,
    its runs, exec results and faults apply to that key's requests only, and the seed
    fields (sessions, definitions, ...) seed that key, as a `keys` entry would."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("value", "credentials")  # seed secrets: redacted in the journal
    key: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        # A Theo key may limit a document's completions and faults to itself (it seeds nothing).
        return check_theo_key(key) if key is not None and key.startswith("theo_sk_") else check_key(key)

    @model_validator(mode="after")
    def _seed_needs_key(self) -> "FixtureDocument":
        given = sorted(set(SeedFields.model_fields) & self.model_fields_set)
        if given and self.key is None:
            raise ValueError(f"'{given[0]}' seeds a key: give 'key' too")
        return self

    def as_file(self) -> FixtureFile:
        """The same document in the file format: the top-level seed becomes a `keys` entry."""
        keys = list(self.keys)
        seed = {name: getattr(self, name) for name in SeedFields.model_fields if name in self.model_fields_set}
        if self.key is not None and seed:
            keys.insert(0, KeySpec(key=self.key, **seed))
        return FixtureFile(description=self.description, keys=keys, runs=self.runs, exec=self.exec,
                           chat=self.chat, faults=self.faults, completions=self.completions, theoKeys=self.theoKeys, jobs=self.jobs,
                           transcripts=self.transcripts)
