"""Whether theazo-emu's own files changed on disk under a running server (a reinstall).

Families are imported on their first request (lazy.py), so a server whose package was
reinstalled or upgraded while it ran would import new code into an old process, or fail
to find what its route table names. `changed()` compares a fingerprint of the package
(the stat of its route table and of its `__init__`) with the one taken when this module
was first imported, at start-up; the route loader asks before importing a family and
answers 503 `restart_required` instead of mixing versions or failing as internal_error.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_FILES = (_PACKAGE / "routes.txt", _PACKAGE.parent / "__init__.py")


def fingerprint() -> tuple:
    """(inode, size, mtime) of the files a reinstall rewrites; None for one that is gone."""
    out = []
    for path in _FILES:
        try:
            stat = os.stat(path)
            out.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


_AT_START = fingerprint()


def changed() -> bool:
    return fingerprint() != _AT_START
