"""Bodies of the orchestration family: schedules, triggers and channels.

Both clients' shapes are accepted (sdk-compat.md "Schedules", "Triggers", "Channels"):
the reference's `action {type, config}` and the SDK's `agent` + `userId` (+ `input`);
the reference's channel `{name, definitionId, instructions}` and the SDK's
`{type, agent, ...variant fields}`. "One of these is required" rules that span fields are
checked by the endpoints (so the 422 can name the field); cron and timezone syntax is
checked by scheduler.py, which owns cron semantics.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator

from theazo_emu.theazo.bodies.core import Body, check_user_id

_TOOL = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
Name = Annotated[str, Field(min_length=1, max_length=200)]
RefId = Annotated[str, Field(min_length=1, max_length=200)]


class _UserBody(Body):
    @field_validator("userId", check_fields=False)
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_user_id(value)


class AgentRunConfig(_UserBody):
    definitionId: RefId | None = None
    task: str | None = Field(default=None, min_length=1, max_length=200_000)
    userId: str | None = None
    instructions: str | None = Field(default=None, max_length=100_000)
    tools: list[str] | None = Field(default=None, max_length=100)
    input: Any = None

    @field_validator("tools")
    @classmethod
    def _tools(cls, tools: list[str] | None) -> list[str] | None:
        for name in tools or ():
            if not _TOOL.fullmatch(name):
                raise ValueError(f"invalid tool name {name[:40]!r}")
        return tools


class WorkflowRunConfig(_UserBody):
    workflowId: RefId
    input: Any = None
    userId: str | None = None


class AgentRunAction(Body):
    type: Literal["agent-run"]
    config: AgentRunConfig = Field(default_factory=AgentRunConfig)


class WorkflowRunAction(Body):
    type: Literal["workflow-run"]
    config: WorkflowRunConfig


def _action_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return {"agent-run": "AgentRun", "workflow-run": "WorkflowRun"}.get(kind) if isinstance(kind, str) else None


def stored_action(action: AgentRunAction | WorkflowRunAction | None) -> dict[str, Any] | None:
    """The reference's action as actions.normalize takes it: `{type, config}`, unset fields left out."""
    return None if action is None else {"type": action.type, "config": action.config.model_dump(exclude_none=True)}


# The capitalised tags keep union member names out of 422 field paths (see http._field_path).
Action = Annotated[
    Union[Annotated[AgentRunAction, Tag("AgentRun")], Annotated[WorkflowRunAction, Tag("WorkflowRun")]],
    Discriminator(_action_tag, custom_error_type="invalid_action",
                  custom_error_message="must be an object whose type is 'agent-run' or 'workflow-run'"),
]


class _ScheduleFields(_UserBody):
    """What a schedule runs and when, optional in both create and update."""

    action: Action | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    metadata: dict[str, Any] | None = None
    agent: RefId | None = None
    userId: str | None = None
    input: Any = None


class CreateSchedule(_ScheduleFields):
    """The reference's `{name, cron, action, metadata}` or the SDK's `{name, agent, userId, cron,
    timezone?, input?}`; `action` or `agent` is required (checked by the endpoint)."""

    name: Name
    cron: str = Field(min_length=1, max_length=200)


class UpdateSchedule(_ScheduleFields):
    name: Name | None = None
    cron: str | None = Field(default=None, min_length=1, max_length=200)


class CreateTrigger(_UserBody):
    """The reference's `{name, action}` or the SDK's `{name, agent, userId, type: 'webhook'}`."""

    name: Name
    action: Action | None = None
    type: Literal["webhook"] = "webhook"
    agent: RefId | None = None
    userId: str | None = None
    metadata: dict[str, Any] | None = None


class Theme(Body):
    primaryColor: str | None = Field(default=None, max_length=50)
    position: str | None = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=200)
    placeholder: str | None = Field(default=None, max_length=500)


ChannelType = Literal["chat_embed", "slack", "email", "phone"]


class CreateChannel(Body):
    """The reference's `{name, definitionId, instructions, metadata}` or the SDK's `{type, agent,
    ...}` with the variant's fields (`theme`; `workspace, channels, botName`; `address`;
    `phoneNumber, voice`); `name` or `type` is required (checked by the endpoint)."""

    type: ChannelType | None = None
    name: Name | None = Field(default=None, validate_default=True)
    definitionId: RefId | None = None
    agent: RefId | None = None
    instructions: str | None = Field(default=None, max_length=100_000)
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    enabled: bool = True
    theme: Theme | None = None
    workspace: str | None = Field(default=None, min_length=1, max_length=200)
    channels: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(default=None, max_length=100)
    botName: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=320)
    phoneNumber: str | None = Field(default=None, max_length=32)
    voice: str | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name_or_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("type") is None:
            raise ValueError("is required (or give the SDK's 'type')")
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("must be an email address")
        return value

    @field_validator("phoneNumber")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("must be a phone number such as +14155550123")
        return value


class UpdateChannel(Body):
    """PUT: the SDK's `{config?, enabled?}`, plus the reference's editable fields."""

    config: dict[str, Any] | None = None
    enabled: bool | None = None
    name: Name | None = None
    definitionId: RefId | None = None
    agent: RefId | None = None
    instructions: str | None = Field(default=None, max_length=100_000)
    metadata: dict[str, Any] | None = None


class ChannelMessage(Body):
    """`content` (the reference) or `text`; `threadId` continues a thread."""

    content: str | None = Field(default=None, max_length=100_000)
    text: str | None = Field(default=None, max_length=100_000)
    threadId: str | None = Field(default=None, min_length=1, max_length=100)
    visitorId: str | None = Field(default=None, max_length=256)

    @field_validator("visitorId")
    @classmethod
    def _visitor(cls, value: str | None) -> str | None:
        return None if value is None else check_user_id(value)
