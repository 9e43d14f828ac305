"""Request bodies of Theo's platform routes: webhooks, hooks, events, orgs, workflows,
settings, rate-limit requests, billing, browser sessions and embeddable widgets
(theo-api.md §1.1-§1.3).

Strict about types and lenient about unknown fields, as theo/bodies/api.py; every failure is
400 `validation_error` in Theo's envelope (a workflow without its required fields is 400
`missing_fields`, raised by the endpoint).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from theazo_emu.core.fields import HttpUrl, check_text
from theazo_emu.theo.bodies.api import Origins, TheoBody
from theazo_emu.theo.domain.engines import MODES
from theazo_emu.theo.domain.hooks import PATTERN, PRESETS_BY_ID
from theazo_emu.theo.domain.iframes import DEFAULT_NAME, STATUSES
from theazo_emu.theo.domain.webhooks import EVENT_TYPES

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
Text = Annotated[str, AfterValidator(check_text)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text), AfterValidator(_not_blank)]


def _event_types(values: list[str]) -> list[str]:
    unknown = [v[:60] for v in values if v != "*" and v not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {', '.join(map(repr, unknown[:5]))}: use {', '.join(EVENT_TYPES)} "
                         "or '*'")
    return list(dict.fromkeys(values))


EventTypes = Annotated[list[str], Field(min_length=1, max_length=len(EVENT_TYPES) + 1), AfterValidator(_event_types)]


class CreateWebhook(TheoBody):
    """POST /api/v1/webhooks."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("secret",)
    url: HttpUrl
    event_types: EventTypes
    secret: Text | None = Field(default=None, min_length=16, max_length=256)
    description: Text | None = Field(default=None, max_length=256)


class UpdateWebhook(TheoBody):
    """PATCH /api/v1/webhooks/:id."""

    url: HttpUrl | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = None
    description: Text | None = Field(default=None, max_length=256)


def _pattern(value: str | None) -> str | None:
    if value is not None and not PATTERN.match(value):
        raise ValueError("must be an event name, a prefix, segments with '*' (order.*.completed), or '*'")
    return value


class CreateHook(TheoBody):
    """POST /api/v1/hooks: a preset or an event pattern (one of the two), and the skill it runs."""

    hook_preset_id: str | None = Field(default=None, max_length=100)
    event_pattern: Annotated[str | None, Field(default=None, max_length=200), AfterValidator(_pattern)] = None
    skill_slug: str = Field(min_length=1, max_length=100, pattern=_SLUG.pattern)
    cooldown_minutes: int | None = Field(default=None, ge=1, le=1440)
    config: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "CreateHook":
        if (self.hook_preset_id is None) == (self.event_pattern is None):
            raise ValueError("give either hook_preset_id or event_pattern (not both)")
        if self.hook_preset_id is not None and self.hook_preset_id not in PRESETS_BY_ID:
            raise ValueError(f"unknown hook_preset_id {self.hook_preset_id[:60]!r}: one of "
                             f"{', '.join(PRESETS_BY_ID)}")
        return self


class UpdateHook(TheoBody):
    """PATCH /api/v1/hooks/:id."""

    enabled: bool | None = None
    cooldown_minutes: int | None = Field(default=None, ge=1, le=1440)
    config: dict[str, Any] | None = None


class PublishEvent(TheoBody):
    """POST /api/v1/events (camelCase, as the SDK sends it)."""

    orgId: str = Field(min_length=1, max_length=200)
    eventType: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
    payload: Any = None
    sourceConnector: str | None = Field(default=None, max_length=200)


class CreateOrg(TheoBody):
    """POST /api/v1/orgs."""

    name: Name
    type: Literal["team", "agency", "carrier", "fmo", "mga", "broker"] = "team"
    slug: str | None = Field(default=None, min_length=1, max_length=64, pattern=_SLUG.pattern)


class DeleteOrg(TheoBody):
    """DELETE /api/v1/orgs with a body (or ?id=)."""

    id: str | None = Field(default=None, max_length=200)


class WorkflowStep(TheoBody):
    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    name: Text = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    onSuccess: str | None = Field(default=None, max_length=200)
    onFailure: str | None = Field(default=None, max_length=200)


class CreateWorkflow(TheoBody):
    """POST /api/v1/workflows (camelCase, as the SDK sends it); missing fields are the endpoint's 400."""

    name: Text | None = Field(default=None, max_length=200)
    triggerType: Literal["schedule", "event", "manual"] | None = None
    triggerConfig: dict[str, Any] = Field(default_factory=dict)
    steps: list[WorkflowStep] | None = Field(default=None, max_length=50)
    enabled: bool = True


class RunWorkflow(TheoBody):
    """POST /api/v1/workflows/:id/run."""

    triggerData: Any = None


class UpdateSettings(TheoBody):
    """PATCH /api/v1/settings: any of the four."""

    default_mode: Literal[MODES] | None = None  # type: ignore[valid-type]
    personality: Literal["theo", "none"] | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    theo_branding: bool | None = None


class RateLimitIncrease(TheoBody):
    """POST /api/v1/rate-limits/request-increase."""

    requested_tier: Literal["starter", "pro", "enterprise"]
    use_case: Text = Field(min_length=1, max_length=2000)
    expected_volume: Text | int | None = Field(default=None)


class Checkout(TheoBody):
    """POST /api/v1/billing/checkout."""

    amount_cents: int = Field(ge=500, le=10_000_000)
    scope: Literal["user", "org"] | None = None
    success_url: HttpUrl | None = None


class Portal(TheoBody):
    """POST /api/v1/billing/portal."""

    scope: Literal["user", "org"] | None = None


class CreateBrowserSession(TheoBody):
    """POST /api/v1/browser/sessions."""

    url: HttpUrl | None = None
    keep_alive: bool = False
    proxies: bool = False
    region: Literal["us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1"] = "us-west-2"


# An id as the emulator writes them (prefix, underscore, letters and digits): nothing else
# can name a row, and a CR/LF or a path cannot reach a message or a header.
KeyId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


def _printable(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must not hold control characters")
    return value


WidgetName = Annotated[Name, AfterValidator(_printable)]  # shown in the snippet's title and the page


class IframeSecurity(TheoBody):
    """A widget's `security` on create: both fields optional."""

    requireTurnstile: bool = False
    allowedOrigins: Origins = None


class IframeSecurityChange(TheoBody):
    """A widget's `security` on PATCH: the fields given replace the stored ones."""

    requireTurnstile: bool | None = None
    allowedOrigins: Origins = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "IframeSecurityChange":
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("requireTurnstile and allowedOrigins cannot be null: leave a field out to keep it")
        return self


class CreateIframe(TheoBody):
    """POST /api/v1/iframes."""

    api_key_id: KeyId
    name: WidgetName = DEFAULT_NAME
    appearance: dict[str, Any] = Field(default_factory=dict)
    behavior: dict[str, Any] = Field(default_factory=dict)
    security: IframeSecurity = Field(default_factory=IframeSecurity)


class UpdateIframe(TheoBody):
    """PATCH /api/v1/iframes/:id: any of these; `appearance` and `behavior` are replaced whole."""

    api_key_id: KeyId | None = None
    name: WidgetName | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    appearance: dict[str, Any] | None = None
    behavior: dict[str, Any] | None = None
    security: IframeSecurityChange | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "UpdateIframe":
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave a field out to keep it")
        return self
