"""The fixtures in force: the directory's set, documents added by API, and key scopes.

`install()` plugs them into the mock engine, fault rules, rate limiter and scope guard,
then loads `--fixtures DIR` and seeds it (seeding.py; at start only keys with no state).
Seeds return on every /_emu/reset. A reload (file watcher, or /_emu/fixtures/reload)
swaps the set for the next request after a dry run of its seeds; a broken set is logged
(logger "theazo_emu") and refused, and the last good one stays. Documents added with
POST /_emu/fixtures come first, in order; one with a `key` applies to that key only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .auth import tenant_of
from .errors import Conflict, Forbidden, Unprocessable
from .faults import SEEDING, Faults
from .mock.loader import SUFFIXES, FixtureError, FixtureSet, Problem, Source, assemble, load_dir
from .mock.scripts import FixtureChat, FixtureExec, FixtureRuns
from .seeding import run_in_thread, seed

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .http import ApiRoute, Ctx
    from .models.fixtures import FixtureDocument

log = logging.getLogger("theazo_emu")
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
WATCH_DEBOUNCE_MS = 200


def required_scope(method: str, path: str) -> str | None:
    """`<family>:read` for reads, `<family>:write` otherwise; family = the segment after v1."""
    parts = path.strip("/").split("/")
    if "v1" not in parts or parts.index("v1") + 1 >= len(parts):
        return None
    family = parts[parts.index("v1") + 1]
    return f"{family}:{'read' if method in _READ_METHODS else 'write'}"


def allows(granted: Iterable[str], required: str) -> bool:
    """Whether the scopes grant `required`; `write` implies `read`, `*` is any family or access."""
    family, _, access = required.partition(":")
    for scope in granted:
        have_family, _, have_access = scope.partition(":")
        have_access = have_access or "*"
        if have_family in ("*", family) and (have_access in ("*", access) or have_access == "write"):
            return True
    return False


@dataclass
class Document:
    """A fixture document added by API: limited to `key`'s tenant when a key is given."""

    id: str
    key: str | None
    fixture_set: FixtureSet
    rule_ids: list[str] = field(default_factory=list)

    @property
    def tenant(self) -> str | None:
        return tenant_of(self.key) if self.key else None

    def to_api(self) -> dict[str, Any]:
        counts = self.fixture_set.counts()
        counts.pop("files")
        return {"id": self.id, "key": self.key, "counts": counts, "faultIds": self.rule_ids}


class Fixtures:
    """Owns the fixtures in force for one emulator."""

    def __init__(self, directory: Path | None, faults: Faults) -> None:
        self.directory = directory
        self.faults = faults
        self.current = FixtureSet()
        self.documents: list[Document] = []
        self.problems: list[Problem] = []  # the last refused reload's, until a good one
        self.version = 0
        self._documents_added = 0
        self._app: "Starlette | None" = None
        self._scratch: Callable[[], "Starlette"] | None = None
        self._stop = threading.Event()
        self._rate_limited: list[str] = []  # keys given a rate limit by the fixtures in force
        self._lock = asyncio.Lock()

    def install(self, app: "Starlette", scratch: Callable[[], "Starlette"]) -> None:
        """Plug into the engine; load and seed `directory` (FixtureError if broken). Its
        `scope_guard` is one of the emulator's guards.

        `scratch` builds a fresh fixture-less app, for dry runs of new seeds."""
        emu = app.state.emu
        self._app, self._scratch = app, scratch
        emu.engine.scripts.append(FixtureRuns(self.layers))
        emu.engine.exec_scripts.append(FixtureExec(self.layers, emu.settings.seed))
        emu.engine.chat_scripts.append(FixtureChat(self.layers))
        if self.directory is None:
            return
        fixture_set = load_dir(self.directory)
        self._use(fixture_set)
        problems = run_in_thread(lambda: seed(app, fixture_set, fresh_only=True))
        if problems:
            raise FixtureError(problems)

    def layers(self) -> list[tuple[str | None, FixtureSet]]:
        """What run and exec matching tries, in order: documents as added, then the files."""
        return [*((d.tenant, d.fixture_set) for d in self.documents), (None, self.current)]

    def scopes_for(self, key: str) -> tuple[str, ...] | None:
        for document in reversed(self.documents):  # the latest declaration wins
            if key in document.fixture_set.scopes:
                return document.fixture_set.scopes[key]
        return self.current.scopes.get(key)

    def summary(self) -> dict[str, Any]:
        return {**self.current.summary(), "directory": str(self.directory) if self.directory else None,
                "version": self.version, "problems": [p.to_api() for p in self.problems],
                "documents": [d.to_api() for d in self.documents]}

    def _use(self, fixture_set: FixtureSet) -> None:
        self.current = fixture_set
        self.faults.use_fixtures(fixture_set.faults)
        self.problems = []
        self.version += 1
        self._apply_rate_limits()

    def _apply_rate_limits(self) -> None:
        if self._app is None:
            return
        limiter = self._app.state.emu.rate_limiter
        for key in self._rate_limited:
            limiter.per_key.pop(key, None)
        specs = [e.spec for s in (self.current, *(d.fixture_set for d in self.documents)) for e in s.keys
                 if e.spec.rateLimit is not None]
        for spec in specs:  # documents last: they override the files
            limiter.set_limit(spec.key, spec.rateLimit)
        self._rate_limited = [spec.key for spec in specs]

    async def reload(self) -> list[Problem]:
        """Load the directory again; on any problem keep the set in force and return them."""
        if self.directory is None:
            raise Conflict("No fixture directory is configured; start the emulator with --fixtures DIR.")
        async with self._lock:
            try:
                fixture_set = load_dir(self.directory)
                problems = await self._dry_run(fixture_set)
            except FixtureError as exc:
                problems = exc.problems
            if problems:
                self.problems = problems
                log.warning("fixtures in %s not reloaded; the last good set stays in force:\n  %s",
                            self.directory, "\n  ".join(str(p) for p in problems))
                return problems
            self._use(fixture_set)
        log.warning("fixtures reloaded from %s: %s", self.directory,
                    ", ".join(f"{n} {k}" for k, n in fixture_set.counts().items()))
        return []

    async def _dry_run(self, fixture_set: FixtureSet) -> list[Problem]:
        if not (fixture_set.keys or fixture_set.theo_keys) or self._scratch is None:
            return []
        app = self._scratch()
        try:
            return await seed(app, fixture_set)
        finally:
            app.state.emu.close()

    async def add_document(self, document: FixtureDocument) -> Document:
        """Put a document in force (after a dry run of its seeds), seed it, add its faults."""
        fixture_set = assemble(None, [(Source("document.json", "", "POST /_emu/fixtures"), document.as_file())])
        problems = await self._dry_run(fixture_set)
        if not problems and self._app is not None:
            problems = await seed(self._app, fixture_set)
        if problems:
            if document.key and fixture_set.keys and fixture_set.keys[0].spec.key == document.key:
                problems = [_unnest(p) for p in problems]  # top-level seed fields became keys[0]
            raise Unprocessable(f"The fixture document was refused: {problems[0]}", [p.to_api() for p in problems])
        self._documents_added += 1
        added = Document(f"doc_{self._documents_added}", document.key, fixture_set)
        for entry in fixture_set.faults:
            spec = entry.spec
            if document.key and spec.match.key is None:
                spec = spec.model_copy(update={"match": spec.match.model_copy(update={"key": document.key})})
            added.rule_ids.append(self.faults.add(spec, source=f"{added.id} {entry.path}").id)
        self.documents.append(added)
        self._apply_rate_limits()
        return added

    def remove_documents(self, key: str | None = None) -> int:
        """Forget every document, or those given this key; their fault rules go with them."""
        gone = [d for d in self.documents if key is None or d.key == key]
        self.documents = [d for d in self.documents if d not in gone]
        for rule_id in (r for d in gone for r in d.rule_ids):
            self.faults.remove(rule_id)
        self._apply_rate_limits()
        return len(gone)

    async def after_reset(self, key: str | None) -> int:
        """Back to the files' seeded state: for one key, or for all (fault rules included)."""
        self.remove_documents(key)
        if key is None:
            self.faults.api_rules = []
            self.faults.use_fixtures(self.current.faults)
        if self._app is None:
            return 0
        problems = await seed(self._app, self.current, key)
        if problems:
            raise Unprocessable("Reset done, but seeding the fixtures failed: " + "; ".join(map(str, problems)),
                                [p.to_api() for p in problems])
        return sum(1 for e in (*self.current.keys, *self.current.theo_keys) if key is None or e.spec.key == key)

    async def scope_guard(self, ctx: "Ctx", route: "ApiRoute") -> None:
        """403 `forbidden` for a key declared with scopes that do not cover this request."""
        granted = self.scopes_for(ctx.key) if ctx.key else None
        if granted is None or ctx.request.scope.get(SEEDING):
            return
        method, path = ctx.request.method, ctx.request.url.path
        required = required_scope(method, route.path)
        if required is None or allows(granted, required):
            return
        raise Forbidden(f"This API key lacks the '{required}' scope needed for {method} {path} "
                        f"(it has: {', '.join(granted) or 'no scopes'}).",
                        {"required": required, "granted": list(granted)})

    async def watch(self) -> None:
        """Reload whenever a fixture file changes (runs in the app's lifespan)."""
        if self.directory is None:
            return
        from watchfiles import awatch  # only a served --fixtures directory is watched

        self._stop.clear()
        try:
            async for _ in awatch(self.directory, stop_event=self._stop, debounce=WATCH_DEBOUNCE_MS, step=50,
                                  recursive=False, watch_filter=_is_fixture_file):
                await self.reload()
        except OSError as exc:  # the directory went away: say so; POST /_emu/fixtures/reload still works
            log.warning("fixture watcher for %s stopped: %s", self.directory, exc)

    def stop_watching(self) -> None:
        self._stop.set()


def _is_fixture_file(_change: Any, path: str) -> bool:
    name = Path(path).name
    return name.endswith(SUFFIXES) and not name.startswith(".")


def _unnest(problem: Problem) -> Problem:
    return replace(problem, path=problem.path.removeprefix("keys[0]."))
