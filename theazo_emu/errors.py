"""The errors every surface shares, and the handlers that render them in a surface's envelope.

Failures are raised, never returned: an endpoint (or the kernel: bad JSON, validation, 413,
429) raises an `ApiError`, and the handlers of the surface the request is on render it. A
kernel error carries a `kind` ("validation", "not_found", ...) that each surface maps to its
own status and code (`Surface.generic`): the same malformed body is Theazo's 422
`unprocessable_entity` and Theo's 400 `validation_error`. Errors without a kind (Theazo's
`SessionLimitExceeded`, say) render with their own status and code. `details` is raised
as a list of field problems or as an object; `details_object` is how a surface that
promises an object (Theazo) spells both. Router 404/405 and
unexpected exceptions go through the same renderer, so no plain-text body or traceback
ever reaches a client; a catalogued endpoint that is not served answers 501.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from .catalog import known

if TYPE_CHECKING:
    from .surface import Surface

log = logging.getLogger("theazo_emu")
_PARAM = re.compile(r":\w+")  # a catalogue's path parameter
_TEMPLATE = re.compile(r"\{[^}]+\}")  # a route's


class ApiError(Exception):
    """An error with a documented code; `status` and `code` are separate on purpose."""

    status = 500
    code = "internal_error"
    kind: str | None = None  # what a surface may map to its own status and code

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    after: Callable[[], Any] | None = None  # see settle

    def settle(self) -> None:
        """What the refusal itself records, written after the request's own writes roll back
        (an audit entry, a guardrail's violation): `after`, when one is set."""
        if self.after is not None:
            self.after()


class Unauthorized(ApiError):
    status, code, kind = 401, "unauthorized", "unauthorized"


class Forbidden(ApiError):
    status, code, kind = 403, "forbidden", "forbidden"


class NotFound(ApiError):
    status, code, kind = 404, "not_found", "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"No {kind} with id '{ident}'.", {"resource": kind, "id": ident})


class Conflict(ApiError):
    status, code, kind = 409, "conflict", "conflict"


class PayloadTooLarge(ApiError):
    status, code, kind = 413, "payload_too_large", "too_large"


class Unprocessable(ApiError):
    status, code, kind = 422, "unprocessable_entity", "validation"


class RateLimited(ApiError):
    status, code, kind = 429, "rate_limited", "rate_limited"


class SessionLimitExceeded(ApiError):
    status, code = 402, "session_limit_exceeded"


class ProviderError(ApiError):
    status, code, kind = 502, "provider_error", "upstream"


class Timeout(ApiError):
    status, code, kind = 504, "timeout", "timeout"


class RestartRequired(ApiError):
    status, code = 503, "restart_required"

    def __init__(self) -> None:
        super().__init__("theazo-emu's files changed on disk since this server started (a reinstall or an "
                         "upgrade?); restart `theazo-emu serve` to load them.")


class InternalError(ApiError):
    status, code, kind = 500, "internal_error", "internal"


def invalid(field: str, message: str) -> Unprocessable:
    """A validation error for one field, in the same `details` shape as model validation."""
    return Unprocessable(f"Invalid value for '{field}': {message}",
                         [{"field": field, "message": message, "type": "value_error"}])


def details_object(details: Any) -> dict[str, Any] | None:
    """`details` as the JSON object the envelope promises (the SDK types it
    `Record<string, unknown>`): field-level problems, raised as a list, go under `fields`,
    each with its `field`, `message` and `type`; any other value under `value`."""
    if details is None or isinstance(details, dict):
        return details
    if isinstance(details, list):
        return {"fields": [{"type": "value_error", **item} if isinstance(item, dict) else
                           {"field": "body", "message": str(item), "type": "value_error"} for item in details]}
    return {"value": details}


def request_id_of(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


def handlers(surface: "Surface", routes: Callable[[], Sequence[BaseRoute]]) -> dict[Any, Callable]:
    """The exception handlers of one surface's Mount; `routes` lists its routes (for `Allow`)."""

    def render(request: Request, kind: str | None, status: int, code: str, message: str, details: Any = None,
               headers: dict[str, str] | None = None) -> Response:
        if kind is not None and kind in surface.generic:
            status, code = surface.generic[kind]
        return surface.render_error(request_id_of(request), status, code, message, details, headers or {})

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return render(request, exc.kind, exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.scope["path"]
        if exc.status_code in (404, 405) and surface.catalog:
            endpoint = known(surface.catalog, request.method, path)
            if endpoint and not _serves(routes(), request.method, endpoint):
                return render(request, "not_implemented", 501, "not_implemented",
                              f"theazo-emu does not emulate {request.method} {endpoint} yet; see the README's "
                              "'Not emulated (yet)' list.", {"endpoint": f"{request.method} {endpoint}"})
        if exc.status_code == 405:
            return render(request, "method_not_allowed", 405, "method_not_allowed",
                          f"Method {request.method} is not allowed on {path}.",
                          headers=_allow(request, routes(), dict(exc.headers or {})))
        if exc.status_code == 404:
            return render(request, "not_found", 404, "not_found", f"No route for {request.method} {path}.")
        return render(request, None, exc.status_code, "http_error", str(exc.detail))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s (%s)", request.method, request.scope["path"], request_id_of(request))
        return render(request, "internal", 500, "internal_error",
                      "Unexpected server error. The requestId helps with support.")

    return {ApiError: api_error, HTTPException: http_exception, Exception: unexpected}


def _serves(routes: Sequence[BaseRoute], method: str, endpoint: str) -> bool:
    """Whether a route serves the catalogue's `METHOD /path/:param` (a request for it that no
    route matched had an id no route takes, a CR or LF say: that is a 404, not a 501)."""
    wanted = _PARAM.sub(":", endpoint)
    return any(method in (getattr(route, "methods", None) or ())
               and _TEMPLATE.sub(":", getattr(route, "path", "")) == wanted for route in routes)


def _allow(request: Request, routes: Sequence[BaseRoute], headers: dict[str, str]) -> dict[str, str]:
    """`Allow` naming every method served on the path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return {**headers, "Allow": ", ".join(sorted(methods))} if methods else headers
