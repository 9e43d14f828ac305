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

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> 2 characters


def _b32(value: int) -> str:
    """26 Crockford characters for a 130-bit value, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


class IdSource:
    """Makes ids from the seed; holds only the request-id counters."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._request_seq: dict[str, int] = {}

    def make(self, prefix: str, tenant: str, now_ms: int, seq: int) -> str:
        digest = hashlib.blake2b(f"{self.seed}|{tenant}|{prefix}|{seq}".encode(), digest_size=8).digest()
        noise = int.from_bytes(digest, "big") >> 14
        return f"{prefix}_{_b32((now_ms % (1 << 50)) << 80 | (seq % (1 << 30)) << 50 | noise)}"

    def request_id(self, tenant: str, now_ms: int) -> str:
        seq = self._request_seq.get(tenant, 0) + 1
        self._request_seq[tenant] = seq
        return self.make("req", tenant, now_ms, seq)

    def reset_requests(self) -> None:
        self._request_seq.clear()


def is_id(value: str, prefix: str) -> bool:
    """True when `value` has the shape of an id with this prefix."""
    head, _, body = value.partition("_")
    return head == prefix and bool(_BODY.match(body))
