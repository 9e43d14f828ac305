"""Request bodies of Theo's media routes: /images, /code, /documents, /video, /research and
/audio/tts (theo-api.md §1.1-§1.2; /audio/stt is multipart, read by its endpoint).

A missing or blank `prompt` is 400 `missing_prompt` (a missing or blank `text`, 400
`missing_text`; an unknown document `format`, 400 `invalid_format`), decided before the rest
of the body is looked at; any other fault is 400 `validation_error`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from theazo_emu.theo.bodies.api import MAX_PROMPT, TheoBody
from theazo_emu.theo.domain.audio import MAX_TEXT
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.domain.media import FORMATS


def _required_text(data: Any, name: str, code: str) -> None:
    if isinstance(data, dict):
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise TheoError(400, code, f"'{name}' is required and must not be blank.")


class PromptBody(TheoBody):
    prompt: str = Field(max_length=MAX_PROMPT)

    @model_validator(mode="before")
    @classmethod
    def _prompt(cls, data: Any) -> Any:
        _required_text(data, "prompt", "missing_prompt")
        return data


class CreateImages(PromptBody):
    """POST /api/v1/images."""

    style: str | None = Field(default=None, max_length=200)
    aspect_ratio: str | None = Field(default=None, pattern=r"^[1-9][0-9]?:[1-9][0-9]?$")
    count: int = Field(default=1, ge=1, le=4)


class CreateCode(PromptBody):
    """POST /api/v1/code."""

    language: str | None = Field(default=None, max_length=50)
    framework: str | None = Field(default=None, max_length=100)


class CreateDocument(PromptBody):
    """POST /api/v1/documents."""

    format: str = "pdf"

    @model_validator(mode="before")
    @classmethod
    def _format(cls, data: Any) -> Any:
        if isinstance(data, dict) and "format" in data and data["format"] not in FORMATS:
            raise TheoError(400, "invalid_format", f"Invalid format {str(data['format'])[:40]!r}: one of "
                                                   f"{', '.join(FORMATS)}.")
        return data


class CreateVideo(PromptBody):
    """POST /api/v1/video."""

    duration: Literal["5s", "10s", "15s"] | None = None
    style: str | None = Field(default=None, max_length=200)


class CreateResearch(PromptBody):
    """POST /api/v1/research."""

    depth: Literal["basic", "advanced"] = "advanced"
    max_sources: int = Field(default=10, ge=1, le=50)


class CreateSpeech(TheoBody):
    """POST /api/v1/audio/tts."""

    text: str = Field(max_length=MAX_TEXT)
    voice: str | None = Field(default=None, max_length=100)
    speed: float = Field(default=1.0, ge=0.25, le=4.0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        _required_text(data, "text", "missing_text")
        return data
