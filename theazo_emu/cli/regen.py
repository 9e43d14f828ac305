"""Rewrite every generated file, or check that none is stale: `python -m theazo_emu.cli.regen [--check]`.

Three files are generated from the code and kept in the repository:
- core/routes.txt: the route table of every surface (lazy.py), from the family modules;
- core/schema.sql: the schema a fresh database loads (schema.py), from the migrations;
- docs/not-emulated.md's "Not emulated (yet)" list: each surface's catalogue minus its routes.
`--check` writes nothing and exits 1 naming each stale file; the test suite runs it.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from theazo_emu.core import catalog, lazy
from theazo_emu.surfaces import SURFACES

PACKAGE = Path(__file__).resolve().parent.parent
NOT_EMULATED = PACKAGE.parent / "docs" / "not-emulated.md"
_SECTION = "## Not emulated (yet)"
_LIST = re.compile(r"(## Not emulated \(yet\)\n\n(?:[^\n]+\n)*\n)((?:- \*\*[^\n]+\n)*)")
_PARAM = re.compile(r":\w+|\{[^}]+\}")


def not_emulated() -> dict[str, list[tuple[str, str]]]:
    """Catalogued endpoints no route serves, by family (the first path segment after the prefix)."""
    missing: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for surface in SURFACES:
        if not surface.catalog:
            continue
        declared = [*lazy.family_routes(f.module for f in surface.families), *surface.core()]
        served = {(r.method, _PARAM.sub(":_", r.path)) for r in declared}
        for method, path, _ in catalog.endpoints(surface.catalog):
            if (method, _PARAM.sub(":_", path)) not in served:
                family = path.removeprefix(surface.prefix).strip("/").split("/")[0]
                # The first surface's families by name; another surface's carry its name (theo/webhooks).
                missing[family if surface is SURFACES[0] else f"{surface.name}/{family}"].append((method, path))
    return dict(missing)


def not_emulated_page(readme: str) -> str:
    """docs/not-emulated.md with its "Not emulated (yet)" list rewritten."""
    families = not_emulated()
    lines = "".join(f"- **{family}**: " + ", ".join(f"`{m} {p}`" for m, p in sorted(families[family], key=_order))
                    + "\n" for family in sorted(families))
    match = _LIST.search(readme)
    if match is None:
        raise SystemExit(f"docs/not-emulated.md has no '{_SECTION}' section with an introductory paragraph")
    return readme[:match.start(2)] + (lines or "- nothing: every catalogued endpoint is served.\n") + \
        readme[match.end(2):]


def _order(item: tuple[str, str]) -> tuple[str, str]:
    return item[1], item[0]


def outputs() -> dict[Path, str]:
    """Each generated file and what it should hold."""
    from theazo_emu.core.migrations import dump  # sqlite-utils: only regeneration pays for it

    return {PACKAGE / "core" / lazy.TABLE: lazy.table(SURFACES), PACKAGE / "core/schema.sql": dump(),
            NOT_EMULATED: not_emulated_page(NOT_EMULATED.read_text(encoding="utf-8"))}


def main(argv: list[str]) -> int:
    stale = [path for path, text in outputs().items() if path.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.relative_to(PACKAGE.parent)} (run `python -m theazo_emu.cli.regen`)")
        return 1 if stale else 0
    for path, text in outputs().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path.relative_to(PACKAGE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
