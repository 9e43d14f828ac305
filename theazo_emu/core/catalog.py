"""The catalogues of endpoints a client may call: per surface, the reference's and its SDK's.

`theazo/endpoints.txt` lists Theazo's (its reference and the official SDK), and
`theo/endpoints.txt` Theo's (its summary, docs and SDK, theo-api.md §1); a surface names
its catalogue file. A request for a catalogued endpoint the emulator does not serve yet answers
501 `not_implemented` naming it, rather than a puzzling 404; docs/not-emulated.md's "Not emulated
(yet)" list is the catalogue minus the routes, and a test keeps the two in step.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PARAM = re.compile(r":\w+")
THEAZO = "theazo/endpoints.txt"  # below the package root
THEO = "theo/endpoints.txt"


@cache
def endpoints(name: str = THEAZO) -> tuple[tuple[str, str, str], ...]:
    """(method, path, source) for every endpoint of a catalogue; read once, never changes."""
    text = resources.files("theazo_emu").joinpath(name).read_text()
    rows = (line.split() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return tuple((method, path, source) for method, path, source in rows)


@cache
def _patterns(name: str) -> tuple[tuple[str, re.Pattern, str], ...]:
    return tuple((method, re.compile("^" + _PARAM.sub("[^/]+", re.escape(path).replace(r"\:", ":")) + "$"), path)
                 for method, path, _ in endpoints(name))


def known(name: str, method: str, path: str) -> str | None:
    """The catalogue's spelling of an endpoint that matches this request, if any."""
    for candidate, pattern, spelled in _patterns(name):
        if candidate == method and pattern.match(path):
            return spelled
    return None
