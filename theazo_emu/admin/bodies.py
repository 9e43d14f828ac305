"""Bodies of the admin state routes: the document `/_emu/state/import` takes (snapshot.py).

It is exactly what `/_emu/state/export` answers; table and column names are checked
against the live schema by snapshot.import_state, not here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from theazo_emu.theazo.bodies.core import Body


class StateClock(Body):
    epochMs: int = Field(ge=0, le=253_402_300_799_999)  # up to 9999-12-31
    frozen: bool = True
    now: str | None = None


class StateDocument(Body):
    format: Literal["theazo-emu-state"]
    version: Literal[1]
    tenant: str | None = Field(default=None, max_length=100, description="Set for a one-tenant document.")
    seed: int | None = None
    clock: StateClock | None = None
    tables: dict[str, list[dict[str, Any]]]
