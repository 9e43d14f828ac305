"""The body of `POST /v1/files` (sdk-compat.md, "theazo.files"): a file as base64.

The SDK sends `{userId, filename, purpose, data (base64), autoIngest?, collection?}`;
`mimeType`, `agentId` and `sessionId` may be given too (the SDK lists files by them).
`autoIngest` puts a `knowledge` file into the user's knowledge, so it must be UTF-8 text.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import Field, field_validator, model_validator

from theazo_emu.theazo.bodies.core import Body, check_user_id
from theazo_emu.theazo.bodies.knowledge import check_collection

PURPOSES = ("agent_input", "agent_output", "knowledge")


class UploadFile(Body):
    userId: str
    filename: str = Field(pattern=r"^[^\x00-\x1f\x7f/\\]{1,255}$", description="A name, not a path.")
    purpose: Literal["agent_input", "agent_output", "knowledge"]
    data: str = Field(description="The file's bytes, base64.")
    mimeType: str | None = Field(default=None, pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=200)
    autoIngest: bool = Field(default=False, description="Also add a 'knowledge' file to the user's knowledge.")
    collection: str | None = Field(default=None, description="The knowledge collection autoIngest fills.")
    agentId: str | None = Field(default=None, max_length=100)
    sessionId: str | None = Field(default=None, max_length=100)

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_id(value)

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        return value

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str | None) -> str | None:
        return check_collection(value)

    @model_validator(mode="after")
    def _ingestible(self) -> "UploadFile":
        if self.autoIngest and self.purpose != "knowledge":
            raise ValueError("autoIngest applies only to files with purpose 'knowledge'")
        if self.collection is not None and not self.autoIngest:
            raise ValueError("collection applies only with autoIngest")
        return self

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=True)
