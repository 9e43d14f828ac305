"""HMAC-SHA256 signatures: trigger and webhook bodies, and signed file URLs (reference
"Triggers"; DESIGN "Persistence and safety").

A trigger's (or a webhook endpoint's) signing secret is `whsec_` + 48 hex characters
derived by HMAC from the seed, the tenant and its id (so the same requests give the same
bytes), then sealed by emu.cipher in the store. A Theazo webhook delivery is signed the same
way a trigger fire is (`sign`); a Theo one covers its timestamp too (`sign_timestamped`:
`v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`). A signed file URL carries
`url_signature`, an HMAC of the file id and the expiry instant under a key derived from the
seed and the tenant. A fire carries `X-Theazo-Signature: sha256=<hex>` (or the SDK
example's `X-Trigger-Signature`, with or without `sha256=`): the hex HMAC-SHA256 of the raw
body keyed with the whole secret string. Comparison is constant time (hmac.compare_digest);
anything but exactly 64 hex digits fails before it. Secrets are never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_HEADERS = ("x-theazo-signature", "x-trigger-signature")
SECRET_PREFIX = "whsec_"
_PREFIX = "sha256="
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def derive_secret(seed: int, tenant: str, ident: str, kind: str = "trigger") -> str:
    """The signing secret of a trigger or webhook endpoint (`kind`): deterministic for a seed,
    unguessable without the id and tenant."""
    key = f"theazo-emu|{kind}-secret|{seed}".encode()
    mac = hmac.new(key, f"{tenant}|{ident}".encode(), hashlib.sha256)
    return SECRET_PREFIX + mac.hexdigest()[:48]


def url_signature(seed: int, tenant: str, ident: str, expires_ms: int) -> str:
    """The `signature` of a signed URL for `ident` valid until `expires_ms` (hex HMAC-SHA256)."""
    key = hmac.new(f"theazo-emu|url-key|{seed}".encode(), tenant.encode(), hashlib.sha256).digest()
    return hmac.new(key, f"{ident}|{expires_ms}".encode(), hashlib.sha256).hexdigest()


def url_signature_ok(seed: int, tenant: str, ident: str, expires_ms: int, signature: str) -> bool:
    """Whether `signature` is the one url_signature makes (constant-time comparison)."""
    if not _HEX64.fullmatch(signature):
        return False
    return hmac.compare_digest(url_signature(seed, tenant, ident, expires_ms), signature.lower())


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`: `sha256=<hex>`."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, timestamp: int, body: bytes) -> str:
    """The Theo-Webhook-Signature value: `v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    return "v1=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is a valid signature of `body` (constant-time comparison)."""
    if not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() == _PREFIX:
        value = value[len(_PREFIX):]
    if not _HEX64.fullmatch(value):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, value.lower())


def signature_header(headers) -> str | None:  # noqa: ANN001 - any case-insensitive mapping
    """The first signature header present (X-Theazo-Signature wins over X-Trigger-Signature)."""
    for name in SIGNATURE_HEADERS:
        if name in headers:
            return headers[name]
    return None
