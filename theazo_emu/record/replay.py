"""The engine of `theazo-emu replay FILE [--verify]`: send, normalise, compare, diff.

DESIGN.md "Record and replay". Requests go to a fresh in-process app (driven over ASGI) or
to `--against URL` (targets.py), in recorded order; those that overlapped (a stream open
while a run starts) overlap again, by the cassette's `seq`. Before each request starts and
each answer is awaited, the target's virtual clock is moved to the instant recorded for it
(`at`, `endAt`), so a recorded stream ends without waiting on wall time, whether the
recording flowed with wall time or was frozen. Recorded ids are mapped to new ones as they
first appear (IdMap) and later requests rewritten with the map. Answers are compared after
that mapping, timestamps, epoch-ms fields, URL origins and SHA-256 hex digests normalised,
redacted values matching anything; a key an answer issued (`issued`) is sent for the alias its
recorded requests carry; each difference names the JSON path of its field.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol
from urllib.parse import urlencode

from theazo_emu.core.clock import parse_iso
from theazo_emu.core.redaction import REDACTED, Redactor, redact_body
from theazo_emu.core.signing import SIGNATURE_HEADERS, sign

from .cassette import decode_body, redact_event

ID = re.compile(r"(?<![A-Za-z0-9])([a-z][a-z0-9]*_[0-9A-HJKMNP-TV-Z]{26})(?![A-Za-z0-9])")
ORIGIN = re.compile(r"https?://[^/\s\"'<>]+")  # how the client reached the server is no difference
DIGEST = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")  # a SHA-256 over ids or keys that differ on replay
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
EPOCH_FIELD = re.compile(r"(?i)(?:epochms|at_?ms)$")
MISSING, ABSENT = "(missing)", "(absent)"
_SKIP_HEADERS = {"content-length", "host", "authorization"}


class ReplayError(Exception):
    """The target cannot be reached; nothing meaningful can be compared."""


@dataclass
class Prepared:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)  # {"body": JSON} | {"text": ...} | {}
    events: list[dict[str, Any]] | None = None
    timed_out: bool = False


@dataclass
class Mismatch:
    path: str
    expected: Any
    got: Any


@dataclass
class Outcome:
    index: int
    line: int | None
    method: str
    path: str
    mismatches: list[Mismatch]


class Target(Protocol):
    async def send(self, request: Prepared, stop_after: int | None, started: asyncio.Event) -> Answer: ...

    async def move_clock(self, at_ms: int) -> None:
        """Move the target's virtual clock forward to `at_ms` (never backwards)."""


class IdMap:
    """Recorded id -> new id, one to one, bound as ids first appear in answers."""

    def __init__(self) -> None:
        self.forward: dict[str, str] = {}
        self.backward: dict[str, str] = {}

    def rewrite(self, value: Any) -> Any:
        if isinstance(value, str):
            return ID.sub(lambda m: self.forward.get(m.group(1), m.group(1)), value)
        if isinstance(value, dict):
            return {k: self.rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        return value

    def bind(self, recorded: str, actual: str) -> bool:
        if recorded in self.forward:
            return self.forward[recorded] == actual
        if actual in self.backward or recorded.partition("_")[0] != actual.partition("_")[0]:
            return False
        self.forward[recorded], self.backward[actual] = actual, recorded
        return True


class Comparer:
    """Walks expected and actual JSON together, binding ids and collecting differences."""

    def __init__(self, ids: IdMap, ignore_extra: bool = False) -> None:
        self.ids, self.ignore_extra = ids, ignore_extra
        self.found: list[Mismatch] = []

    def compare(self, expected: Any, got: Any, path: str = "$") -> None:
        if expected == REDACTED:
            return
        if isinstance(expected, dict) and isinstance(got, dict):
            for key, value in expected.items():
                if key in got:
                    self.compare(value, got[key], _child(path, key))
                else:
                    self.found.append(Mismatch(_child(path, key), value, MISSING))
            if not self.ignore_extra:
                self.found += [Mismatch(_child(path, k), ABSENT, v) for k, v in got.items() if k not in expected]
        elif isinstance(expected, list) and isinstance(got, list):
            if len(expected) != len(got):
                self.found.append(Mismatch(f"{path}.length", len(expected), len(got)))
            for index, (a, b) in enumerate(zip(expected, got)):
                self.compare(a, b, f"{path}[{index}]")
        elif isinstance(expected, str) and isinstance(got, str):
            self._strings(expected, got, path)
        elif _is_epoch(path, expected) and _is_epoch(path, got):
            return
        elif isinstance(expected, bool) != isinstance(got, bool) or expected != got:
            self.found.append(Mismatch(path, expected, got))

    def _strings(self, expected: str, got: str, path: str) -> None:
        want, have = ID.split(expected), ID.split(got)
        literals_match = len(want) == len(have) and all(
            _literal(a) == _literal(b) for a, b in zip(want[::2], have[::2]))
        if not literals_match or not all([self.ids.bind(a, b) for a, b in zip(want[1::2], have[1::2])]):
            self.found.append(Mismatch(path, expected, got))


def _literal(text: str) -> str:
    return DIGEST.sub("<digest>", TIME.sub("<time>", ORIGIN.sub("<origin>", text)))


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else f"{path}[{json.dumps(key)}]"


def _is_epoch(path: str, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bool(EPOCH_FIELD.search(path.rsplit(".", 1)[-1]))


def prepare(interaction: dict[str, Any], ids: IdMap, key_prefix: str, secrets: dict[str, str],
            issued: dict[str, str] | None = None) -> Prepared:
    """The recorded request with known ids rewritten, a key standing in for its key alias,
    and a signature (whose secret the cassette could not keep) made with the new secret.
    What the recorded server refused (a live or malformed key, a bad signature) is sent
    in a form it refuses again."""
    request, status = interaction["request"], interaction["response"]["status"]
    query = keys_back(ids.rewrite(request.get("query") or {}), key_prefix)
    pairs = [(k, v) for k, values in query.items() for v in (values if isinstance(values, list) else [values])]
    path = ids.rewrite(request["path"]) + (f"?{urlencode(pairs)}" if pairs else "")
    headers = {k: ids.rewrite(v) for k, v in (request.get("headers") or {}).items() if k.lower() not in _SKIP_HEADERS}
    alias = request.get("auth")
    if alias:
        key_id = ids.forward.get((issued or {}).get(alias, ""))
        key = secrets.get(key_id) if key_id else None  # a key an earlier answer issued is sent as issued
        headers["authorization"] = f"Bearer {key or stand_in(alias, status, key_prefix)}"
    body = decode_body(keys_back(ids.rewrite(request), key_prefix))
    secret = next((secrets[i] for i in ID.findall(path) if i in secrets), None)
    for name in SIGNATURE_HEADERS:
        if name in headers and secret is not None and status < 400:
            headers[name] = sign(secret, body)
    return Prepared(request["method"].upper(), path, headers, body)


_KEY_MARK = re.compile(r"^<key:((?:key|theo|live)\d+)>$")


def keys_back(value: Any, key_prefix: str) -> Any:
    """JSON with each alias mark (`<key:key1>`, an admin call naming a key) made the stand-in key."""
    if isinstance(value, str):
        mark = _KEY_MARK.match(value)
        return stand_in(mark.group(1), 200, key_prefix) if mark else value
    if isinstance(value, dict):
        return {k: keys_back(v, key_prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [keys_back(v, key_prefix) for v in value]
    return value


def stand_in(alias: str, status: int, key_prefix: str) -> str:
    """The key sent for a recorded alias: a test key of the alias's kind (key1 on Theazo,
    theo1 on Theo), a live key where one was refused, or a malformed one."""
    if alias.startswith("bad"):
        return "not-a-key"
    if alias.startswith("live") and status in (401, 403):
        return f"th_live_replay_{alias}"
    if alias.startswith("theo"):
        return f"theo_sk_test_replay_{alias}"
    return f"{key_prefix}{alias}"


def signing_secrets(value: Any, found: dict[str, str]) -> None:
    """Collect {id: secret} from objects that show their signing secret (a new trigger)."""
    if isinstance(value, dict):
        secret = value.get("signingSecret") or value.get("secret")
        if isinstance(value.get("id"), str) and isinstance(secret, str) and secret != REDACTED:
            found[value["id"]] = secret
        for item in value.values():
            signing_secrets(item, found)
    elif isinstance(value, list):
        for item in value:
            signing_secrets(item, found)


def redact_answer(answer: Answer, redactor: Redactor) -> Answer:
    """The answer as a cassette would hold it, so redacted fields compare equal."""
    events = None
    if answer.events is not None:
        events = [{**e, "data": redact_event(e.get("event"), e.get("data"), redactor)} for e in answer.events]
    return Answer(answer.status, redact_body(answer.body, redactor), events, answer.timed_out)


def compare_answer(recorded: dict[str, Any], answer: Answer, comparer: Comparer) -> list[Mismatch]:
    comparer.found = []
    if answer.timed_out:
        comparer.found.append(Mismatch("(answer)", "complete within the timeout", "timed out"))
    if recorded["status"] != answer.status:
        comparer.found.append(Mismatch("status", recorded["status"], answer.status))
    if "events" in recorded:
        comparer.compare(recorded["events"], answer.events if answer.events is not None else MISSING, "$events")
    elif "body" in recorded:
        comparer.compare(recorded["body"], answer.body.get("body", answer.body.get("text", MISSING)))
    elif "text" in recorded:
        comparer.compare(recorded["text"], answer.body.get("text", MISSING))
    return comparer.found


def timeline(interactions: list[dict[str, Any]]) -> list[tuple[str, int, int | None]]:
    """("start"|"end", index, recorded instant in ms or None) in recorded order; one after
    the other without `seq`."""
    if all("seq" in i for i in interactions):
        marks = [(i["seq"]["start"], "start", n) for n, i in enumerate(interactions)]
        marks += [(i["seq"]["end"], "end", n) for n, i in enumerate(interactions)]
        order = [(kind, n) for _, kind, n in sorted(marks)]
    else:
        order = [step for index in range(len(interactions)) for step in (("start", index), ("end", index))]
    return [(kind, n, _instant(_started(interactions[n]) if kind == "start" else interactions[n].get("endAt")))
            for kind, n in order]


def _started(interaction: dict[str, Any]) -> Any:
    """The instant the recorded request's handling first read the clock (`readAt`), else the
    instant it began (`at`). An admin call may itself move the clock (advance, settle), so
    it starts where it began."""
    if interaction["request"]["path"].startswith("/_emu"):
        return interaction.get("at")
    return interaction.get("readAt") or interaction.get("at")


def _instant(text: Any) -> int | None:
    try:
        return parse_iso(text) if isinstance(text, str) else None
    except (ValueError, OverflowError):
        return None


async def run(target: Target, interactions: list[dict[str, Any]], *, redactor: Redactor,
              key_prefix: str = "th_test_replay_", ignore_extra: bool = False,
              on_done: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Replay every interaction; one Outcome per interaction, in the order they completed."""
    ids, secrets, issued = IdMap(), {}, {}  # issued: the alias of a key an answer issued -> its recorded id
    comparer = Comparer(ids, ignore_extra)
    pending: dict[int, tuple[Prepared, asyncio.Task]] = {}
    outcomes = []
    for kind, index, instant in timeline(interactions):
        recorded = interactions[index]
        if instant is not None:
            await target.move_clock(instant)
        if kind == "start":
            prepared = prepare(recorded, ids, key_prefix, secrets, issued)
            response = recorded["response"]
            stop_after = len(response["events"]) if response.get("ended") == "client" else None
            started = asyncio.Event()
            task = asyncio.ensure_future(target.send(prepared, stop_after, started))
            await _first(task, started.wait())  # the next request goes out once this one is being answered
            pending[index] = (prepared, task)
            continue
        prepared, task = pending.pop(index)
        answer = await task
        signing_secrets(answer.body.get("body"), secrets)
        if isinstance(recorded.get("issued"), dict):
            issued[recorded["issued"]["alias"]] = recorded["issued"]["id"]
        answer = redact_answer(answer, redactor)
        mismatches = compare_answer(recorded["response"], answer, comparer)
        outcome = Outcome(index + 1, recorded.get("line"), recorded["request"]["method"].upper(),
                          recorded["request"]["path"], mismatches)
        outcomes.append(outcome)
        on_done(outcome)
    return outcomes


async def _first(task: asyncio.Task, other: Awaitable[Any]) -> None:
    waiter = asyncio.ensure_future(other)
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


def describe(outcome: Outcome, width: int = 120) -> str:
    """A readable diff of one interaction that differs."""
    where = f" (line {outcome.line})" if outcome.line else ""
    lines = [f"#{outcome.index}{where} {outcome.method} {outcome.path}"]
    for m in outcome.mismatches:
        lines.append(f"    {m.path}: expected {_show(m.expected, width)}, got {_show(m.got, width)}")
    return "\n".join(lines)


def _show(value: Any, width: int) -> str:
    text = value if value in (MISSING, ABSENT) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


