"""Fixture entries for the Theo surface: scripted completions, jobs and transcripts, and
declared Theo keys.

A fixture file may hold `completions` (what /api/v1/completions and /chat/completions
answer, matched on the prompt, the mode, the conversation turn, the tool results of the
turn, an offered tool and the key; first match wins) and `theoKeys` (a test key's scopes,
allowed origins, credit balance and rate-limit tier, or that it is revoked; applied at start
and on every reset), `jobs` (the timeline and outcome of a video or research job, matched
on its type, prompt and key) and `transcripts` (what /audio/stt hears, matched on the
detected format, the language, the file name and the key).
Like every fixture model these refuse unknown fields.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from theazo_emu.fixtures.parts import Strict, Text
from theazo_emu.theo.domain.engines import MODES
from theazo_emu.theo.domain.keys import SCOPES
from theazo_emu.theo.domain.ratelimit import TIERS

_THEO_KEY = re.compile(r"^theo_sk_test_[\x21-\x7e]{1,500}$")
# The status a scripted error code answers with, unless the script gives one.
ERROR_STATUS = {"validation_error": 400, "empty_prompt": 400, "insufficient_credits": 402, "not_found": 404,
                "guardrail_violation": 422, "rate_limit_exceeded": 429, "mode_rate_limit_exceeded": 429,
                "token_limit_exceeded": 429, "server_error": 500, "stt_provider_error": 502,
                "stt_unavailable": 503, "tts_provider_error": 502, "tts_unavailable": 503}
_Modes = Annotated[list[Literal[MODES]] | None, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]  # type: ignore[valid-type]


def check_theo_key(key: str | None) -> str | None:
    if key is not None and not _THEO_KEY.match(key):
        raise ValueError("must be a Theo test key, theo_sk_test_<printable characters>")
    return key


TheoKey = Annotated[str, AfterValidator(check_theo_key)]  # after: a non-string is a type error, not a 500


class CompletionMatch(Strict):
    prompt: Text | None = None
    mode: _Modes = Field(default=None, description="The mode asked for or the one `auto` resolved to.")
    turn: int | None = Field(default=None, ge=1, le=100_000, description="1 for a conversation's first prompt.")
    toolResult: Text | None = Field(default=None, description="A tool result sent with the turn.")
    tool: str | None = Field(default=None, description="A tool the request offers, by name.")
    key: TheoKey | None = None


class ScriptedToolCall(Strict):
    name: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class ScriptedTool(Strict):
    name: str = Field(min_length=1, max_length=200)
    status: Literal["success", "error"] = "success"
    description: str | None = None


class ScriptedArtifact(BaseModel):
    """An artifact: `type`, `title`, and any fields of its type (imageUrl, code, language, ...)."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)
    type: Literal["image", "video", "document", "code"]
    title: str | None = None


class FollowUp(Strict):
    label: str
    prompt: str


class TokenUsage(Strict):
    promptTokens: int = Field(ge=0, le=10**9)
    completionTokens: int = Field(ge=0, le=10**9)


class ScriptedError(Strict):
    code: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
    status: int | None = Field(default=None, ge=400, le=599, description="Default: the code's documented status.")
    message: str | None = Field(default=None, max_length=2000)
    afterTokens: int | None = Field(default=None, ge=0, le=10**6,
                                    description="Streams only: the error event comes after this many tokens.")

    @property
    def http_status(self) -> int:
        return self.status or ERROR_STATUS.get(self.code, 500)


class CompletionSpec(Strict):
    name: str | None = None
    match: CompletionMatch = Field(default_factory=CompletionMatch)
    content: str = ""
    chunks: list[str] | None = Field(default=None, description="Token boundaries; they must join to `content`.")
    resolvedMode: Literal[MODES] | None = None  # type: ignore[valid-type]
    toolCalls: list[ScriptedToolCall] | None = None
    toolsUsed: list[ScriptedTool] | None = None
    artifacts: list[ScriptedArtifact] = Field(default_factory=list)
    followUps: list[FollowUp] | None = None
    usage: TokenUsage | None = None
    cost: float | None = Field(default=None, ge=0, le=10**7, allow_inf_nan=False, description="Cents.")
    error: Annotated[ScriptedError | None, BeforeValidator(lambda v: {"code": v} if isinstance(v, str) else v)] = None

    @model_validator(mode="after")
    def _consistent(self) -> "CompletionSpec":
        if self.chunks is not None and "".join(self.chunks) != self.content:
            raise ValueError("'chunks' must join to exactly 'content'")
        if self.error is not None and self.error.afterTokens is None and (self.content or self.toolCalls):
            raise ValueError("an 'error' without 'afterTokens' answers no content: drop 'content' or give "
                             "'afterTokens'")
        if self.resolvedMode == "auto":
            raise ValueError("'resolvedMode' is the mode auto resolved to: not auto itself")
        return self


class TheoKeySpec(Strict):
    key: TheoKey
    scopes: list[Literal[SCOPES]] | None = Field(default=None, description="Omit for every scope.")  # type: ignore[valid-type]
    allowedOrigins: list[str] = Field(default_factory=list)
    credits: float | None = Field(default=None, ge=-10**9, le=10**9, allow_inf_nan=False,
                                  description="Balance in cents; omit for no billing.")
    lowCredits: float | None = Field(default=None, ge=0, le=10**9, allow_inf_nan=False,
                                     description="The credits.low threshold in cents (default 500).")
    rateLimit: Literal[(*TIERS, "off")] | int | None = Field(  # type: ignore[valid-type]
        default=None, description="A tier (free, starter, pro, enterprise), requests per minute, or off.")
    revoked: bool = Field(default=False, description="Register the key as revoked: every request with it is 401.")


class JobMatch(Strict):
    type: Literal["video", "research"] | None = None
    prompt: Text | None = None
    key: TheoKey | None = None


class JobSpec(Strict):
    """A scripted async job (POST /video, /research): its timeline and its outcome."""

    name: str | None = None
    match: JobMatch = Field(default_factory=JobMatch)
    queuedSeconds: float = Field(default=0, ge=0, le=86_400, allow_inf_nan=False)
    durationSeconds: float = Field(default=0, ge=0, le=86_400 * 7, allow_inf_nan=False,
                                   description="How long the job is active before its outcome.")
    status: Literal["completed", "failed"] = "completed"
    error: str | None = Field(default=None, max_length=2000, description="A failed job's error message.")
    failProgress: int = Field(default=50, ge=0, le=100, description="The progress a failed job stopped at.")
    result: Any = Field(default=None, description="A completed job's result (default: the mock's).")


class TranscriptMatch(Strict):
    format: str | None = Field(default=None, description="The detected format: mp3, mp4, m4a, wav, webm, ogg.")
    language: str | None = None
    filename: Text | None = None
    key: TheoKey | None = None


class TranscriptSpec(Strict):
    """A scripted speech-to-text answer (POST /audio/stt)."""

    name: str | None = None
    match: TranscriptMatch = Field(default_factory=TranscriptMatch)
    text: str = ""
    language: str | None = None
    durationSeconds: float | None = Field(default=None, ge=0, le=86_400, allow_inf_nan=False)
    error: Annotated[ScriptedError | None, BeforeValidator(lambda v: {"code": v} if isinstance(v, str) else v)] = None
