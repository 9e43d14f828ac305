"""The pieces every fixture model is built from: `Strict` (refuses unknown fields, naming the
expected ones) and `Text` (a substring, or exactly one of contains/exact/regex)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator


class Strict(BaseModel):
    """Refuses unknown fields, naming the ones it expected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise ValueError(f"unknown field {unknown[0]!r} (expected: {', '.join(cls.model_fields)})")
        return data


class TextMatch(Strict):
    """A string is a substring test; or exactly one of contains/exact/regex (re.search)."""

    contains: str | None = None
    exact: str | None = None
    regex: str | None = None
    ignoreCase: bool = False

    @model_validator(mode="after")
    def _one(self) -> "TextMatch":
        given = [v for v in (self.contains, self.exact, self.regex) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'contains', 'exact' or 'regex'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return self

    def test(self, text: str) -> bool:
        flags = re.IGNORECASE if self.ignoreCase else 0
        if self.regex is not None:
            return re.search(self.regex, text, flags) is not None
        if self.exact is not None:
            return (text.strip().casefold() == self.exact.strip().casefold() if self.ignoreCase
                    else text.strip() == self.exact.strip())
        assert self.contains is not None
        return self.contains.casefold() in text.casefold() if self.ignoreCase else self.contains in text


Text = Annotated[TextMatch, BeforeValidator(lambda v: {"contains": v} if isinstance(v, str) else v)]
