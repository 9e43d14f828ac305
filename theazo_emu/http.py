"""Shared request mechanics: route declaration, body parsing, query values, paging.

`api_route()` wraps an endpoint so that authentication, the 1 MiB body limit, JSON
parsing and model validation happen once, here, for every route; the endpoint receives a
`Ctx` and returns a dict (sent as JSON) or a Response. The one cursor-pagination helper
lives here too: `PageParams.from_query()` and `page_body()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import auth
from .clock import parse_iso
from .errors import PayloadTooLarge, Unprocessable, invalid
from .ids import is_id
from .jsonio import MAX_JSON_DEPTH, json_depth

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .emulator import Emulator

Endpoint = Callable[["Ctx"], Awaitable[Any]]
_BODYLESS = {"GET", "HEAD", "DELETE", "OPTIONS"}
_TOO_DEEP = object()

# Pydantic puts union member tags into error locations; they are not field names.
_TYPE_TAGS = {"str", "int", "float", "bool", "dict", "list", "none", "function-after", "function-before",
              "constrained-str", "json-or-python[json=list[str],python=chain[is-instance[list],function-plain]]"}


@dataclass
class Ctx:
    """What an endpoint needs: the request, the emulator, the caller's tenant, the body."""

    request: Request
    emu: "Emulator"
    key: str | None
    tenant: str
    body: Any

    @property
    def params(self) -> dict[str, str]:
        return self.request.path_params

    @property
    def query(self):
        return self.request.query_params

    @property
    def sdk(self) -> bool:
        """Whether to answer in the SDK's dialect where the two cannot share one body."""
        dialect = self.emu.settings.dialect
        return dialect == "sdk" or (dialect == "auto" and "x-sdk-version" in self.request.headers)

    def now_ms(self) -> int:
        return self.emu.clock.now_ms()

    def now_iso(self) -> str:
        return self.emu.clock.now_iso()


class ApiRoute(Route):
    """A Route that knows its body model and whether it is public (for OpenAPI and sweeps)."""

    def __init__(self, path: str, endpoint: Endpoint, *, methods: Sequence[str], name: str,
                 body: type[BaseModel] | None, public: bool, status: int, summary: str,
                 max_body: int | None = None) -> None:
        self.api_endpoint = endpoint
        self.body_model = body
        self.max_body = max_body  # None: the API's limit (settings.max_body_bytes)
        self.public = public
        self.success_status = status
        self.summary = summary
        # Body fields the journal and cassettes redact ("*": every value of the body).
        self.secret_fields: tuple[str, ...] = getattr(body, "SECRET_FIELDS", ())
        super().__init__(path, self._handle, methods=list(methods), name=name)

    async def _handle(self, request: Request) -> Response:
        emu = request.app.state.emu
        key, tenant = (None, "public") if self.public else auth.authenticate(request.headers.get("authorization"))
        ctx = Ctx(request, emu, key, tenant, None)
        for guard in emu.guards:
            await guard(ctx, self)
        limit = self.max_body or emu.settings.max_body_bytes
        if self.body_model is not None:
            ctx.body = await read_model(request, self.body_model, limit)
        elif request.method not in _BODYLESS:
            # Still refuse an oversized body; the raw bytes are the body of a model-less route.
            ctx.body = await read_raw(request, limit)
        result = await self.api_endpoint(ctx)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=self.success_status)


def api_route(path: str, endpoint: Endpoint, method: str = "GET", *, body: type[BaseModel] | None = None,
              public: bool = False, status: int = 200, max_body: int | None = None) -> ApiRoute:
    """Declare a route; its name is the endpoint's name, its summary the docstring."""
    summary = (endpoint.__doc__ or "").strip().splitlines()[0] if endpoint.__doc__ else endpoint.__name__
    return ApiRoute(path, endpoint, methods=[method], name=endpoint.__name__, body=body, public=public,
                    status=status, summary=summary, max_body=max_body)


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
    """The body as a JSON object; an empty body reads as {} (the SDK sends body-less POSTs)."""
    raw = await read_raw(request, limit)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable("Malformed JSON in request body.",
                            [{"field": "body", "message": str(exc)[:200]}]) from None
    except RecursionError:
        value = _TOO_DEEP  # nested past the parser's limit: refused just below, like any deep body
    if value is _TOO_DEEP or json_depth(value) > MAX_JSON_DEPTH:
        raise Unprocessable(f"Request body is nested more than {MAX_JSON_DEPTH} levels deep.",
                            [{"field": "body", "message": f"at most {MAX_JSON_DEPTH} levels of nesting"}])
    if not isinstance(value, dict):
        raise Unprocessable("Request body must be a JSON object.",
                            [{"field": "body", "message": f"expected an object, got {type(value).__name__}"}])
    return value


async def read_model(request: Request, model: type[BaseModel], limit: int) -> BaseModel:
    return validate(model, await read_json(request, limit))


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """Validate with the model, turning its errors into the 422 envelope's details."""
    from pydantic import ValidationError  # loaded with the first family that has a model

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": _field_path(err["loc"]), "message": err["msg"], "type": err["type"]}
                   for err in exc.errors(include_url=False)]
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


# ---- paging ----

@dataclass(frozen=True)
class PageParams:
    limit: int
    after: str | None

    @classmethod
    def from_query(cls, ctx: Ctx, prefix: str, default: int = 25, maximum: int = 100) -> "PageParams":
        """`limit` 1..maximum and an opaque `cursor` that must be one this list handed out."""
        limit = query_int(ctx, "limit", default, 1, maximum)
        cursor = ctx.query.get("cursor") or None
        after = None
        if cursor is not None:
            head, _, after = cursor.partition("_")
            if head != "cur" or not is_id(after, prefix):
                raise invalid("cursor", "unknown or malformed cursor; pass the nextCursor of the previous page")
        return cls(limit, after)


def page_body(rows: list[dict], page: PageParams, serialize: Callable[[dict], dict]) -> dict[str, Any]:
    """`{data, nextCursor, cursor, hasMore}`: the reference's and the SDK's names, one value."""
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = f"cur_{rows[-1]['id']}" if has_more else None
    return {"data": [serialize(r) for r in rows], "nextCursor": cursor, "cursor": cursor, "hasMore": has_more}


def list_answer(ctx: Ctx, page: dict[str, Any]) -> Any:
    """A list in the caller's dialect: the SDK's bare array, or the reference's envelope
    (the one place where the two cannot share a body; DESIGN.md, "Dialect")."""
    return page["data"] if ctx.sdk else page


def respond(body: Any, status: int = 200) -> JSONResponse:
    """A JSON answer with a status chosen at run time (most routes declare theirs)."""
    return JSONResponse(body, status_code=status)
