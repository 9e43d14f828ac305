"""The errors every surface shares, and the handlers that render them in a surface's envelope.

Failures are raised, never returned: an endpoint (or the kernel: bad JSON, validation, 413,
429) raises an `ApiError`, and `render()` puts it in the envelope of the surface the request
is on. A kernel error carries a `kind` ("validation", "not_found", ...) that each surface maps
to its own status and code (`Surface.generic`): the same malformed body is Theazo's 422
`unprocessable_entity` and Theo's 400 `validation_error`. Errors without a kind (Theazo's
`SessionLimitExceeded`, say) render with their own status and code. `details` is raised
as a list of field problems or as an object; `details_object` is how a surface that
promises an object (Theazo) spells both. A request no route takes (`no_route`: 404, 405,
or 501 for a catalogued endpoint not served yet) and an unexpected exception (`unexpected`)
go through the same renderer, so no plain-text body or traceback ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Mapping, Protocol, Sequence

from starlette.responses import Response
from starlette.types import Scope

from theazo_emu.core.catalog import known

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


class RouteNotFound(ApiError):
    status, code, kind = 404, "not_found", "not_found"


class MethodNotAllowed(ApiError):
    status, code, kind = 405, "method_not_allowed", "method_not_allowed"


class NotImplementedYet(ApiError):
    status, code, kind = 501, "not_implemented", "not_implemented"


class Envelope(Protocol):
    """What rendering an error needs of the surface a request is on (core/surface.Surface)."""

    @property
    def render_error(self) -> Callable[[str, int, str, str, Any, dict[str, str]], Response]: ...

    @property
    def generic(self) -> Mapping[str, tuple[int, str]]: ...

    @property
    def catalog(self) -> str | None: ...


def request_id_of(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "")


def render(surface: Envelope, scope: Scope, exc: ApiError) -> Response:
    """The error in the surface's envelope; a kernel error's kind takes the surface's code."""
    status, code = on(surface, exc)
    return surface.render_error(request_id_of(scope), status, code, exc.message, exc.details, exc.headers)


def on(surface: Envelope, error: ApiError | type[ApiError]) -> tuple[int, str]:
    """The status and code an error (or a class of them) answers with on `surface`."""
    if error.kind is not None and error.kind in surface.generic:
        return surface.generic[error.kind]
    return error.status, error.code


def unexpected(surface: Envelope, scope: Scope, exc: BaseException) -> Response:
    """A bug: logged with its traceback, answered as the surface's 500 (never a traceback)."""
    log.error("unexpected error on %s %s (%s)", scope.get("method"), scope.get("path"), request_id_of(scope),
              exc_info=exc)
    return render(surface, scope, InternalError("Unexpected server error. The requestId helps with support."))


def is_unique_violation(exc: BaseException) -> bool:
    return str(exc).startswith("UNIQUE constraint failed")


def taken(exc: BaseException) -> "Conflict":
    """A write that a unique index refused (a name or slug taken that the endpoint did not
    check first): the surface's 409, logged as the gap it is, never a 500."""
    log.warning("a unique index refused a write the endpoint did not check: %s", exc)
    return Conflict("This conflicts with an existing record: a value that must be unique is already taken.")


def no_route(surface: Envelope, scope: Scope, allowed: set[str], routes: Sequence[Any] = ()) -> ApiError:
    """Why nothing answers this request: a catalogued endpoint not emulated yet (501), a wrong
    method (405 naming every method served on the path), or no such route (404)."""
    method, path = scope["method"], scope["path"]
    endpoint = known(surface.catalog, method, path) if surface.catalog else None
    if endpoint and not _serves(routes, method, endpoint):
        return NotImplementedYet(f"theazo-emu does not emulate {method} {endpoint} yet; see docs/not-emulated.md, the "
                                 "'Not emulated (yet)' list.", {"endpoint": f"{method} {endpoint}"})
    if allowed:
        return MethodNotAllowed(f"Method {method} is not allowed on {path}.",
                                headers={"Allow": ", ".join(sorted(allowed))})
    return RouteNotFound(f"No route for {method} {path}.")


def _serves(routes: Sequence[Any], method: str, endpoint: str) -> bool:
    """Whether a route serves the catalogue's `METHOD /path/:param` (a request for it that no
    route matched had an id no route takes, a CR or LF say: that is a 404, not a 501)."""
    wanted = _PARAM.sub(":", endpoint)
    return any(method in (getattr(route, "methods", None) or ())
               and _TEMPLATE.sub(":", getattr(route, "path", "")) == wanted for route in routes)
