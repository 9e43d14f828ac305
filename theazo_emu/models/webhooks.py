"""The body of `POST /v1/webhooks` (sdk-compat.md, "theazo.webhooks"): a URL and its events.

`events` names platform events (domain/events.py: `session.created|paused|resumed|terminated`,
`run.started|completed|failed`, the SDK's `agent.started|completed|failed` for the run
events, or `*` for all of them); an unknown name is 422 listing the known ones.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ..domain.events import ALIASES, TYPES
from .core import Body

KNOWN = (*TYPES, *ALIASES, "*")


class CreateWebhook(Body):
    url: str = Field(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2000,
                     description="Where deliveries are POSTed.")
    events: list[str] = Field(min_length=1, max_length=50)

    @field_validator("events")
    @classmethod
    def _known(cls, events: list[str]) -> list[str]:
        unknown = [name[:60] for name in events if name not in KNOWN]
        if unknown:
            raise ValueError(f"unknown event {', '.join(map(repr, unknown[:5]))}; known: {', '.join(KNOWN)}")
        return list(dict.fromkeys(ALIASES.get(name, name) for name in events))
