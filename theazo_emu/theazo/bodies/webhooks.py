"""The body of `POST /v1/webhooks` (sdk-compat.md, "theazo.webhooks"): a URL and its events.

`events` names platform events as `<family>.<action>` (domain/events.py): those the emulator
emits (`session.created|paused|resumed|terminated`, `run.started|completed|failed`,
`approval.requested|resolved`, `budget.alert`), the SDK's `agent.started|completed|failed`
for the run events, other actions of the platform's families (accepted, never sent), or
`*` for all. A name outside those families is 422 listing what is emitted.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from theazo_emu.core.fields import HttpUrl
from theazo_emu.theazo.bodies.core import Body
from theazo_emu.theazo.domain.events import ALIASES, FAMILIES, TYPES

_NAME = re.compile(rf"^(?:{'|'.join(FAMILIES)})\.[a-z_]{{1,60}}$")


class CreateWebhook(Body):
    url: HttpUrl = Field(description="Where deliveries are POSTed.")
    events: list[str] = Field(min_length=1, max_length=50)

    @field_validator("events")
    @classmethod
    def _known(cls, events: list[str]) -> list[str]:
        unknown = [name[:60] for name in events if name != "*" and not _NAME.match(name)]
        if unknown:
            raise ValueError(f"unknown event {', '.join(map(repr, unknown[:5]))}: name '<family>.<action>' of "
                             f"{', '.join(FAMILIES)}, or '*'; the emulator sends {', '.join(TYPES)}")
        return list(dict.fromkeys(ALIASES.get(name, name) for name in events))
