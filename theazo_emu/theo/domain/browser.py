"""Browser sessions on the virtual clock. Owns theo_browser_sessions.

theo-api.md §1.1. A session starts at creation (navigated to `url` when given) in a region
(us-west-2 by default) and expires 20 minutes later; with `keep_alive` every read of it
(GET, live) pushes that back to 20 minutes after the read. A tenant may hold
MAX_CONCURRENT live sessions (429 `browser_session_limit` past that). An ended or expired
session is gone (404 `session_not_found`). Its embed URL is a page of this emulator
(`/api/v1/embed/browser/:id?token=`), the token signed and valid for an hour of virtual
time; GET /:id mints a fresh one. `live` answers the open pages; `force=1` bumps
`live_view_version`. Ending answers its duration and cost (COST_CENTS_PER_MINUTE per
started minute, booked in the ledger by the endpoint).
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from theazo_emu.core import signing
from theazo_emu.core.clock import iso

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE = "theo_browser_sessions"
REGIONS = ("us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1")
LIFETIME_MS = 20 * 60_000
EMBED_TTL_MS = 3_600_000
MAX_CONCURRENT = 3
COST_CENTS_PER_MINUTE = 1


def live(store: "Scoped", now: int) -> list[dict[str, Any]]:
    """The tenant's sessions neither ended nor expired, newest first."""
    return store.rows(TABLE, "ended_ms IS NULL AND expires_ms > ?", [now], order="id DESC")


def find(store: "Scoped", ident: str, now: int) -> dict[str, Any] | None:
    return store.find(TABLE, "id = ? AND ended_ms IS NULL AND expires_ms > ?", [ident, now])


def _page(url: str | None) -> dict[str, Any]:
    target = url or "about:blank"
    host = urlsplit(target).hostname or ""
    return {"id": "page_" + hashlib.sha256(target.encode()).hexdigest()[:12], "url": target,
            "title": host or "New Tab", "favicon_url": f"https://{host}/favicon.ico" if host else None}


def create(t: "Tenant", url: str | None, region: str, keep_alive: bool,
           proxies: bool) -> dict[str, Any]:
    now = t.now_ms()
    row = {"id": t.new_id("bb_sess"), "url": url, "region": region, "keep_alive": int(keep_alive),
           "proxies": int(proxies), "live_view_version": 1, "started_ms": now, "expires_ms": now + LIFETIME_MS,
           "last_active_ms": now, "ended_ms": None, "pages": [_page(url)], "created_at": iso(now)}
    t.store.insert(TABLE, row)
    return {**row, "tenant": t.name}


def touch(t: "Tenant", row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A read of the session: keep_alive moves its expiry to 20 minutes from now."""
    now = t.now_ms()
    changes["last_active_ms"] = now
    if row["keep_alive"]:
        changes["expires_ms"] = now + LIFETIME_MS
    t.store.update(TABLE, row["id"], changes)
    return {**row, **changes}


def embed_url(t: "Tenant", base: str, row: dict[str, Any]) -> tuple[str, int]:
    expires = t.now_ms() + EMBED_TTL_MS
    token = f"{expires}.{signing.url_signature(t.settings.seed, t.name, row['id'], expires)}"
    return f"{base}/api/v1/embed/browser/{row['id']}?token={token}", expires


def token_ok(t: "Tenant", row: dict[str, Any], token: str) -> str | None:
    """Why an embed token does not open this session, or None when it does."""
    expires, _, signature = token.partition(".")
    if not expires.isdigit() or len(expires) > 15 or not signing.url_signature_ok(
            t.settings.seed, t.name, row["id"], int(expires), signature):
        return "The embed token is missing or does not match."
    if t.now_ms() > int(expires):
        return f"The embed token expired at {iso(int(expires))} (virtual clock); GET the session for a new one."
    return None


def session_to_api(t: "Tenant", base: str, row: dict[str, Any]) -> dict[str, Any]:
    url, expires = embed_url(t, base, row)
    page = row["pages"][-1] if row["pages"] else _page(None)
    return {"session_id": row["id"], "live_view_url": f"{url}&view=live", "live_view_version": row["live_view_version"],
            "embed_url": url, "embed_token_expires_at": iso(expires), "region": row["region"],
            "keep_alive": bool(row["keep_alive"]), "proxies": bool(row["proxies"]),
            "started_at": iso(row["started_ms"]), "expires_at": iso(row["expires_ms"]),
            "current_url": page["url"], "current_title": page["title"], "favicon_url": page["favicon_url"],
            "last_active_at": iso(row["last_active_ms"])}


def end(t: "Tenant", row: dict[str, Any]) -> dict[str, Any]:
    now = t.now_ms()
    t.store.update(TABLE, row["id"], {"ended_ms": now})
    seconds = max(0, (now - row["started_ms"]) // 1000)
    minutes = max(1, math.ceil(seconds / 60))
    return {"session_id": row["id"], "duration_seconds": seconds, "proxy_bytes": 0,
            "cost_cents": minutes * COST_CENTS_PER_MINUTE * (2 if row["proxies"] else 1)}
