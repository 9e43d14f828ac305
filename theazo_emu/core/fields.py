"""Field checks both products' request bodies share: text that can be stored and sent, and
the http(s) URLs the emulator sends requests (or redirects) to."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, and nothing a request could not be sent to."""
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port  # both raise ValueError on a malformed authority
    except ValueError:
        raise ValueError("must be an absolute http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host or re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError("must be an absolute http(s) URL")
    return value


# A URL the emulator sends requests to, or redirects to (webhooks, tool handlers, checkout).
HttpUrl = Annotated[str, Field(max_length=2000), AfterValidator(check_http_url)]


def check_text(value: str) -> str:
    """Text that can be stored and sent: no lone UTF-16 surrogates (JSON escapes can make them)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value
