"""Request bodies of Theo's skill routes and E.V.I. canvases (theo-api.md §1.1-§1.2, the
SDK's createSkill / submitSkill / installSkill and canvas methods). Strict types, unknown
fields ignored; every failure is 400 `validation_error`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from theazo_emu.theo.bodies.api import TheoBody
from theazo_emu.theo.domain.skills import CATEGORIES, SLUG, UUID


class SkillRef(TheoBody):
    """POST and DELETE /api/v1/skills: `{skillId}` (a uuid)."""

    skillId: str = Field(pattern=UUID.pattern)


class ToolDefinition(TheoBody):
    name: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")
    description: str = Field(max_length=2000)
    inputSchema: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = None


class CreateSkill(TheoBody):
    """POST /api/v1/skills/create."""

    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(min_length=2, max_length=64, pattern=SLUG.pattern)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    system_prompt_ext: str = Field(min_length=1, max_length=20_000)
    description: str | None = Field(default=None, max_length=2000)
    tool_definitions: list[ToolDefinition] | None = Field(default=None, max_length=50)
    is_public: bool = False


class SubmitSkill(TheoBody):
    """POST /api/v1/skills/submit: the manifest is reviewed as sent (camelCase, as defineSkill makes it)."""

    manifest: dict[str, Any]
    skill_id: str | None = Field(default=None, max_length=100)


class CreateReview(TheoBody):
    """POST /api/v1/skills/:id/reviews."""

    rating: int = Field(ge=1, le=5)
    body: str | None = Field(default=None, max_length=2000)


class SandboxRun(TheoBody):
    """POST /api/v1/skills/sandbox: try a skill (by id or slug, or an unsaved manifest) on a message."""

    skill_id: str | None = Field(default=None, max_length=100)
    slug: str | None = Field(default=None, max_length=64)
    manifest: dict[str, Any] | None = None
    message: str = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _one(self) -> "SandboxRun":
        if sum(x is not None for x in (self.skill_id, self.slug, self.manifest)) != 1:
            raise ValueError("give exactly one of skill_id, slug or manifest")
        return self


class Graph(TheoBody):
    nodes: list[dict[str, Any]] = Field(default_factory=list, max_length=500)
    edges: list[dict[str, Any]] = Field(default_factory=list, max_length=2000)


class CreateCanvas(TheoBody):
    """POST /api/v1/evi/canvases."""

    name: str = Field(min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=500)
    graph_json: Graph | None = None


class UpdateCanvas(TheoBody):
    """PATCH /api/v1/evi/canvases/:id."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=500)
    graph_json: Graph | None = None
    is_public: bool | None = None


class HistoryMessage(TheoBody):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=4000)


class TestCanvas(TheoBody):
    """POST /api/v1/evi/canvases/:id/test."""

    message: str = Field(min_length=1, max_length=4000)
    history: list[HistoryMessage] | None = Field(default=None, max_length=10)


class Author(TheoBody):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=500)


class PublishCanvas(TheoBody):
    """POST /api/v1/evi/canvases/:id/publish."""

    slug: str = Field(min_length=2, max_length=64, pattern=SLUG.pattern)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    author: Author
    visibility: Literal["private", "org", "public"] = "private"
    target_org_id: str | None = Field(default=None, max_length=200)
    readme: str | None = Field(default=None, max_length=50_000)
    license: str = Field(default="MIT", max_length=100)
    keywords: list[str] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _org(self) -> "PublishCanvas":
        if self.visibility == "org" and not self.target_org_id:
            raise ValueError("visibility 'org' needs target_org_id")
        return self
