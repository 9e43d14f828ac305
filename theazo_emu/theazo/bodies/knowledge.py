"""Bodies of the knowledge routes (sdk-compat.md, "Knowledge"): upload, sync and query.

Every body names the `userId` whose knowledge it touches (the SDK sends the session's).
A file of an upload is the SDK's `data` (base64) or, for curl users, plain `text`; either
way it must be UTF-8 text once decoded, since the emulator extracts no text from binary
documents. Collections are names of 1 to 128 characters without `/` or control characters.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from theazo_emu.core.fields import check_text
from theazo_emu.theazo.bodies.core import Body, check_user_id

_NAME = r"^[^\x00-\x1f\x7f/]{1,128}$"
_FILENAME = r"^[^\x00-\x1f\x7f]{1,255}$"
SYNC_SOURCES = ("notion", "google_drive", "confluence", "github", "url")
MAX_FILES = 100
MAX_TOP_K = 50


def check_collection(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(_NAME, value):
        raise ValueError("must be 1 to 128 characters, without '/' or control characters")
    return value


def text_of(data: str) -> str:
    """The UTF-8 text a base64 string holds; ValueError naming what is wrong."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("must be UTF-8 text once decoded (the emulator extracts no text from binary "
                         "documents such as PDFs)") from None


class _UserScoped(Body):
    userId: str = Field(description="Whose knowledge: the session's user.")

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_id(value)


class KnowledgeFile(Body):
    filename: str = Field(pattern=_FILENAME)
    data: str | None = Field(default=None, description="The document, base64 (what the SDK sends).")
    text: str | None = Field(default=None, description="The document as plain text, instead of data.")
    mimeType: str | None = Field(default=None, max_length=200)

    @field_validator("data")
    @classmethod
    def _data(cls, value: str | None) -> str | None:
        if value is not None:
            text_of(value)
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return check_text(value) if value is not None else None

    @model_validator(mode="after")
    def _one(self) -> "KnowledgeFile":
        if (self.data is None) == (self.text is None):
            raise ValueError("give exactly one of 'data' (base64) or 'text'")
        return self

    def content(self) -> str:
        return self.text if self.text is not None else text_of(self.data or "")


class KnowledgeUpload(_UserScoped):
    """`POST /v1/knowledge/upload`: documents into a collection (chunked, replacing same-named ones)."""

    collection: str | None = Field(default=None, description="Omit for the default collection.")
    files: list[KnowledgeFile] = Field(min_length=1, max_length=MAX_FILES)

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str | None) -> str | None:
        return check_collection(value)

    @field_validator("files")
    @classmethod
    def _distinct(cls, files: list[KnowledgeFile]) -> list[KnowledgeFile]:
        names = [f.filename for f in files]
        if len(set(names)) != len(names):
            raise ValueError("filenames must be distinct within one upload")
        return files


class SyncSource(Body):
    type: Literal["notion", "google_drive", "confluence", "github", "url"]
    config: dict[str, Any] = Field(default_factory=dict, max_length=100)


class KnowledgeSync(_UserScoped):
    """`POST /v1/knowledge/sync`: a source kept in sync (recorded; nothing is fetched offline)."""

    source: SyncSource
    collection: str | None = None
    syncSchedule: str | None = Field(default=None, max_length=200, description="A 5-field cron, UTC.")

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str | None) -> str | None:
        return check_collection(value)


class KnowledgeQuery(_UserScoped):
    """`POST /v1/knowledge/query`: the best chunks for a question, across collections unless named."""

    query: str = Field(min_length=1, max_length=10_000)
    collection: str | None = None
    topK: int = Field(default=5, ge=1, le=MAX_TOP_K)

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str | None) -> str | None:
        return check_collection(value)
