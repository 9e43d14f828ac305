"""The route table: every family route known at start-up, each family imported on first use.

core/routes.txt lists every family route with everything a served route exposes (surface,
method, path, family module, name, success status, public flag, body limit, secret fields,
summary), so `create_app` builds each surface's `ApiRoute`s from it without importing a
family; a route imports its family (with its body models, pydantic and whatever else the
family needs) on its first request. A family's `TimerSource`s are wrapped the same way: a
`LazyTimer` loads one only once its table holds a row, since nothing can be due before.

The table is generated from registry.py by `python -m theazo_emu.cli.regen`; the test suite
runs `regen --check`, so the table cannot drift from the modules.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Sequence

from theazo_emu.core.http import ApiRoute
from theazo_emu.registry import FAMILIES, TIMERS

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.http import Declared, Guard
    from theazo_emu.core.store import Store
    from theazo_emu.core.surface import Surface

TABLE = "routes.txt"
_HEADER = ("# Every family route, in matching order; tab-separated: surface, method, path, module, name,\n"
           "# status, public, max body, secret fields, summary. Written by `python -m theazo_emu.cli.regen`.\n")


class Entry(NamedTuple):
    surface: str
    method: str
    path: str
    module: str
    name: str
    status: int
    public: bool
    max_body: int | None
    secret_fields: tuple[str, ...]
    summary: str


def family_routes(modules: Iterable[str] | None = None) -> list["Declared"]:
    """The declared routes of these families (default: all), in matching order (imports them)."""
    return [route for module in (modules or [f.module for f in FAMILIES])
            for route in importlib.import_module(module).routes]


def table(surfaces: Sequence["Surface"]) -> str:
    """core/routes.txt as the family modules declare their routes."""
    lines = [_HEADER]
    for surface in surfaces:
        for family in surface.families:
            for route in importlib.import_module(family.module).routes:
                cells = [surface.name, route.method, route.path, family.module, route.name, str(route.status),
                         "public" if route.public else "key", str(route.max_body or "-"),
                         ",".join(route.secret_fields) or "-", route.summary]
                lines.append("\t".join(cells) + "\n")
    return "".join(lines)


@cache
def entries() -> tuple[Entry, ...]:
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            surface, method, path, module, name, status, public, max_body, secrets, summary = line.split("\t")
            rows.append(Entry(surface, method, path, module, name, int(status), public == "public",
                              None if max_body == "-" else int(max_body),
                              () if secrets == "-" else tuple(secrets.split(",")), summary))
    return tuple(rows)


def routes(surface: "Surface", guards: Sequence["Guard"] = ()) -> list[ApiRoute]:
    """The surface's family routes, from the table (no family is imported)."""
    return [ApiRoute(surface, e.module, e.path, e.method, name=e.name, public=e.public, status=e.status,
                     summary=e.summary, max_body=e.max_body, secret_fields=e.secret_fields, guards=guards)
            for e in entries() if e.surface == surface.name]


def declared_routes(surface: "Surface", declared: Iterable["Declared"],
                    guards: Sequence["Guard"] = ()) -> list[ApiRoute]:
    return [ApiRoute.of(surface, route, guards) for route in declared]


def timers() -> list["LazyTimer"]:
    """Every family's timer sources, unloaded, in registration order."""
    return [LazyTimer(table_name, target) for table_name, target in TIMERS]


class LazyTimer:
    """A family's timers.TimerSource, imported only once `table` has a row (nothing can be
    due before that)."""

    def __init__(self, table: str, target: str) -> None:
        self.table, self.target = table, target
        self._source: Any = None

    def _loaded(self, store: "Store") -> Any:
        if self._source is None and store.scalar(f"SELECT EXISTS (SELECT 1 FROM [{self.table}])"):
            module, _, name = self.target.partition(":")
            self._source = getattr(importlib.import_module(module), name)()
        return self._source

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        source = self._loaded(store)
        return None if source is None else source.next_due(emu, store)

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        return self._loaded(store).fire(emu, store, at_ms, horizon_ms)
