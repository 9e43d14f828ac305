"""The one error envelope, and the exceptions that produce it.

Failures are raised, never returned: an endpoint raises an `ApiError` subclass and the
handlers registered in app.py render `{"error": {code, message, details?, requestId},
"requestId"}` (the SDK reads the top-level copy). Router 404/405 and unexpected
exceptions go through the same renderer, so no plain-text body or traceback ever reaches
a client. Codes and statuses are the reference's "Error codes" table.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match

from .catalog import known

log = logging.getLogger("theazo_emu")


class ApiError(Exception):
    """An error with a documented code; `status` and `code` are separate on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"No {kind} with id '{ident}'.", {"resource": kind, "id": ident})


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "unprocessable_entity"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class SessionLimitExceeded(ApiError):
    status, code = 402, "session_limit_exceeded"


class ProviderError(ApiError):
    status, code = 502, "provider_error"


class Timeout(ApiError):
    status, code = 504, "timeout"


class InternalError(ApiError):
    status, code = 500, "internal_error"


def invalid(field: str, message: str) -> Unprocessable:
    """A 422 for one field, in the same `details` shape as model validation."""
    return Unprocessable(f"Invalid value for '{field}': {message}", [{"field": field, "message": message}])


def request_id_of(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


def render(request: Request, status: int, code: str, message: str, details: Any = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = request_id_of(request)
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    error["requestId"] = request_id
    headers = {**(headers or {}), "X-Request-Id": request_id}
    return JSONResponse({"error": error, "requestId": request_id}, status_code=status, headers=headers)


async def handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return render(request, exc.status, exc.code, exc.message, exc.details, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        endpoint = known(request.method, request.url.path)
        if endpoint:
            return render(request, 501, "not_implemented",
                          f"theazo-emu does not emulate {request.method} {endpoint} yet; see the README's "
                          "'Not emulated (yet)' list.", {"endpoint": f"{request.method} {endpoint}"})
    if exc.status_code == 405:
        return render(request, 405, "method_not_allowed", f"Method {request.method} is not allowed on "
                      f"{request.url.path}.", headers=_allow(request, dict(exc.headers or {})))
    if exc.status_code == 404:
        return render(request, 404, "not_found", f"No route for {request.method} {request.url.path}.")
    return render(request, exc.status_code, "http_error", str(exc.detail))


def _allow(request: Request, headers: dict[str, str]) -> dict[str, str]:
    """`Allow` naming every method served on the path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return {**headers, "Allow": ", ".join(sorted(methods))} if methods else headers


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s (%s)", request.method, request.url.path, request_id_of(request))
    return render(request, 500, "internal_error", "Unexpected server error. The requestId helps with support.")


HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
