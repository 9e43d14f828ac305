"""Request bodies of the Theo surface (/api/v1), declared once: validation and OpenAPI.

theo-api.md §2.2 (POST /completions), §2.6 (POST /chat/completions, the OpenAI shape) and
§1.1 (keys). Validation is strict about types (a string is not a number, 1 is not true),
and lenient about unknown fields, which are ignored (the SDK and OpenAI clients send many).
Every failure is 400 `validation_error` in Theo's envelope (a blank prompt too, as the create
page's table says: raised from here, so it wins over the body's other faults).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from theazo_emu.theo.domain.engines import BY_ID, IMAGE_MODELS, MODES
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.domain.keys import SCOPES

MAX_PROMPT = 100_000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_TOOL_NAME = r"^[A-Za-z0-9_.-]{1,64}$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ORIGIN = re.compile(rf"https?://{_LABEL}(?:\.{_LABEL})*(?::(\d{{1,5}}))?")


class TheoBody(BaseModel):
    # strict: no coercion of "1" to 1 or 1 to true; defer_build keeps schemas off the start-up path.
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True, defer_build=True)


class NoBody(TheoBody):
    """A POST documented with the body `{}` (or none): its fields are ignored, but what is
    sent must pass the strict JSON door like any other body."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise TheoError(400, "validation_error", "prompt: must be a non-empty string.")
    return value


def _slugs(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        if not _SLUG.match(value):
            raise ValueError(f"{value[:40]!r} is not a skill slug (lowercase letters, digits and hyphens)")
    return values


def _origins(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        match = _ORIGIN.fullmatch(value)  # fullmatch: `$` would let a trailing newline through
        if match is None or int(match.group(1) or 1) > 65535:
            raise ValueError(f"{value[:80]!r} is not an origin such as https://app.example.com")
    return values


Prompt = Annotated[str, Field(max_length=MAX_PROMPT), AfterValidator(_not_blank)]
Slugs = Annotated[list[str] | None, Field(default=None, max_length=50), AfterValidator(_slugs)]
Origins = Annotated[list[str] | None, Field(default=None, max_length=50), AfterValidator(_origins)]
Metadata = dict[str, Any] | None


class InlineTool(TheoBody):
    name: str = Field(pattern=_TOOL_NAME)
    description: str = Field(max_length=4000)
    input_schema: dict[str, Any] | None = None


class Persona(TheoBody):
    system_prompt: str = Field(min_length=1, max_length=MAX_PROMPT)


class InlineMessage(TheoBody):
    id: str | None = Field(default=None, max_length=200)
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_PROMPT)
    createdAt: str | None = Field(default=None, max_length=64)
    mode: str | None = Field(default=None, max_length=64)
    artifacts: list[Any] | None = None


class InlineConversation(TheoBody):
    id: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=500)
    messages: list[InlineMessage] = Field(max_length=500)


class Attachment(TheoBody):
    type: Literal["image_url", "image_base64"]
    url: str | None = Field(default=None, max_length=4096)
    data: str | None = None
    mime_type: Literal["image/png", "image/jpeg", "image/webp", "image/gif"] | None = None

    @model_validator(mode="after")
    def _fields(self) -> "Attachment":
        if self.type == "image_url" and not self.url:
            raise ValueError("an image_url attachment needs 'url'")
        if self.type == "image_base64" and not (self.data and self.mime_type):
            raise ValueError("an image_base64 attachment needs 'data' and 'mime_type'")
        return self


class PersonalityConfig(TheoBody):
    traits: dict[str, float] = Field(default_factory=dict)
    uncensored_mode: bool = False
    active_preset_id: str | None = None


class ResponseStyle(TheoBody):
    format: str | None = Field(default=None, max_length=100)
    preciseness: str | None = Field(default=None, max_length=100)
    intent: str | None = Field(default=None, max_length=100)


class StreamOptions(TheoBody):
    include_usage: bool = False


class CreateCompletion(TheoBody):
    """POST /api/v1/completions."""

    prompt: Prompt
    mode: Literal[MODES] = "auto"  # type: ignore[valid-type]
    stream: bool = False
    conversation_id: str | None = Field(default=None, max_length=200)
    conversation: InlineConversation | None = None
    skills: Slugs = None
    tools: list[InlineTool] | None = Field(default=None, max_length=64)
    persona: Literal["theo", "none"] | Persona = "theo"
    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    max_iterations: int = Field(default=8, ge=1, le=20)
    model_overrides: dict[str, str] | None = None
    format: Literal["theo", "openai"] = "theo"
    metadata: Metadata = None
    component_library: str | None = Field(default=None, max_length=200)
    personality_config: PersonalityConfig | None = None
    response_style: ResponseStyle | None = None
    theo_branding: bool = True
    brand_soul: bool = True
    attachments: list[Attachment] | None = Field(default=None, max_length=10)
    image_model: Literal[IMAGE_MODELS] | None = None  # type: ignore[valid-type]
    image_quality: Literal["draft", "standard", "hd"] | None = None
    stealth_model: str | None = Field(default=None, max_length=100)
    stealth_aspect: Literal["square", "portrait", "landscape", "wide"] | None = None
    stealth_duration: Literal["5s", "6s", "10s"] | None = None
    stream_options: StreamOptions | None = None  # format "openai" streams only

    @field_validator("model_overrides")
    @classmethod
    def _overrides(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for mode, engine in (value or {}).items():
            if mode not in MODES or mode == "auto":
                raise ValueError(f"unknown mode {mode[:40]!r} (modes: {', '.join(m for m in MODES if m != 'auto')})")
            if engine not in BY_ID or BY_ID[engine].mode == "auto":
                raise ValueError(f"unknown engine {engine[:40]!r} for {mode}: see GET /api/v1/models")
        return value


# ---- /chat/completions (the OpenAI shape) ----

class ContentPart(TheoBody):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)
    type: str = Field(max_length=50)
    text: str | None = Field(default=None, max_length=MAX_PROMPT)


class FunctionCall(TheoBody):
    name: str = Field(max_length=200)
    arguments: str = Field(default="", max_length=MAX_PROMPT)


class ToolCall(TheoBody):
    id: str = Field(max_length=200)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(TheoBody):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = Field(default=None, max_length=200)
    tool_calls: list[ToolCall] | None = Field(default=None, max_length=128)
    tool_call_id: str | None = Field(default=None, max_length=200)

    @property
    def text(self) -> str:
        """The message's text: its string, or its text parts joined."""
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class FunctionDef(TheoBody):
    name: str = Field(pattern=_TOOL_NAME)
    description: str | None = Field(default=None, max_length=4000)
    parameters: dict[str, Any] | None = None


class ChatTool(TheoBody):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedFunction(TheoBody):
    name: str = Field(max_length=200)


class NamedToolChoice(TheoBody):
    type: Literal["function"] = "function"
    function: NamedFunction


class CreateChatCompletion(TheoBody):
    """POST /api/v1/chat/completions."""

    model: str = Field(default="theo-1-auto", max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=2000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    tools: list[ChatTool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    conversation_id: str | None = Field(default=None, max_length=200)
    skills: Slugs = None
    metadata: Metadata = None


# ---- keys ----

class CreateKey(TheoBody):
    """POST /api/v1/keys."""

    # The answer's `secret` is redacted by name everywhere; its displayed prefix is part of it.
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("key_prefix",)

    name: str | None = Field(default=None, max_length=200)
    scopes: list[Literal[SCOPES]] | None = Field(default=None, max_length=len(SCOPES))  # type: ignore[valid-type]
    scope: Literal["personal", "org"] | None = None
    org_id: str | None = Field(default=None, min_length=1, max_length=200)
    allowed_origins: Origins = None


class UpdateKey(TheoBody):
    """PUT /api/v1/keys/:id."""

    name: str | None = Field(default=None, max_length=200)
    allowed_origins: Origins = None


class RevokeKey(TheoBody):
    """DELETE /api/v1/keys with a body."""

    id: str | None = Field(default=None, max_length=200)


class HealthOverride(BaseModel):
    """PUT /_emu/theo/health: what GET /api/v1/health reports from now on."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    status: Literal["healthy", "degraded", "down"] = "healthy"
    providers: dict[str, Literal["healthy", "degraded", "down", "unconfigured"]] | None = None
