"""Reads and validates a fixture directory into one immutable `FixtureSet`.

Files: the directory's `*.json` and `*.toml` (not hidden, not recursive) in name order;
entries keep declaration order, which is the matching order (first match wins). Every
problem names its file, a line where one is found (the decoder's position for syntax
errors, else the line of the entry or field) and the field's path, such as
`runs[2].events[0].offset`. A directory with any problem yields no set at all.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # the models (and pydantic) load with the first fixture file, not at start-up
    from ..models.fixtures import ChatSpec, ExecSpec, FaultSpec, FixtureFile, KeySpec, RunSpec
    from ..models.theo_fixtures import CompletionSpec, JobSpec, TheoKeySpec, TranscriptSpec

T = TypeVar("T")
SUFFIXES = (".json", ".toml")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"

    def to_api(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.path, "message": self.message}


class FixtureError(Exception):
    """One or more problems; the message lists them, one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One declared item and where it was declared."""

    file: str
    path: str  # e.g. "runs[2]"
    spec: T


@dataclass(frozen=True)
class Source:
    name: str  # the file name, as entries cite it
    text: str
    shown: str  # the path as problems show it (the directory as given, joined with the name)

    def problem(self, parts: tuple, message: str) -> Problem:
        return Problem(self.shown, locate(self.name, self.text, parts), render_path(parts), message)


@dataclass(frozen=True)
class FixtureSet:
    directory: Path | None = None
    sources: tuple[Source, ...] = ()
    keys: tuple[Entry[KeySpec], ...] = ()
    runs: tuple[Entry[RunSpec], ...] = ()
    execs: tuple[Entry[ExecSpec], ...] = ()
    faults: tuple[Entry[FaultSpec], ...] = ()
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    chats: tuple[Entry[ChatSpec], ...] = ()
    completions: tuple[Entry[CompletionSpec], ...] = ()  # Theo's scripted completions
    theo_keys: tuple[Entry[TheoKeySpec], ...] = ()
    jobs: tuple[Entry[JobSpec], ...] = ()  # Theo's scripted video and research jobs
    transcripts: tuple[Entry[TranscriptSpec], ...] = ()  # Theo's scripted speech-to-text

    def counts(self) -> dict[str, int]:
        return {"files": len(self.sources), "keys": len(self.keys), "runs": len(self.runs),
                "exec": len(self.execs), "chat": len(self.chats), "faults": len(self.faults),
                "completions": len(self.completions), "theoKeys": len(self.theo_keys), "jobs": len(self.jobs),
                "transcripts": len(self.transcripts)}

    def summary(self) -> dict[str, Any]:
        return {"directory": str(self.directory) if self.directory else None,
                "files": [s.name for s in self.sources], "counts": self.counts()}

    def problem(self, entry: Entry, parts: tuple, message: str) -> Problem:
        """A problem inside `entry` (e.g. found while seeding), located in its file."""
        source = next(s for s in self.sources if s.name == entry.file)
        return source.problem((*parse_path(entry.path), *parts), message)


def fixture_files(directory: Path) -> list[Path]:
    return sorted((p for p in directory.iterdir()
                   if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file()), key=lambda p: p.name)


def load_dir(directory: Path) -> FixtureSet:
    """Every fixture file of `directory`, validated; raises FixtureError listing every problem."""
    if not directory.is_dir():
        raise FixtureError([Problem(str(directory), None, "", "fixture directory not found")])
    problems: list[Problem] = []
    try:
        paths = fixture_files(directory)
    except OSError as exc:
        raise FixtureError([Problem(str(directory), None, "", f"cannot read the directory: {exc}")]) from None
    parsed = [p for p in (_parse(path, problems) for path in paths) if p is not None]
    if problems:
        raise FixtureError(problems)
    return assemble(directory, parsed)


def assemble(directory: Path | None, parsed: list[tuple[Source, FixtureFile]]) -> FixtureSet:
    """One set from validated files, in order; FixtureError if a key is declared twice."""
    problems: list[Problem] = []
    sources, keys, runs, execs, chats, faults, completions, theo_keys = [], [], [], [], [], [], [], []
    jobs, transcripts = [], []
    for source, model in parsed:
        sources.append(source)
        keys += [Entry(source.name, f"keys[{i}]", s) for i, s in enumerate(model.keys)]
        runs += [Entry(source.name, f"runs[{i}]", s) for i, s in enumerate(model.runs)]
        execs += [Entry(source.name, f"exec[{i}]", s) for i, s in enumerate(model.exec)]
        chats += [Entry(source.name, f"chat[{i}]", s) for i, s in enumerate(model.chat)]
        faults += [Entry(source.name, f"faults[{i}]", s) for i, s in enumerate(model.faults)]
        completions += [Entry(source.name, f"completions[{i}]", s) for i, s in enumerate(model.completions)]
        theo_keys += [Entry(source.name, f"theoKeys[{i}]", s) for i, s in enumerate(model.theoKeys)]
        jobs += [Entry(source.name, f"jobs[{i}]", s) for i, s in enumerate(model.jobs)]
        transcripts += [Entry(source.name, f"transcripts[{i}]", s) for i, s in enumerate(model.transcripts)]
    seen: dict[str, Entry] = {}
    for entry in (*keys, *theo_keys):
        first = seen.setdefault(entry.spec.key, entry)
        if first is not entry:
            source = next(s for s in sources if s.name == entry.file)
            problems.append(source.problem((*parse_path(entry.path), "key"),
                                           f"key declared twice (first in {first.file} {first.path})"))
    if problems:
        raise FixtureError(problems)
    scopes = {e.spec.key: tuple(e.spec.scopes) for e in keys if e.spec.scopes is not None}
    return FixtureSet(directory, tuple(sources), tuple(keys), tuple(runs), tuple(execs), tuple(faults), scopes,
                      tuple(chats), tuple(completions), tuple(theo_keys), tuple(jobs), tuple(transcripts))


def _parse(path: Path, problems: list[Problem]) -> tuple[Source, FixtureFile] | None:
    import tomllib

    from pydantic import ValidationError

    from ..models.fixtures import FixtureFile

    name, shown = path.name, str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(shown, None, "", f"cannot read: {exc}"))
        return None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(shown, exc.lineno, "", f"invalid JSON: {exc.msg} (column {exc.colno})"))
        return None
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        message = _TOML_AT.sub("", str(exc))
        problems.append(Problem(shown, int(at.group(1)) if at else None, "",
                                f"invalid TOML: {message}" + (f" (column {at.group(2)})" if at else "")))
        return None
    source = Source(name, text, shown)
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, "", "the file must hold an object with keys, runs, exec, chat, faults, "
                                              "completions, theoKeys, jobs or transcripts"))
        return None
    try:
        return source, FixtureFile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            parts = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p[:1].isupper())))
            problems.append(source.problem(parts, _message(error)))
        return None


def _message(error: dict) -> str:
    message = error["msg"]
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def render_path(parts: tuple) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_path(path: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path))


# ---- locating a path in the source ----

def locate(name: str, text: str, parts: tuple) -> int | None:
    """The 1-based line where `parts` (or its nearest enclosing entry) is declared."""
    try:
        return _json_line(text, parts) if name.endswith(".json") else _toml_line(text, parts)
    except (ValueError, RecursionError):
        return None


def _json_line(text: str, parts: tuple) -> int | None:
    positions: dict[int, int] = {}

    def parse_object(s_and_end, *args):  # noqa: ANN001, ANN202
        value, end = json.decoder.JSONObject(s_and_end, *args)
        positions[id(value)] = s_and_end[1] - 1
        return value, end

    def parse_array(s_and_end, scan_once):  # noqa: ANN001, ANN202
        value, end = json.decoder.JSONArray(s_and_end, scan_once)
        positions[id(value)] = s_and_end[1] - 1
        return value, end

    decoder = json.JSONDecoder()
    decoder.parse_object, decoder.parse_array = parse_object, parse_array  # type: ignore[assignment]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner ignores the hooks
    node: Any = decoder.decode(text)
    offset = positions.get(id(node), 0)
    for part in parts:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            child = None
        if isinstance(child, (dict, list)) and id(child) in positions:
            node, offset = child, positions[id(child)]
            continue
        if isinstance(part, str):
            found = text.find(json.dumps(part), offset)
            offset = found if found >= 0 else offset
        break
    return text.count("\n", 0, offset) + 1


def _header(line: str) -> tuple[str, str] | None:
    match = _HEADER.match(line)
    if not match:
        return None
    return match.group(1), re.sub(r"\s*\.\s*", ".", match.group(2)).replace('"', "")


def _toml_line(text: str, parts: tuple) -> int | None:
    lines = text.splitlines()
    start, end, prefix, best = 0, len(lines), "", None
    i = 0
    while i < len(parts):
        key = parts[i]
        if not isinstance(key, str):
            break
        full = f"{prefix}.{key}" if prefix else key
        index = parts[i + 1] if i + 1 < len(parts) and isinstance(parts[i + 1], int) else None
        wanted = {("[[", full)} if index is not None else {("[", full), ("[[", full)}
        headers = [n for n in range(start, end) if _header(lines[n]) in wanted]
        position = index or 0
        if position < len(headers):
            line = headers[position]
            best, start, prefix = line + 1, line + 1, full
            end = next((n for n in range(start, end) if (h := _header(lines[n]))
                        and not h[1].startswith(full + ".")), end)
            i += 2 if index is not None else 1
            continue
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*[=.]")
        for n in range(start, end):
            if _header(lines[n]):
                break
            if pattern.match(lines[n]):
                return n + 1
        break
    return best
