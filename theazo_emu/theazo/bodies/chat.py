"""Bodies of session chat (sdk-compat §3 "Chat").

A conversation names its `agent` as everything else does (a definition id or name, an
ad-hoc role name, or an inline agent config; default `assistant`). `context` chooses how
much of the conversation a reply sees: `full` (everything, the default), `sliding_window`
(the newest messages within `maxTokens`) or `summarize` (the newest `summarizeAfter`
messages, and a summary of the rest). A message may carry `threadId` to post in a thread.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from theazo_emu.theazo.bodies.core import Body, check_user_id
from theazo_emu.theazo.bodies.tasks import AgentRef

MAX_MESSAGE = 100_000


class ChatContextConfig(Body):
    strategy: Literal["full", "sliding_window", "summarize"] | None = None
    maxTokens: int | None = Field(default=None, ge=1, le=10_000_000)
    summarizeAfter: int | None = Field(default=None, ge=1, le=100_000)


class CreateChat(Body):
    agent: AgentRef | None = None
    title: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None
    context: ChatContextConfig | None = None
    systemPrompt: str | None = Field(default=None, max_length=100_000)
    knowledge: str | None = Field(default=None, max_length=200)


class UpdateChat(Body):
    title: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class SendMessage(Body):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE)
    attachments: list[str] = Field(default_factory=list, max_length=20)
    threadId: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return _text(value)

    @field_validator("attachments")
    @classmethod
    def _attachments(cls, value: list[str]) -> list[str]:
        for item in value:
            if not 0 < len(item) <= 500:
                raise ValueError("each attachment is a file id or URL of 1 to 500 characters")
        return value


class InjectContext(Body):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE)
    role: Literal["system"] = "system"

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return _text(value)


class CreateThread(Body):
    parentMessageId: str = Field(min_length=1, max_length=200)
    title: str | None = Field(default=None, max_length=500)


class Handoff(Body):
    reason: str = Field(min_length=1, max_length=2000)
    to: str = Field(pattern=r"^(human|agent:\S{1,200})$", description="'human' or 'agent:<definition id or name>'")
    metadata: dict[str, Any] | None = None


class SearchChat(Body):
    query: str = Field(min_length=1, max_length=1000)
    userId: str | None = None
    conversationId: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=10, ge=1, le=100)

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_user_id(value)

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return _text(value)
