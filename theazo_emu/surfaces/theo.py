"""The Theo surface (`/api/v1`): theo_sk_test_ keys and Theo's own envelope and codes.

theo-api.md §3.5: errors are `{"error": {message, type, code, request_id}}` with
`X-Request-Id`; the kernel's failures take Theo's codes (a malformed or invalid body is
400 `validation_error`, a bad key 401 `invalid_api_key`, an unexpected failure 500
`server_error`). A Theazo key here is a 401 in this envelope, as a Theo key is on /v1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from .. import registry
from ..auth import bearer_token, is_theo_test_key, tenant_of
from ..errors import Unauthorized
from ..http import Ctx, Json, api_route
from ..surface import Surface

if TYPE_CHECKING:
    from ..emulator import Emulator

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "invalid_request_error",
          403: "permission_error", 404: "not_found_error", 409: "invalid_request_error", 413: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error"}
GENERIC = {
    "validation": (400, "validation_error"), "unauthorized": (401, "invalid_api_key"),
    "forbidden": (403, "insufficient_scope"), "not_found": (404, "not_found"), "conflict": (409, "conflict"),
    "too_large": (413, "payload_too_large"), "method_not_allowed": (405, "method_not_allowed"),
    "rate_limited": (429, "rate_limit_exceeded"), "internal": (500, "server_error"),
    "upstream": (502, "server_error"), "timeout": (504, "server_error"), "not_implemented": (501, "not_implemented"),
}


def authenticate(emu: "Emulator", headers: Headers) -> tuple[str | None, str]:
    token = bearer_token(headers.get("authorization"))
    if token is None or not is_theo_test_key(token):
        raise Unauthorized("Invalid API key. Send 'Authorization: Bearer theo_sk_test_...'.")
    return token, tenant_of(token)


def render_error(request_id: str, status: int, code: str, message: str, details: Any,
                 headers: dict[str, str]) -> Json:
    kind = _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    error = {"message": message, "type": kind, "code": code, "request_id": request_id}
    return Json({"error": error}, status_code=status, headers={**headers, "X-Request-Id": request_id})


async def openapi_document(ctx: Ctx) -> dict:
    """The OpenAPI 3.1 description of every Theo route."""
    from .. import openapi

    return openapi.build(THEO)


THEO = Surface(
    name="theo", prefix="/api/v1", title="Theo API", families=registry.THEO,
    authenticate=authenticate, render_error=render_error, generic=GENERIC,
    guards=("rate_limit", "faults"), openapi="/api/v1/openapi.json",
    core=lambda: [api_route("/api/v1/openapi.json", openapi_document, public=True)],
)
