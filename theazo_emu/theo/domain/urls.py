"""Which URLs Theo will call or open: the SSRF check of webhook and browser URLs.

theo-api.md §1.3 and §1.1: webhook URLs must be https and are SSRF-checked (private
addresses, cloud metadata hosts and non-http schemes are refused); a browser session's
start URL is refused the same way (400 `url_blocked`). The emulator checks the URL as
written, without resolving names (no network look-up, so the answer is deterministic):
IP literals in private, loopback, link-local, reserved or multicast ranges, `localhost`
and `*.localhost`, `*.internal`, `*.local` and the metadata host names are refused.
`serve --allow-private-webhooks` lifts the check (and the https rule) for webhooks, so a
receiver on loopback can be used; browser URLs still take http or https only.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal"})
_PRIVATE_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain")


def blocked(url: str, *, require_https: bool, allow_private: bool) -> str | None:
    """Why the URL is refused, or None when it may be called."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an absolute http(s) URL"
    if allow_private:
        return None
    if require_https and parts.scheme != "https":
        return "must use https (serve --allow-private-webhooks also allows http)"
    if host in METADATA_HOSTS or host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        return f"points at a private or metadata host ({host})"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None) or address
    if (mapped.is_private or mapped.is_loopback or mapped.is_link_local or mapped.is_reserved
            or mapped.is_multicast or mapped.is_unspecified):
        return f"points at a private address ({host})"
    return None
