"""Prefixed, time-ordered, reproducible ids: ses_, agt_, task_, req_, cur_, ...

An id is the prefix, then 26 Crockford base32 characters like a ULID: 10 for the
virtual-clock millisecond, 6 for a per-tenant sequence number, 10 for a digest of
(seed, tenant, sequence). Sorting ids sorts by creation, and the same seed, clock and
request sequence per tenant give the same ids whatever other tenants do meanwhile.
The sequence for resource ids lives in the store (it must survive restarts); request
ids use an in-memory sequence, since nothing is stored under them.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> 2 characters


@lru_cache(maxsize=64)
def _instant(ms: int) -> str:
    """An id's first 10 characters, the instant's 50 bits; ids made at one instant share them."""
    return "".join([_PAIRS[(ms >> shift) & 1023] for shift in (40, 30, 20, 10, 0)])


class IdSource:
    """Makes ids from the seed; holds only the request-id counters."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._request_seq: dict[str, int] = {}

    def make(self, prefix: str, tenant: str, now_ms: int, seq: int) -> str:
        digest = hashlib.blake2b(f"{self.seed}|{tenant}|{prefix}|{seq}".encode(), digest_size=8).digest()
        noise = int.from_bytes(digest, "big") >> 14
        # Then 3 pairs of characters for seq and 5 for noise, written out: ids are on the hot path.
        seq, p = seq % (1 << 30), _PAIRS
        return (f"{prefix}_{_instant(now_ms % (1 << 50))}{p[seq >> 20]}{p[seq >> 10 & 1023]}{p[seq & 1023]}"
                f"{p[noise >> 40]}{p[noise >> 30 & 1023]}{p[noise >> 20 & 1023]}"
                f"{p[noise >> 10 & 1023]}{p[noise & 1023]}")

    def request_id(self, tenant: str, now_ms: int) -> str:
        seq = self._request_seq.get(tenant, 0) + 1
        self._request_seq[tenant] = seq
        return self.make("req", tenant, now_ms, seq)

    def reset_requests(self) -> None:
        self._request_seq.clear()


def digest_id(prefix: str, text: str) -> str:
    """An id-shaped name for something that has no row (a tenant, an unregistered key): a
    digest of `text`, stable and not reversible, spelled like an id so replay maps it as one."""
    number = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=17).digest(), "big") >> 6
    return f"{prefix}_" + "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(26)))


def is_id(value: str, prefix: str) -> bool:
    """True when `value` has the shape of an id with this prefix."""
    head, _, body = value.partition("_")
    return head == prefix and bool(_BODY.match(body))
