"""The engine of `theazo-emu replay FILE [--verify]`: send, normalise, compare, diff.

DESIGN.md "Record and replay". Requests go to a fresh in-process app (driven over ASGI) or
to `--against URL`, in recorded order; those that overlapped (a stream open while a run
starts) overlap again, by the cassette's `seq`. Recorded ids are mapped to new ones as they
first appear (IdMap) and later requests rewritten with the map. Answers are compared after
that mapping, timestamps, epoch-ms fields, URL origins and SHA-256 hex digests normalised,
redacted values matching anything; a key an answer issued (`issued`) is sent for the alias
its recorded requests carry; each difference names the JSON path of its field.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol
from urllib.parse import urlencode

import httpx
from starlette.types import ASGIApp, Message

from ..redaction import REDACTED, Redactor, parse_body, redact_body
from ..signing import SIGNATURE_HEADERS, sign
from ..surfaces import surface_for
from .cassette import SseParser, decode_body, is_sse, redact_event

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
    query = ids.rewrite(request.get("query") or {})
    pairs = [(k, v) for k, values in query.items() for v in (values if isinstance(values, list) else [values])]
    path = ids.rewrite(request["path"]) + (f"?{urlencode(pairs)}" if pairs else "")
    headers = {k: ids.rewrite(v) for k, v in (request.get("headers") or {}).items() if k.lower() not in _SKIP_HEADERS}
    alias = request.get("auth")
    if alias:
        if alias.startswith("bad"):
            headers["authorization"] = "Bearer not-a-theazo-key"
        elif alias.startswith("live") and status == 403:
            headers["authorization"] = f"Bearer th_live_replay_{alias}"
        elif (issued or {}).get(alias) in ids.forward and ids.forward[issued[alias]] in secrets:  # type: ignore[index]
            headers["authorization"] = f"Bearer {secrets[ids.forward[issued[alias]]]}"  # type: ignore[index]
        else:  # the prefix given is Theazo's; another surface's keys take that surface's own
            own = surface_for(request["path"]).replay_key_prefix
            headers["authorization"] = f"Bearer {key_prefix if own.startswith('th_test_') else own}{alias}"
    body = decode_body(ids.rewrite(request))
    secret = next((secrets[i] for i in ID.findall(path) if i in secrets), None)
    for name in SIGNATURE_HEADERS:
        if name in headers and secret is not None and status < 400:
            headers[name] = sign(secret, body)
    return Prepared(request["method"].upper(), path, headers, body)


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


def timeline(interactions: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """("start"|"end", index) in recorded order; one after the other without `seq`."""
    if not all("seq" in i for i in interactions):
        return [step for index in range(len(interactions)) for step in (("start", index), ("end", index))]
    marks = [(i["seq"]["start"], "start", n) for n, i in enumerate(interactions)]
    marks += [(i["seq"]["end"], "end", n) for n, i in enumerate(interactions)]
    return [(kind, n) for _, kind, n in sorted(marks)]


async def run(target: Target, interactions: list[dict[str, Any]], *, redactor: Redactor,
              key_prefix: str = "th_test_replay_", ignore_extra: bool = False,
              on_done: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Replay every interaction; one Outcome per interaction, in the order they completed."""
    ids, secrets, issued = IdMap(), {}, {}  # issued: the alias of a key an answer issued -> its recorded id
    comparer = Comparer(ids, ignore_extra)
    pending: dict[int, tuple[Prepared, asyncio.Task]] = {}
    outcomes = []
    for kind, index in timeline(interactions):
        recorded = interactions[index]
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


class AppTarget:
    """A fresh in-process emulator, called as an ASGI app (no sockets, streams included)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app, self.timeout = app, timeout

    async def send(self, request: Prepared, stop_after: int | None, started: asyncio.Event) -> Answer:
        path, _, query = request.path.partition("?")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
        headers.append((b"host", b"replay"))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 0), "server": ("replay", 80),
                 "state": {}}
        gone = asyncio.Event()
        state: dict[str, Any] = {"sent": False, "status": 500, "parser": None, "chunks": [], "events": []}

        async def receive() -> Message:
            if not state["sent"]:
                state["sent"] = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                content_type = next((v.decode() for k, v in message.get("headers", []) if k == b"content-type"), "")
                if is_sse({"content-type": content_type}):
                    state["parser"] = SseParser()
                started.set()
            elif message["type"] == "http.response.body":
                if state["parser"] is None:
                    state["chunks"].append(message.get("body", b""))
                    return
                state["events"] += state["parser"].feed(message.get("body", b""))
                if stop_after is not None and len(state["events"]) >= stop_after:
                    gone.set()

        call = asyncio.ensure_future(self.app(scope, receive, send))
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(call), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            gone.set()
            try:
                await asyncio.wait_for(call, 1.0)
            except asyncio.TimeoutError:
                pass
        if state["parser"] is not None:
            return Answer(state["status"], events=state["events"], timed_out=timed_out)
        return Answer(state["status"], parse_body(b"".join(state["chunks"])), timed_out=timed_out)


class HttpTarget:
    """A running server (`--against URL`), over HTTP; streams are read as they arrive."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(timeout))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, request: Prepared, stop_after: int | None, started: asyncio.Event) -> Answer:
        answer = Answer(500)

        async def exchange() -> None:
            async with self.client.stream(request.method, request.path, headers=request.headers,
                                          content=request.body) as response:
                answer.status = response.status_code
                started.set()
                if not is_sse({"content-type": response.headers.get("content-type", "")}):
                    answer.body = parse_body(await response.aread())
                    return
                parser, answer.events = SseParser(), []
                async for chunk in response.aiter_bytes():
                    answer.events += parser.feed(chunk)
                    if stop_after is not None and len(answer.events) >= stop_after:
                        return

        try:
            await asyncio.wait_for(exchange(), self.timeout)
        except asyncio.TimeoutError:
            answer.timed_out = True
        except httpx.HTTPError as exc:
            raise ReplayError(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from None
        return answer


class Lifespan:
    """Runs an ASGI app's lifespan (startup/shutdown) around an in-process replay."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> "Lifespan":
        self.task = asyncio.ensure_future(self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                                   self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        if message["type"] != "lifespan.startup.complete":
            raise ReplayError(f"the emulator did not start: {message.get('message', message['type'])}")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        if self.task is not None:
            await self.task


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


async def replay_cassette(interactions: list[dict[str, Any]], *, app: ASGIApp | None = None, url: str | None = None,
                          redactor: Redactor | None = None, timeout: float = 30.0,
                          key_prefix: str = "th_test_replay_", ignore_extra: bool = False,
                          on_done: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Replay against `url` if given, else against `app` in process (its lifespan running)."""
    options = {"redactor": redactor or Redactor(), "key_prefix": key_prefix, "ignore_extra": ignore_extra,
               "on_done": on_done}
    if url is not None:
        target = HttpTarget(url, timeout)
        try:
            return await run(target, interactions, **options)
        finally:
            await target.aclose()
    assert app is not None
    async with Lifespan(app):
        return await run(AppTarget(app, timeout), interactions, **options)
