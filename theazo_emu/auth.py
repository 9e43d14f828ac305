"""Bearer keys and tenants (DESIGN.md, "API keys and tenants").

Every distinct test key is its own tenant, accepted without registration; the tenant id is
a digest of the key, so the key itself is never stored. Theazo takes `th_test_` keys and
refuses `th_live_` ones with 403: the emulator never touches real accounts. Theo takes
`theo_sk_test_` keys (and the keys created through its /keys routes). Each surface decides
which of these it accepts (surfaces/); this module only knows their shapes. Public routes
skip authentication entirely; a route is public only when it is declared so.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from .errors import Forbidden, Unauthorized

_THEAZO_TEST = re.compile(r"^th_test_[\x21-\x7e]{1,500}$")
THEAZO_LIVE = "th_live_"
_THEO_TEST = re.compile(r"^theo_sk_test_[\x21-\x7e]{1,500}$")
THEO_PREFIX = "theo_sk_"


@lru_cache(maxsize=4096)
def tenant_of(key: str) -> str:
    """The tenant id for a key: stable, and not the key."""
    return "tn_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def theazo_key(header: str | None) -> tuple[str, str]:
    """(key, tenant) for a Theazo Authorization header, or the documented 401/403."""
    token = bearer_token(header)
    if token is None:
        raise Unauthorized("Missing or invalid API key. Send 'Authorization: Bearer th_test_...'.")
    if token.startswith(THEAZO_LIVE):
        raise Forbidden("theazo-emu only takes test keys (th_test_...); live keys (th_live_...) are refused "
                        "so that nothing here can reach a real account.")
    if not _THEAZO_TEST.match(token):
        raise Unauthorized("Invalid API key: expected a test key of the form th_test_<anything>.")
    return token, tenant_of(token)


def is_theo_test_key(token: str) -> bool:
    return bool(_THEO_TEST.match(token))


def tenant_hint(header: str | None) -> str:
    """The tenant a request claims, before validation; used only to number request ids."""
    token = bearer_token(header)
    return tenant_of(token) if token else "public"
