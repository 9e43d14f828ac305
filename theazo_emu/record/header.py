"""The cassette header: how the recording emulator was set up, so a replay needs no options.

DESIGN.md "Record and replay". A cassette's first line is `{"cassette": "theazo-emu",
"format", "version", "seed", "clock": {"mode": "frozen"|"flowing", "start"}, "pace",
"dialect", "exec", "fixtures": {"directory", "digest", "files": {name: digest}} | null}`.
`replay` and `serve --replay` take their settings from it unless an option overrides one
(fixtures: the recorded directory, else ./fixtures when present; none if the recording had
none); the clock always starts frozen at `clock.start` (replay then drives it to each
recorded instant). Fixture files are compared by digest, so a changed one is named in a warning.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import parse_iso
from theazo_emu.core.version import __version__
from theazo_emu.fixtures.loader import fixture_files

if TYPE_CHECKING:
    from ..core.host import Host

FORMAT = 1
MARK = "theazo-emu"
_CHOICES = {"pace": ("realtime", "instant"), "dialect": ("auto", "reference", "sdk"), "exec": ("mock", "local")}


def fixture_digest(directory: Path | None) -> dict[str, Any] | None:
    """The fixture set as a digest of its files' contents (and one per file, to name changes)."""
    if directory is None:
        return None
    files: dict[str, str] = {}
    try:
        for path in fixture_files(directory):
            files[path.name] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        pass  # a directory that went away has no files; the warning on replay says so
    whole = hashlib.sha256("".join(f"{name}\0{digest}\n" for name, digest in files.items()).encode()).hexdigest()
    return {"directory": str(directory), "digest": f"sha256:{whole[:16]}", "files": files}


def make_header(emu: "Host") -> dict[str, Any]:
    """The header for a cassette this emulator starts recording now."""
    settings, clock = emu.settings, emu.clock
    return {"cassette": MARK, "format": FORMAT, "version": __version__, "seed": settings.seed,
            "clock": {"mode": "frozen" if clock.frozen else "flowing", "start": clock.now_iso()},
            "pace": settings.pace, "dialect": settings.dialect, "exec": settings.exec_mode,
            "fixtures": fixture_digest(emu.fixtures.directory)}


def is_header(item: Any) -> bool:
    return isinstance(item, dict) and "cassette" in item and "request" not in item


def header_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with a header line, or None."""
    if item.get("cassette") != MARK:
        return f"'cassette' must be {MARK!r}"
    if not isinstance(item.get("format"), int):
        return "'format' must be an integer"
    if item["format"] > FORMAT:
        return (f"format {item['format']} is newer than this theazo-emu ({__version__}) reads (format {FORMAT}); "
                "upgrade theazo-emu")
    if not isinstance(item.get("seed"), int) or isinstance(item.get("seed"), bool):
        return "'seed' must be an integer"
    clock = item.get("clock")
    if not isinstance(clock, dict) or clock.get("mode") not in ("frozen", "flowing"):
        return "'clock' must be {\"mode\": \"frozen\"|\"flowing\", \"start\": ISO}"
    try:
        parse_iso(str(clock.get("start")))
    except (ValueError, OverflowError):
        return "'clock.start' must be an ISO 8601 instant"
    for name, choices in _CHOICES.items():
        if item.get(name) not in choices:
            return f"'{name}' must be one of {', '.join(choices)}"
    fixtures = item.get("fixtures")
    if fixtures is not None and not (isinstance(fixtures, dict) and isinstance(fixtures.get("files"), dict)):
        return "'fixtures' must be null or {\"directory\", \"digest\", \"files\"}"
    return None


def settings_of(header: dict[str, Any]) -> dict[str, Any]:
    """The emulator options the header fixes (Settings field names)."""
    return {"seed": header["seed"], "clock": header["clock"]["start"], "pace": header["pace"],
            "dialect": header["dialect"], "exec_mode": header["exec"]}


def recorded_fixtures(header: dict[str, Any]) -> Path | None:
    """The recording's fixture directory, when it exists here (relative to the working directory)."""
    fixtures = header.get("fixtures")
    if not fixtures or not fixtures.get("directory"):
        return None
    directory = Path(fixtures["directory"])
    return directory if directory.is_dir() else None


def fixture_warnings(header: dict[str, Any], directory: Path | None) -> list[str]:
    """Why the fixtures in use may answer differently from the recording's, file by file."""
    recorded = header.get("fixtures")
    if recorded is None:
        return [f"the recording used no fixtures, this replay uses {directory}"] if directory else []
    if directory is None:
        return [f"the recording used the fixtures in {recorded.get('directory')} ({len(recorded['files'])} files), "
                "which this replay does not load (pass --fixtures DIR)"]
    now = fixture_digest(directory)
    assert now is not None
    if now["digest"] == recorded.get("digest"):
        return []
    before, after = recorded["files"], now["files"]
    changes = [f"{name} changed" for name in sorted(before.keys() & after.keys()) if before[name] != after[name]]
    changes += [f"{name} is new" for name in sorted(after.keys() - before.keys())]
    changes += [f"{name} is gone" for name in sorted(before.keys() - after.keys())]
    return [f"the fixtures in {directory} differ from the recording's: {', '.join(changes)}"]


def version_warning(header: dict[str, Any]) -> str | None:
    if header.get("version") != __version__:
        return f"recorded with theazo-emu {header.get('version')}, replayed with {__version__}"
    return None
