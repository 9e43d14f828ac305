"""Route coverage: which catalogued routes a run exercised, per surface and family.

`theazo-emu coverage` reads the requests of a running server's journal or of a cassette
and answers "your suite touched 34 of 158 routes", family by family, naming the routes
never called. A surface's routes are its catalogue (catalog.py: what its clients may call)
together with its route table (lazy.entries(): what the emulator serves), one entry per
method and path whatever their parameters are called. A request counts for the first
route whose pattern takes it, static segments before parameters, as the routers match;
a catalogued route the emulator does not serve yet is exercised only in name (it answered
501), and is reported as such. The admin API is not a product surface and is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from theazo_emu.core import catalog, lazy
from theazo_emu.surfaces import SURFACES

_PARAM = re.compile(r":(\w+)|\{(\w+)(:path)?\}")


@dataclass
class Route:
    surface: str
    method: str
    path: str  # the catalogue's spelling, `:name` for parameters
    family: str
    served: bool
    pattern: re.Pattern = field(repr=False)
    calls: int = 0
    statuses: set[int] = field(default_factory=set)

    @property
    def exercised(self) -> bool:
        return self.calls > 0 and self.statuses != {501}


def _shape(path: str) -> str:
    return _PARAM.sub(":_", path)


def _spelled(path: str) -> str:
    return _PARAM.sub(lambda m: f":{m.group(1) or m.group(2)}", path)


def _pattern(path: str) -> re.Pattern:
    parts, last = [], 0
    for match in _PARAM.finditer(path):
        parts += [re.escape(path[last:match.start()]), ".+" if match.group(3) else "[^/]+"]
        last = match.end()
    return re.compile("^" + "".join(parts) + re.escape(path[last:]) + "$")


def routes() -> list[Route]:
    """Every catalogued or served route of the product surfaces, most specific first."""
    out: list[Route] = []
    for surface in SURFACES:
        if surface.name == "admin":
            continue
        served = [(e.method, e.path) for e in lazy.entries() if e.surface == surface.name]
        catalogued = [(m, p) for m, p, _ in catalog.endpoints(surface.catalog)] if surface.catalog else []
        served_paths = {(m, _shape(p)): p for m, p in served}  # their patterns are the routers' own
        seen: set[tuple[str, str]] = set()
        for method, path in [*catalogued, *served]:
            key = (method, _shape(path))
            if key in seen:
                continue
            seen.add(key)
            family = path.removeprefix(surface.prefix).strip("/").split("/")[0]
            out.append(Route(surface.name, method, _spelled(path), family, key in served_paths,
                             _pattern(served_paths.get(key, path))))
    # Static segments win over parameters (/v1/sessions/by-user/:id before /v1/sessions/:id).
    out.sort(key=lambda r: [(s.startswith(":"), s) for s in r.path.split("/")])
    return out


def tally(requests: Iterable[tuple[str, str, int | None]]) -> list[Route]:
    """The routes with the (method, path, status) requests counted against them."""
    table = routes()
    by_method: dict[str, list[Route]] = {}
    for route in table:
        by_method.setdefault(route.method, []).append(route)
    for method, path, status in requests:
        route = next((r for r in by_method.get(method.upper(), ()) if r.pattern.match(path.split("?")[0])), None)
        if route is not None:
            route.calls += 1
            if status is not None:
                route.statuses.add(status)
    return table


def report(table: list[Route]) -> dict[str, Any]:
    """The tally as a JSON-ready document, per surface and family."""
    titles = {s.name: f"{s.title} ({s.prefix})" for s in SURFACES}
    surfaces: dict[str, Any] = {}
    for route in table:
        surface = surfaces.setdefault(route.surface, {"title": titles[route.surface], "routes": 0, "exercised": 0,
                                                      "families": {}})
        family = surface["families"].setdefault(route.family, {"routes": 0, "exercised": 0, "never": [],
                                                              "notEmulated": []})
        for level in (surface, family):
            level["routes"] += 1
            level["exercised"] += route.exercised
        name = f"{route.method} {route.path}"
        if route.calls and not route.exercised:
            family["notEmulated"].append(name)
        elif not route.calls:
            family["never"].append(name)
    for surface in surfaces.values():
        surface["families"] = dict(sorted(surface["families"].items()))
    order = [s.name for s in SURFACES]  # the surfaces in their declared order, Theazo's first
    return {"surfaces": dict(sorted(surfaces.items(), key=lambda item: order.index(item[0])))}


def text(document: dict[str, Any], width: int = 100, every: bool = False) -> str:
    """The report for a terminal: a line per surface and per family the run touched, and how
    many families it did not; with `every`, every family and the routes it never called."""
    lines: list[str] = []
    for surface in document["surfaces"].values():
        share = surface["exercised"] / surface["routes"] if surface["routes"] else 0
        lines.append(f"{surface['title']}: your suite touched {surface['exercised']} of {surface['routes']} "
                     f"routes ({share:.0%})")
        untouched = 0
        for name, family in surface["families"].items():
            if not every and not family["exercised"] and not family["notEmulated"]:
                untouched += 1
                continue
            lines.append(f"  {name:<20} {family['exercised']:>3}/{family['routes']:<3}")
            for label, routes_ in (("never called", family["never"] if every else []),
                                   ("called, not emulated (501)", family["notEmulated"])):
                if routes_ and family["exercised"] < family["routes"]:
                    lines.append(_wrap(f"      {label}: ", ", ".join(routes_), width))
        if untouched:
            lines.append(f"  ... and {untouched} families not touched (--all lists every route never called)")
    return "\n".join(lines)


def _wrap(lead: str, body: str, width: int) -> str:
    words, out, line = body.split(", "), [], lead
    for i, word in enumerate(words):
        piece = word + ("," if i < len(words) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip():
            out.append(line.rstrip())
            line = " " * len(lead)
        line += piece + " "
    out.append(line.rstrip())
    return "\n".join(out)
