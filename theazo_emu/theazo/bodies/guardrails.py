"""The guardrail configuration body (sdk-compat "theazo.guardrails", the SDK's GuardrailConfig).

PUT replaces the whole configuration: a field left out takes its default (off, false, no
domain lists, no limits). Domains are host names (`example.com` also covers its
subdomains; a leading `*.` says the same), compared in lower case.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from theazo_emu.theazo.bodies.core import Body

_HOST = re.compile(r"^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def _domain(value: str) -> str:
    value = value.strip().lower().rstrip(".")
    if len(value) > 253 or not _HOST.match(value):
        raise ValueError(f"{value[:60]!r} is not a domain name such as 'example.com'")
    return value


Domain = Annotated[str, AfterValidator(_domain)]


class GuardrailSettings(Body):
    contentFilter: Literal["off", "light", "moderate", "strict"] = "off"
    blockPII: bool = False
    promptInjection: bool = False
    allowedDomains: list[Domain] | None = Field(default=None, max_length=1000)
    blockedDomains: list[Domain] = Field(default_factory=list, max_length=1000)
    maxOutputTokens: int | None = Field(default=None, ge=1, le=10_000_000)
    maxToolCalls: int | None = Field(default=None, ge=0, le=10_000)

    def settings(self) -> dict:
        """The stored form: every field, numbers only when set."""
        return self.model_dump(exclude_none=True) | {"allowedDomains": self.allowedDomains}
