"""The API families load on first use, so start-up pays only for the core.

The route table is eager: data/routes.txt lists every family route (method, path, module
and the secret fields of its body), and `create_app` turns each line into a `LazyRoute`
that matches exactly as the real route would. The first request to one of a family's
routes imports its module (and with it the body models, pydantic and whatever else the
family needs); from then on its routes answer directly. A family's `TimerSource` is
wrapped the same way: a `LazyTimer` loads it only once its table holds a row.

`python -m theazo_emu.lazy` rewrites data/routes.txt from the modules; a test keeps the
two equal.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .emulator import Emulator
    from .http import ApiRoute

# The modules holding routes, in matching order (the first matching route answers).
FAMILIES = (
    "theazo_emu.resources.sessions", "theazo_emu.resources.agents", "theazo_emu.resources.agent_files",
    "theazo_emu.resources.checkpoints",
    "theazo_emu.resources.usage",
    "theazo_emu.resources.secrets", "theazo_emu.resources.providers", "theazo_emu.resources.agent_definitions",
    "theazo_emu.resources.billing", "theazo_emu.resources.schedules", "theazo_emu.resources.triggers",
    "theazo_emu.resources.channels", "theazo_emu.resources.workflows", "theazo_emu.resources.approvals",
    "theazo_emu.resources.fleets", "theazo_emu.admin.control", "theazo_emu.admin.state", "theazo_emu.admin.fixtures",
    "theazo_emu.admin.inspector",
)
TABLE = "data/routes.txt"
# The families' timers.TimerSources: (the table that holds a row once one can be due, the
# class). Registration order breaks ties between instants.
TIMERS = (
    ("schedules", "theazo_emu.domain.scheduler:ScheduleTimer"),
    ("workflow_runs", "theazo_emu.workflow.engine:WorkflowTimer"),
    ("approvals", "theazo_emu.resources.approvals:ApprovalTimer"),
    ("fleet_items", "theazo_emu.resources.fleets:FleetTimer"),
)


def family_routes() -> list["ApiRoute"]:
    """Every family's routes, in matching order (imports every family)."""
    return [route for module in FAMILIES for route in importlib.import_module(module).routes]


def table() -> str:
    """data/routes.txt as the family modules declare it."""
    lines = ["# Every family route: METHOD PATH MODULE [SECRET_FIELDS]. Matching order is line order.",
             "# Rewritten by `python -m theazo_emu.lazy`; tests/test_lazy.py keeps it equal to the modules."]
    for module in FAMILIES:
        for route in importlib.import_module(module).routes:
            (method,) = route.methods - {"HEAD"}
            lines.append(" ".join([method, route.path, module, *([",".join(route.secret_fields)]
                                                                  if route.secret_fields else [])]))
    return "\n".join(lines) + "\n"


@cache
def _entries() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            method, path, module, *secrets = line.split(" ")
            entries.append((method, path, module, tuple(secrets[0].split(",")) if secrets else ()))
    return tuple(entries)


def routes() -> list["LazyRoute"]:
    """The family routes, unloaded."""
    return [LazyRoute(method, path, module, secrets) for method, path, module, secrets in _entries()]


def timers() -> list["LazyTimer"]:
    """The family timer sources, unloaded."""
    return [LazyTimer(table, target) for table, target in TIMERS]


class LazyRoute(Route):
    """Matches like the family's route; on its first request, loads the family and hands over."""

    def __init__(self, method: str, path: str, module: str, secret_fields: tuple[str, ...]) -> None:
        super().__init__(path, self._unreachable, methods=[method], name=f"{module}:{method} {path}")
        self.module = module
        self.secret_fields = secret_fields  # known before loading: the journal redacts by them
        self._route: ApiRoute | None = None

    async def _unreachable(self, request: Any) -> None:  # handle() never calls the endpoint
        raise AssertionError("LazyRoute endpoint called")

    def resolve(self) -> "ApiRoute":
        """The family's own route for this method and path (imports the family once)."""
        if self._route is None:
            family = importlib.import_module(self.module)
            (method,) = self.methods - {"HEAD"}
            self._route = next(r for r in family.routes if r.path == self.path and method in r.methods)
        return self._route

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.resolve().handle(scope, receive, send)


class LazyTimer:
    """A family's timers.TimerSource, imported only once `table` has a row (nothing can be
    due before that)."""

    def __init__(self, table: str, target: str) -> None:
        self.table, self.target = table, target
        self._source: Any = None

    def _loaded(self, emu: "Emulator") -> Any:
        if self._source is None and emu.store.scalar(f"SELECT EXISTS (SELECT 1 FROM [{self.table}])"):
            module, _, name = self.target.partition(":")
            self._source = getattr(importlib.import_module(module), name)()
        return self._source

    def next_due(self, emu: "Emulator") -> int | None:
        source = self._loaded(emu)
        return None if source is None else source.next_due(emu)

    def fire(self, emu: "Emulator", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        return self._loaded(emu).fire(emu, at_ms, horizon_ms)


if __name__ == "__main__":
    from pathlib import Path

    (Path(__file__).parent / TABLE).write_text(table())
