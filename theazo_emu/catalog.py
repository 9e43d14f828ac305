"""The catalogue of Theazo endpoints: the reference's and the ones only the SDK calls.

`data/endpoints.txt` lists every endpoint a client may call. A request for one the
emulator does not serve yet answers 501 `not_implemented` naming it, rather than a
puzzling 404; the README's "Not emulated (yet)" list is this catalogue minus the routes,
and a test keeps the two in step.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PARAM = re.compile(r":\w+")


@cache
def endpoints() -> tuple[tuple[str, str, str], ...]:
    """(method, path, source) for every catalogued endpoint; read once, never changes."""
    text = resources.files(__package__).joinpath("data/endpoints.txt").read_text()
    rows = (line.split() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return tuple((method, path, source) for method, path, source in rows)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern, str], ...]:
    return tuple((method, re.compile("^" + _PARAM.sub("[^/]+", re.escape(path).replace(r"\:", ":")) + "$"), path)
                 for method, path, _ in endpoints())


def known(method: str, path: str) -> str | None:
    """The catalogue's spelling of an endpoint that matches this request, if any."""
    for candidate, pattern, spelled in _patterns():
        if candidate == method and pattern.match(path):
            return spelled
    return None
