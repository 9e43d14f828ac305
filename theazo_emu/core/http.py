"""Shared request mechanics: route declaration, body parsing, query values, filters, paging.

`api_route()` declares a route; the emulator serves an `ApiRoute` per declaration, which
does the common work once for every route of every surface: authentication (the surface's),
the guards (rate limit, scopes, faults), the body limit, JSON parsing and model validation,
then the endpoint inside a transaction that its error rolls back (store.atomic_call).
The endpoint receives a `Ctx` and returns a dict (sent as JSON) or a Response.

An ApiRoute knows everything about itself before its family is imported (core/routes.txt
carries method, path, name, status, summary, public flag, body limit and secret fields);
its endpoint and body model are imported on its first request (`module` names the family).
So start-up pays only for the route table, and no consumer needs to know whether a family
has been loaded. Errors raised here are neutral (errors.py): each surface renders them in
its own envelope and codes. How a page of a list is spelled on the wire is the surface's
too; choosing the rows (`PageParams`, `Cursor`, `Where`) is shared here.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, NamedTuple, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.convertors import Convertor
from starlette.routing import Match, Route, compile_path, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from theazo_emu.core import errors, installed, jsonio
from theazo_emu.core.clock import parse_iso
from theazo_emu.core.errors import ApiError, NotFound, PayloadTooLarge, RestartRequired, Unprocessable, invalid
from theazo_emu.core.ids import is_id
from theazo_emu.core.store import atomic_call

if TYPE_CHECKING:
    from pydantic import BaseModel

    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.surface import Surface
    from theazo_emu.core.tenant import Tenant

Endpoint = Callable[["Ctx"], Awaitable[Any]]
# A guard runs before an endpoint, after authentication; it raises an ApiError to refuse
# the request, or returns a response to answer in the endpoint's place (an idempotent
# replay). Which run, and in what order, is the emulator's (emulator.GUARD_ORDER).
Guard = Callable[["Ctx", "ApiRoute"], Awaitable["ASGIApp | None"]]
_BODYLESS = {"GET", "HEAD", "DELETE", "OPTIONS"}
PARSED_BODY = "parsed_body"  # where read_json leaves the body it parsed, in the ASGI scope's state

# Pydantic puts union member tags into error locations; they are not field names.
_TYPE_TAGS = {"str", "int", "float", "bool", "dict", "list", "none", "function-after", "function-before",
              "constrained-str", "json-or-python[json=list[str],python=chain[is-instance[list],function-plain]]"}


@dataclass
class Ctx:
    """What an endpoint needs: the request, the emulator, the caller's tenant, the body."""

    request: Request
    emu: "Host"
    key: str | None
    tenant: str
    body: Any
    _store: "Scoped | None" = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, str]:
        return self.request.path_params

    @property
    def query(self):
        return self.request.query_params

    @property
    def store(self) -> "Scoped":
        """The caller's tenant's view of the store (store.Scoped): its rows only."""
        if self._store is None:
            self._store = self.emu.store.scoped(self.tenant)
        return self._store

    @property
    def t(self) -> "Tenant":
        """The caller's tenant-bound handle (core/tenant.py), over the same view as `store`."""
        return self.emu.tenant(self.tenant, self.store)

    def now_ms(self) -> int:
        return self.emu.clock.now_ms()

    def now_iso(self) -> str:
        return self.emu.clock.now_iso()


class Declared(NamedTuple):
    """A route as its family module declares it (api_route); the served route is an ApiRoute."""

    path: str
    endpoint: Endpoint
    method: str
    name: str
    body: "type[BaseModel] | None"
    public: bool
    status: int
    summary: str
    max_body: int | None
    query: tuple[str, ...] = ()  # the query parameters it reads (the OpenAPI document lists them)
    also: tuple[int, ...] = ()  # success statuses besides `status` it may answer (200 for an upsert)
    reveals: tuple[str, ...] = ()  # answer fields holding a secret shown this once (never stored, even for replay)
    media: str = "application/json"  # what a success answer's body is (text/html for a page)

    @property
    def successes(self) -> tuple[int, ...]:
        """Every success status it may answer: `status`, then `also`; the kernel refuses any other."""
        return (self.status, *self.also)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        """Body fields the journal and cassettes redact ("*": every value of the body)."""
        return tuple(getattr(self.body, "SECRET_FIELDS", ()))


def api_route(path: str, endpoint: Endpoint, method: str = "GET", *, body: "type[BaseModel] | None" = None,
              public: bool = False, status: int = 200, max_body: int | None = None, query: Sequence[str] = (),
              also: Sequence[int] = (), reveals: Sequence[str] = (), media: str = "application/json") -> Declared:
    """Declare a route; its name is the endpoint's name, its summary the docstring's first line.
    `query` names every query parameter it reads, `also` its other success statuses (an upsert's
    200, a redirect's 303: an endpoint answering a status its route does not declare is a bug the
    kernel answers 500), `reveals` the top-level answer fields that show a secret once (a new key,
    a signing secret), `media` the type of a success answer that is not JSON."""
    summary = (endpoint.__doc__ or "").strip().splitlines()[0] if endpoint.__doc__ else endpoint.__name__
    return Declared(path, endpoint, method, endpoint.__name__, body, public, status, summary, max_body,
                    tuple(query), tuple(also), tuple(reveals), media)


PAGE = ("limit", "cursor")  # the query of every paged list
LAST_EVENT = ("lastEventId",)  # a stream's resume point, for clients that cannot send Last-Event-ID


class ApiRoute(Route):
    """A served route of one surface. `path` is the public path (`/v1/sessions/{session_id}`);
    it matches the path below its surface's prefix, where the surface's Mount hands it on."""

    def __init__(self, surface: "Surface", module: str, path: str, method: str, *, name: str, public: bool,
                 status: int, summary: str, max_body: int | None, secret_fields: tuple[str, ...],
                 guards: "Sequence[Guard]" = ()) -> None:
        # Route.__init__ minus compile_path: the path's regex is compiled when the route is first
        # tried (SurfaceRouter tries only the routes of a request's method and first segment), which
        # saves start-up compiling some 300 regexes most of which a run never needs.
        self.path, self.endpoint, self.name, self.include_in_schema = path, self._respond, name, True
        self.app = request_response(self._respond)
        self.methods = {method, "HEAD"} if method == "GET" else {method}
        self.surface, self.module = surface, module
        self.public, self.success_status, self.summary = public, status, summary
        self.max_body = max_body  # None: the API's limit (settings.max_body_bytes)
        self.secret_fields = secret_fields  # known before loading: the journal redacts by them
        self.guards = tuple(guards)
        self._declared: Declared | None = None

    @functools.cached_property
    def _compiled(self) -> tuple[re.Pattern[str], str, dict[str, Convertor[Any]]]:
        return compile_path(self.path)

    @property
    def path_regex(self) -> re.Pattern[str]:  # type: ignore[override]
        return self._compiled[0]

    @property
    def path_format(self) -> str:  # type: ignore[override]
        return self._compiled[1]

    @property
    def param_convertors(self) -> dict[str, Convertor[Any]]:  # type: ignore[override]
        return self._compiled[2]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Route.matches on the whole path (a surface's routes carry its prefix): no sub-path
        to cut out of the scope for every route tried."""
        match = self.path_regex.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            return Match.NONE, {}
        params = match.groupdict()
        for key, value in params.items():
            params[key] = self.param_convertors[key].convert(value)
        child = {"endpoint": self.endpoint, "path_params": params}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child

    @classmethod
    def of(cls, surface: "Surface", declared: Declared, guards: "Sequence[Guard]" = ()) -> "ApiRoute":
        """A route served from its declaration, with no family to load (the kernel's own routes)."""
        route = cls(surface, "", declared.path, declared.method, name=declared.name, public=declared.public,
                    status=declared.status, summary=declared.summary, max_body=declared.max_body,
                    secret_fields=declared.secret_fields, guards=guards)
        route._declared = declared
        return route

    @property
    def declared(self) -> Declared:
        """The family's own declaration of this route (imports the family on first use)."""
        if self._declared is None:
            if installed.changed():  # a reinstall under a running server: never mix two versions
                raise RestartRequired()
            (method,) = self.methods - {"HEAD"}
            try:
                family = importlib.import_module(self.module)
                self._declared = next(r for r in family.routes if r.path == self.path and r.method == method)
            except (ImportError, SyntaxError, StopIteration, AttributeError):
                if installed.changed():
                    raise RestartRequired() from None
                raise
        return self._declared

    @property
    def body_model(self) -> "type[BaseModel] | None":
        return self.declared.body

    @property
    def api_endpoint(self) -> Endpoint:
        return self.declared.endpoint

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request; any failure in the surface's envelope. Starlette's per-route
        wrapper (a Request, an exception-handling layer) is not needed: this is the only
        handler, and it renders its own errors (an unexpected one is logged and answered 500,
        keeping the connection)."""
        try:
            response = await self._respond(Request(scope, receive, send))
        except ApiError as exc:
            response = errors.render(self.surface, scope, exc)
        except sqlite3.IntegrityError as exc:  # a unique name taken that no endpoint checked: 409, not 500
            response = errors.render(self.surface, scope, errors.taken(exc)) if errors.is_unique_violation(exc) \
                else errors.unexpected(self.surface, scope, exc)
        except Exception as exc:  # a bug: logged with its traceback, never sent
            response = errors.unexpected(self.surface, scope, exc)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> "Response | ASGIApp":
        scope = request.scope
        emu = scope["app"].state.emu
        key, tenant = (None, "public") if self.public else self.surface.authenticate(emu, authorization(scope))
        ctx = Ctx(request, emu, key, tenant, None)
        for guard in self.guards:
            answer = await guard(ctx, self)
            if answer is not None:
                return answer
        declared = self.declared
        limit = self.max_body or emu.settings.max_body_bytes
        if declared.body is not None:
            ctx.body = await read_model(request, declared.body, limit)
        elif request.method not in _BODYLESS:
            # Still refuse an oversized body; the raw bytes are the body of a model-less route.
            ctx.body = await read_raw(request, limit)
        result = await atomic_call(emu.store, declared.endpoint(ctx))
        if isinstance(result, Response):
            if result.status_code < 400 and result.status_code not in declared.successes:
                self._undeclared(declared, result.status_code)
            return result
        return Json(result, self.success_status)


    strict_statuses = False  # the project's own suite sets it: an undeclared status fails the test

    def _undeclared(self, declared: Declared, status: int) -> None:
        """An endpoint answered a success status its declaration (so its OpenAPI document) does
        not list: a client validating answers would read it against the error schema. The
        answer, already committed, still goes out (logged); the project's tests raise."""
        message = f"{declared.name} answered {status}, which its route does not declare (api_route(..., also=...))"
        if self.strict_statuses:
            raise UndeclaredStatus(message)
        logging.getLogger("theazo_emu").error(message)


class UndeclaredStatus(RuntimeError):
    """A success status a route does not declare, in the project's own tests (ApiRoute.strict_statuses)."""


async def read_raw(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes.", {"limit": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes.", {"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object; an empty body reads as {} (the SDK sends body-less POSTs).
    The one strict decode at the door (jsonio.loads): NaN, infinities, out-of-range numbers,
    lone surrogates and over-deep nesting are the surface's validation error, never stored."""
    value = json_object(await read_raw(request, limit))
    request.scope.setdefault("state", {})[PARSED_BODY] = value  # the journal keeps it without parsing again
    return value


def json_object(raw: bytes) -> dict[str, Any]:
    """Raw body bytes as a JSON object, refused as read_json refuses them (for model-less
    routes whose body is an object of the caller's own shape)."""
    if not raw.strip():
        return {}
    try:
        value = jsonio.loads(raw)
    except jsonio.JsonRejected as exc:
        message = exc.message.rstrip(".")
        message = f"{message[0].upper()}{message[1:]}" if exc.field == "body" else \
            f"Invalid value for '{exc.field}': {message}"
        raise Unprocessable(f"{message}.", [{"field": exc.field, "message": exc.reason, "type": "json_invalid"}]) \
            from None
    if not isinstance(value, dict):
        raise Unprocessable("Request body must be a JSON object.",
                            [{"field": "body", "message": f"expected an object, got {type(value).__name__}",
                              "type": "model_type"}])
    return value


async def read_model(request: Request, model: "type[BaseModel]", limit: int) -> "BaseModel":
    return validate(model, await read_json(request, limit))


def validate(model: "type[BaseModel]", data: Any) -> "BaseModel":
    """Validate with the model, turning its errors into the validation error's details."""
    from pydantic import ValidationError  # loaded with the first family that has a model

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": _field_path(err["loc"]), "message": err["msg"], "type": err["type"]}
                   for err in exc.errors(include_url=False)]
        if isinstance(data, dict):  # a misspelt field is often why a required one is missing
            known = {f.alias or name for name, f in model.model_fields.items()} | set(model.model_fields)
            details += [{"field": str(k), "message": "Unknown field", "type": "unknown_field"}
                        for k in data if k not in known and not any(d["field"] == k for d in details)][:10]
        fields = sorted({d["field"] for d in details})
        raise Unprocessable(f"Request body failed validation: {', '.join(fields)}.", details) from None


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc
             if not (isinstance(p, str) and (p in _TYPE_TAGS or p[:1].isupper() or "[" in p))]
    return ".".join(parts) or "body"


# ---- query values ----

def query_int(ctx: Ctx, name: str, default: int, low: int, high: int) -> int:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value


def query_choice(ctx: Ctx, name: str, choices: Sequence[str]) -> str | None:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}")
    return raw


def query_time(ctx: Ctx, name: str) -> int | None:
    """An ISO-8601 query value as epoch milliseconds (None when absent)."""
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except (ValueError, OverflowError):
        raise invalid(name, "must be an ISO 8601 date or date-time") from None


class Where:
    """A WHERE fragment built from a list's query filters, for the store's scoped view:
    `Where(ctx).eq("session_id", "sessionId").choice("status", STATUSES)`. Each filter is
    added only when its query value is present."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, *params: Any) -> "Where":
        self.parts.append(sql)
        self.params.extend(params)
        return self

    def eq(self, column: str, name: str, value: Any = None) -> "Where":
        """`column = ?` with the query value `name` (or `value` when given)."""
        value = value if value is not None else self.ctx.query.get(name)
        return self.add(f"{column} = ?", value) if value else self

    def choice(self, column: str, name: str, choices: Sequence[str], expression: str | None = None,
               *params: Any) -> "Where":
        """`column = ?` with a query value that must be one of `choices` (422 otherwise);
        `expression` (with its own `params`) replaces the column, for derived values."""
        value = query_choice(self.ctx, name, choices)
        return self.add(f"{expression or column} = ?", *params, value) if value else self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "1"


# ---- paging ----

class Cursor(NamedTuple):
    """How a list's cursor is spelled: `cur_<id>` for lists keyed by ids of `prefix`
    (`ses`, `agt`, ...), or `cur_<prefix><n>` for lists keyed by a number (`item3`, `seq12`)."""

    prefix: str
    numeric: bool = False

    def parse(self, text: str) -> str | int:
        head, _, body = text.partition("_")
        if head == "cur":
            if not self.numeric and is_id(body, self.prefix):
                return body
            digits = body.removeprefix(self.prefix)
            if self.numeric and body.startswith(self.prefix) and digits.isdigit() and len(digits) < 19:
                return int(digits)
        raise invalid("cursor", "unknown or malformed cursor; pass the nextCursor of the previous page")

    def spell(self, key: str | int) -> str:
        return f"cur_{self.prefix}{key}" if self.numeric else f"cur_{key}"


class PageParams(NamedTuple):
    """`limit` and the key after which a page starts (None: the first page)."""

    limit: int
    after: str | int | None
    cursor: Cursor

    @classmethod
    def from_query(cls, ctx: Ctx, cursor: Cursor | str, default: int = 25, maximum: int = 100) -> "PageParams":
        """`limit` 1..maximum and an opaque `cursor` that must be one this list handed out."""
        cursor = cursor if isinstance(cursor, Cursor) else Cursor(cursor)
        limit = query_int(ctx, "limit", default, 1, maximum)
        raw = ctx.query.get("cursor") or None
        return cls(limit, cursor.parse(raw) if raw is not None else None, cursor)

    def cut(self, items: list[Any], key: Callable[[Any], str | int] = lambda row: row["id"]) -> "Page":
        """The page of `items` (fetched with one more than the limit, to know whether more follow)."""
        has_more = len(items) > self.limit
        items = items[: self.limit]
        return Page(items, self.cursor.spell(key(items[-1])) if has_more else None, has_more)


class Page(NamedTuple):
    items: list[Any]
    next_cursor: str | None
    has_more: bool


def rows_page(ctx: Ctx, table: str, where: Where | None, cursor: Cursor | str, *, default: int = 25,
              maximum: int = 100) -> Page:
    """The caller's rows of `table`, newest first, one page of them (the `limit`/`cursor` query)."""
    params = PageParams.from_query(ctx, cursor, default, maximum)
    where = where or Where(ctx)
    return params.cut(ctx.store.page(table, where.sql, where.params, params.limit, params.after))


def authorization(scope: Scope) -> str | None:
    """The Authorization header's value (front.py has already found it for most requests)."""
    state = scope.get("state")
    if state is not None and "authorization" in state:
        return state["authorization"]
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def header(scope: Scope, name: bytes) -> str | None:
    """One request header's value (`name` in lower case), without building a Headers object."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def public_row(ctx: Ctx, table: str, ident: str, kind: str, *, proof: Callable[[dict], bool] | None = None,
               refusal: ApiError | None = None) -> dict:
    """The row a public route names by id, whoever's it is (404 otherwise); from here on the
    request acts for the row's tenant, since on a public route the id is the credential.
    `proof` is what else the caller must know of the row (a second id): a row that fails it
    is refused exactly as a missing one (with `refusal` when given), so nothing tells them apart."""
    row = ctx.emu.store.by_id(table, ident)
    if row is None or (proof is not None and not proof(row)):
        raise refusal or NotFound(kind, ident)
    act_for(ctx, row["tenant"])
    return row


def act_for(ctx: Ctx, tenant: str) -> None:
    """From here on a public route's request acts for `tenant` (whose credential it proved)."""
    ctx.tenant, ctx._store = tenant, None


class Json(Response):
    """A JSON answer, encoded by the one encoder of answers (jsonio.dumps), without
    Starlette's generic header machinery: this is every answer of every route, so both
    costs show."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.background = status_code, None
        self.body = jsonio.dumps(content)
        self.raw_headers = [(b"content-length", str(len(self.body)).encode()),
                            (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def respond(body: Any, status: int = 200) -> Json:
    """A JSON answer with a status chosen at run time (most routes declare theirs)."""
    return Json(body, status)
