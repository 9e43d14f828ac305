"""Seeding: a fixture set's seed data, written through the emulator's own API.

Each item is one in-process request (POST /v1/sessions, /v1/agent-definitions, ...; a
Theo key's settings go to PUT /_emu/theo/account)
through the app's routes, guards and error handlers, so it is validated like a client's,
and a refusal becomes a fixture problem at the item's location. The requests skip the
middleware (no journal, cassette or request id), carry the `faults.SEEDING` flag that
the fault and scope guards honour, and are exempt from the seeded key's rate limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Coroutine
from urllib.parse import quote

from starlette.middleware.exceptions import ExceptionMiddleware

from .auth import tenant_of
from .faults import SEEDING
from .mock.loader import Entry, FixtureSet, Problem, parse_path
from .registry import TENANT_TABLES

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .models.fixtures import KeySpec

log = logging.getLogger("theazo_emu")
THEO_ACCOUNT = "/_emu/theo/account"


async def seed(app: "Starlette", fixture_set: FixtureSet, key: str | None = None,
               fresh_only: bool = False) -> list[Problem]:
    """Write every key's seed data (or one key's) through the API; the problems met.
    With `fresh_only`, keys whose tenant already holds state (a persisted --db) are skipped."""
    problems: list[Problem] = []
    emu = app.state.emu
    limiter = emu.rate_limiter
    for entry in fixture_set.keys:
        if key is not None and entry.spec.key != key:
            continue
        emu.aliases.note(entry.spec.key)  # seeded tenants are named in the inspector too
        if fresh_only and _holds_state(emu, entry.spec.key):
            continue
        had, limit = entry.spec.key in limiter.per_key, limiter.per_key.get(entry.spec.key)
        limiter.per_key[entry.spec.key] = None  # seeding neither counts against nor is refused by a limit
        try:
            problems += await _seed_key(app, fixture_set, entry)
        finally:
            if had:
                limiter.per_key[entry.spec.key] = limit
            else:
                limiter.per_key.pop(entry.spec.key, None)
    for theo in fixture_set.theo_keys:  # Theo keys: through the admin API (PUT /_emu/theo/account)
        if (key is None or theo.spec.key == key) and not (fresh_only and _holds_state(emu, theo.spec.key)):
            body = theo.spec.model_dump(mode="json", exclude_unset=True)
            status, answer = await request(app, theo.spec.key, "PUT", THEO_ACCOUNT, body)
            if not 200 <= status < 300:
                problems.append(fixture_set.problem(theo, _field(answer),
                                                    _refusal("PUT", THEO_ACCOUNT, status, answer)))
    return problems


async def _seed_key(app: "Starlette", fixture_set: FixtureSet, entry: Entry[KeySpec]) -> list[Problem]:
    spec, problems = entry.spec, []

    async def call(where: tuple, method: str, path: str, body: Any) -> Any:
        status, answer = await request(app, spec.key, method, path, body)
        if 200 <= status < 300:
            return answer if isinstance(answer, dict) else {}
        problems.append(fixture_set.problem(entry, (*where, *_field(answer)), _refusal(method, path, status, answer)))
        return None

    # What agents may refer to comes first: providers, org secrets, definitions.
    for name, path in (("providers", "/v1/providers"), ("secrets", "/v1/secrets")):
        for i, body in enumerate(getattr(spec, name)):
            await call((name, i), "POST", path, body)
    definition_ids: dict[str, str] = {}  # a seeded agent may name its definition instead of giving its id
    for i, body in enumerate(spec.definitions):
        created = await call(("definitions", i), "POST", "/v1/agent-definitions", body)
        if created and "id" in created and isinstance(body.get("name"), str):
            definition_ids[body["name"]] = created["id"]
    for i, session in enumerate(spec.sessions):
        created = await call(("sessions", i), "POST", "/v1/sessions", session.body())
        if created is None or "id" not in created:
            continue
        for j, secret in enumerate(session.secrets):
            await call(("sessions", i, "secrets", j), "POST", "/v1/secrets", {**secret, "sessionId": created["id"]})
        for j, agent in enumerate(session.agents):
            named = agent.get("definition")
            if isinstance(named, str) and named in definition_ids:
                agent = {**agent, "definition": definition_ids[named]}
            await call(("sessions", i, "agents", j), "POST", f"/v1/sessions/{created['id']}/agents", agent)
    for i, extra in enumerate(spec.requests):
        await call(("requests", i), extra.method, extra.path, extra.body)
    return problems


def _first_field(answer: Any) -> dict:
    """The first field problem of a refusal (`error.details.fields[0]`), or {}."""
    error = answer.get("error") if isinstance(answer, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    fields = details.get("fields") if isinstance(details, dict) else None
    return fields[0] if isinstance(fields, list) and fields and isinstance(fields[0], dict) else {}


def _field(answer: Any) -> tuple:
    """The first field a 422 names, as path parts (so the problem points at it)."""
    field = _first_field(answer).get("field")
    return parse_path(str(field)) if field not in (None, "body") else ()


def _refusal(method: str, path: str, status: int, answer: Any) -> str:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    detail = _first_field(answer).get("message")
    text = f"the API refused this seed: {method} {path} answered {status} {error.get('code', '')}: " \
           f"{error.get('message', '')}".rstrip(": ")
    return f"{text} ({detail})" if detail else text


async def request(app: "Starlette", key: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    """One in-process request through the app's routes, guards and error handlers, but not
    its middleware: seeding is neither journaled, recorded, replayed nor given a request id."""
    raw = json.dumps(body).encode() if body is not None else b""
    path_only, _, query = path.partition("?")
    handlers = {k: v for k, v in app.exception_handlers.items() if k not in (500, Exception)}
    inner = ExceptionMiddleware(app.router, handlers=handlers)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "app": app,
        "path": path_only, "raw_path": quote(path_only).encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"theazo-emu"), (b"authorization", f"Bearer {key}".encode()),
                    (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        "client": ("127.0.0.1", 0), "server": ("theazo-emu", 80), SEEDING: True,
    }
    delivered = False
    status, chunks = 0, []

    async def receive() -> dict:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await inner(scope, receive, send)
    except Exception as exc:  # a bug met while seeding: report it as the API would, with the cause
        log.exception("seeding %s %s failed", method, path)
        return 500, {"error": {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}}
    text = b"".join(chunks)
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def _holds_state(emu: Any, key: str) -> bool:
    tenant = tenant_of(key)
    return any(emu.store.one(f"SELECT 1 FROM [{table}] WHERE tenant = ? LIMIT 1", [tenant])
               for table in TENANT_TABLES)


def run_in_thread(work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion from sync code, whether or not a loop is running here."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(work())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="theazo-emu-seed")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
