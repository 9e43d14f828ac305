"""Theo's own errors: a status and one of Theo's codes (theo-api.md §3.5).

The kernel's neutral errors (validation, not found, 413, ...) are mapped to Theo's codes by
the surface (`surfaces/theo.GENERIC`); a `TheoError` carries a code of its own that no
mapping changes: `empty_prompt`, `insufficient_credits`, `token_limit_exceeded`, a
fixture's scripted `guardrail_violation`, ...
"""

from __future__ import annotations

from theazo_emu.core.errors import ApiError


class TheoError(ApiError):
    """An error with an explicit status and Theo code (rendered as is by the Theo surface)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, None, headers)
        self.status, self.code = status, code


def bad_request(code: str, message: str) -> TheoError:
    return TheoError(400, code, message)


def invalid(field: str, message: str) -> TheoError:
    """400 `validation_error` naming one field (Theo's envelope has no details)."""
    return TheoError(400, "validation_error", f"Invalid '{field}': {message}")


# Theo's error `type` by status (theo-api.md §3.5); 5xx are `api_error`.
TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "invalid_request_error",
         403: "permission_error", 404: "not_found_error", 405: "invalid_request_error", 409: "invalid_request_error",
         413: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error"}


def error_body(status: int, code: str, message: str, request_id: str | None) -> dict:
    """The one envelope: `{"error": {message, type, code, request_id}}` (responses and stream events)."""
    kind = TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code, "request_id": request_id}}
