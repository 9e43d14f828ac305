"""Bodies of the agent sandbox routes: files (sdk-compat.md, "Agent instance") and checkpoints.

The SDK sends text as `utf-8` and bytes as `base64`. Paths are absolute in the agent's
sandbox: `data/a.txt`, `/data/a.txt` and `/data//a.txt` are one file, `/data/a.txt`.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from theazo_emu.theazo.bodies.core import Body

MAX_PATH = 1024
MAX_SEGMENT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def normal_path(path: str) -> str:
    """The absolute form of a sandbox path; ValueError for one that names no file or escapes."""
    if _CONTROL.search(path):
        raise ValueError("must not contain control characters or backslashes")
    parts = [part for part in path.split("/") if part]
    if not parts:
        raise ValueError("must name a file, such as /data/report.txt")
    if any(part in (".", "..") for part in parts):
        raise ValueError("must not contain '.' or '..' segments")
    if any(len(part) > MAX_SEGMENT for part in parts) or len(path) > MAX_PATH:
        raise ValueError(f"must be at most {MAX_PATH} characters, {MAX_SEGMENT} per segment")
    return "/" + "/".join(parts)


class WriteFile(Body):
    path: str = Field(description="Where in the sandbox, such as /data/input.csv.")
    encoding: Literal["utf-8", "base64"] = "utf-8"
    data: str = Field(description="The content: text, or base64 when encoding is base64.")

    @field_validator("path")
    @classmethod
    def _normal(cls, value: str) -> str:
        return normal_path(value)

    @field_validator("data")
    @classmethod
    def _decodable(cls, value: str, info: ValidationInfo) -> str:
        decode(value, info.data.get("encoding", "utf-8"))  # refuse now what could not be stored
        return value

    def content(self) -> bytes:
        """The file's bytes."""
        return decode(self.data, self.encoding)


def decode(data: str, encoding: str) -> bytes:
    if encoding == "base64":
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64 when encoding is base64") from None
    return data.encode("utf-8")  # encodable: the door (jsonio) refuses lone surrogates


class CreateCheckpoint(Body):
    """POST /v1/agents/:id/checkpoints: every field optional (the SDK may send `{}`)."""

    phase: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    progress: float = Field(default=0, ge=0, le=100, description="Percent done.")
    metadata: dict[str, Any] | None = Field(default=None, max_length=100)
