"""Bearer keys and tenants (DESIGN.md, "API keys and tenants").

Every distinct test key is its own tenant, accepted without registration; the tenant id is
a digest of the key, so the key itself is never stored. Theazo takes `th_test_` keys and
refuses `th_live_` ones with 403: the emulator never touches real accounts. Theo takes
`theo_sk_test_` keys (and the keys created through its /keys routes). Each surface decides
which of these it accepts (surfaces/); this module only knows their shapes. Public routes
skip authentication entirely; a route is public only when it is declared so. `KeyAliases`
gives keys readable names (key1, theo1, live1, bad1) for cassettes and the inspector.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

from theazo_emu.core.errors import Forbidden, Unauthorized

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


def key_kind(token: str) -> str:
    """What a bearer token is, whatever the surface: `key` (a Theazo test key), `theo` (a Theo
    key), `live` (a live key of either product) or `bad` (neither)."""
    if token.startswith(THEAZO_LIVE) or token.startswith("theo_sk_live_"):
        return "live"
    if _THEAZO_TEST.match(token):
        return "key"
    if token.startswith(THEO_PREFIX) and len(token) > len(THEO_PREFIX):
        return "theo"
    return "bad"


_NAME = re.compile(r"[a-z0-9_-]{1,16}")
_TEST_PREFIXES = ("th_test_", "theo_sk_test_")


class KeyName(NamedTuple):
    """How the inspector names a key without showing it: `alias` (key1), `hint` (the prefix and
    the last few characters: th_test_…ice) and `name`, the part a person chose, for test keys
    only (th_test_alice → alice; None for live and random-looking keys)."""

    alias: str
    hint: str
    name: str | None


def key_name_parts(token: str, kind: str) -> tuple[str, str | None]:
    """(hint, name) of a key. A test key's suffix is shown as its name when it reads as one a
    person typed: at most 16 lowercase letters, digits, `_` or `-`, with at most 4 digits (a
    generated key is longer or mixes cases and digits, and stays masked). Live keys never are."""
    prefix = next((p for p in ("th_test_", "theo_sk_test_", "th_live_", "theo_sk_") if token.startswith(p)), "")
    if kind == "bad" or not prefix:
        return "", None
    suffix = token[len(prefix):]
    shown = 4 if len(suffix) >= 8 else 3 if prefix in _TEST_PREFIXES and len(suffix) >= 4 else 0
    hint = f"{prefix}…{suffix[-shown:] if shown else ''}"
    named = prefix in _TEST_PREFIXES and _NAME.fullmatch(suffix) and sum(c.isdigit() for c in suffix) <= 4
    return hint, suffix if named else None


class KeyAliases:
    """Readable names for API keys, never the keys: `key1`, `key2`... for Theazo test keys in
    the order they are first seen, `theo1`... for Theo keys, `live1`, `bad1` for the rest.
    A cassette numbers its own (replay matches on them); the emulator keeps one for the
    inspector. Past `limit` distinct keys new ones get no alias (hostile traffic stays small)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._by_tenant: dict[str, KeyName] = {}
        self._counts: Counter[str] = Counter()

    def alias(self, header: str | None) -> str | None:
        """The alias of the key in an Authorization header value (None without one)."""
        if header is None:
            return None
        token = bearer_token(header)
        return self.note(token) if token is not None else self._add(tenant_of(header), "bad", "")

    def note(self, token: str, tenant: str | None = None) -> str | None:
        """The alias of a bare key, given one on first sight (`tenant`: its tenant_of, when
        the caller has it already)."""
        tenant = tenant or tenant_of(token)
        known = self._by_tenant.get(tenant)
        if known is not None:
            return known[0]
        kind = key_kind(token)
        return self._add(tenant, kind, *key_name_parts(token, kind))

    def _add(self, tenant: str, kind: str, hint: str, name: str | None = None) -> str | None:
        known = self._by_tenant.get(tenant)
        if known is not None:
            return known[0]
        if len(self._by_tenant) >= self.limit:
            return None
        self._counts[kind] += 1
        alias = f"{kind}{self._counts[kind]}"
        self._by_tenant[tenant] = KeyName(alias, hint, name)
        return alias

    def of_tenant(self, tenant: str) -> KeyName | None:
        """How to name a tenant whose key was seen: enough to recognise it, never the key."""
        return self._by_tenant.get(tenant)

    def clear(self) -> None:
        self._by_tenant.clear()
        self._counts.clear()
