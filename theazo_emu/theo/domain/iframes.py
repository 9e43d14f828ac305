"""Embeddable widgets (iframes): a chat widget a site frames, speaking with one API key.
Owns theo_iframes.

theo-api.md §1.2: a widget names one of the tenant's keys (`api_key_id`), has a `name`
("My Widget" by default), free-form `appearance` and `behavior` objects, and `security`
{requireTurnstile, allowedOrigins}. Its `embed_snippet` is an `<iframe>` of the emulator's
own embed page (GET /api/v1/embed/iframes/:id), so the snippet works as pasted. A preview
token is `<expires_ms>.<hex HMAC>` (signing.url_signature over the widget id, under the
seed and the tenant) valid for 15 minutes of virtual time; it opens the embed page whatever
the widget's state. Verifying runs the checks of `checks`: the widget is active, its key is
one of the tenant's and not revoked, every allowed origin is https (plain http only on
localhost), and the key's own allowed origins (when it lists any) admit the widget's.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from theazo_emu.core import signing
from theazo_emu.core.clock import iso
from theazo_emu.theo.domain import keys

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "theo_iframes", "widget"
DEFAULT_NAME = "My Widget"
MAX_NAME = 200  # the longest name a body may give (models: Name)
COPY_SUFFIX = " (copy)"
STATUSES = ("active", "paused")
PREVIEW_TTL_MS = 15 * 60_000
SERVING = ("status", "api_key")  # the checks the embed page needs passed
_LOCAL_HOSTS = ("localhost", "127.0.0.1")


def embed_url(base: str, ident: str) -> str:
    return f"{base}/api/v1/embed/iframes/{ident}"


def snippet(base: str, row: dict[str, Any]) -> str:
    """The HTML a site pastes: an iframe of the emulator's embed page."""
    return (f'<iframe src="{escape(embed_url(base, row["id"]))}" title="{escape(row["name"])}" width="400" '
            'height="600" style="border:0" allow="clipboard-write" loading="lazy"></iframe>')


def config_to_api(base: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "iframe_config", "name": row["name"], "status": row["status"],
            "api_key_id": row["api_key_id"], "appearance": row["appearance"], "behavior": row["behavior"],
            "security": row["security"], "embed_url": embed_url(base, row["id"]),
            "embed_snippet": snippet(base, row), "verified_at": row["verified_at"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


def copy_name(name: str) -> str:
    """`<name> (copy)`, the name cut so the whole stays within MAX_NAME."""
    return name[:MAX_NAME - len(COPY_SUFFIX)] + COPY_SUFFIX


def active_key(store: "Scoped", key_id: str) -> dict[str, Any] | None:
    """The tenant's key with this id when it is not revoked, else None."""
    return store.find(keys.TABLE, "id = ? AND revoked_at IS NULL", [key_id])


def _purpose(row: dict[str, Any]) -> str:
    return f"iframe-preview|{row['id']}"  # never the same signed text as another family's URL


def preview_token(t: "Tenant", row: dict[str, Any]) -> tuple[str, int]:
    """A fresh preview token of the widget and its expiry (epoch ms, virtual clock)."""
    expires = t.now_ms() + PREVIEW_TTL_MS
    return f"{expires}.{signing.url_signature(t.settings.seed, t.name, _purpose(row), expires)}", expires


def preview_problem(t: "Tenant", row: dict[str, Any], token: str) -> str | None:
    """Why a preview token does not open this widget, or None when it does."""
    expires, _, signature = token.partition(".")
    if not expires.isdigit() or len(expires) > 15 or not signing.url_signature_ok(
            t.settings.seed, t.name, _purpose(row), int(expires), signature):
        return "The preview token is missing or does not match this widget."
    if t.now_ms() > int(expires):
        return (f"The preview token expired at {iso(int(expires))} (virtual clock); "
                "POST /api/v1/iframes/:id/preview-token for a new one.")
    return None


def _origin_ok(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme == "https" or (parts.hostname or "") in _LOCAL_HOSTS


def checks(store: "Scoped", row: dict[str, Any]) -> list[dict[str, Any]]:
    """What verifying a widget finds: each check {name, passed, detail}."""
    key = store.find(keys.TABLE, "id = ?", [row["api_key_id"]])
    origins = row["security"]["allowedOrigins"]
    insecure = [origin for origin in origins if not _origin_ok(origin)]
    key_origins = (key or {}).get("allowed_origins") or []
    refused = [origin for origin in origins if key_origins and origin not in key_origins]

    def check(name: str, passed: bool, ok: str, problem: str) -> dict[str, Any]:
        return {"name": name, "passed": passed, "detail": ok if passed else problem}

    return [
        check("status", row["status"] == "active", "The widget is active.",
              "The widget is paused: PATCH its status to active to serve it."),
        check("api_key", key is not None and not key["revoked_at"], "Its API key is active.",
              f"Its API key {row['api_key_id']} was deleted." if key is None
              else f"Its API key {row['api_key_id']} is revoked."),
        check("allowed_origins", not insecure,
              "Every allowed origin uses https." if origins else "No origin is listed: any site may frame it.",
              f"Origins must use https (plain http only on localhost): {', '.join(insecure)}."),
        check("key_origins", not refused, "Its API key admits the widget's origins.",
              f"Its API key's allowed_origins do not list {', '.join(refused)}, so browsers there are refused."),
    ]


def serving_problems(store: "Scoped", row: dict[str, Any]) -> list[str]:
    """Why the embed page will not serve the widget without a preview token: it is paused, or
    its key is gone or revoked (its origins are the browser's to enforce, by the CSP)."""
    return [check["detail"] for check in checks(store, row) if check["name"] in SERVING and not check["passed"]]


def page(row: dict[str, Any], preview: bool) -> str:
    """The embed page: the widget as the emulator shows it (no model behind it here)."""
    security = row["security"]
    return ("<!doctype html><meta charset=utf-8>"
            f"<title>{escape(row['name'])} - Theo widget (emulated)</title>"
            "<body style='font-family:system-ui;margin:1rem'>"
            f"<h1>{escape(row['name'])}</h1>"
            f"<p>Widget {escape(row['id'])}{' (preview)' if preview else ''}; status {escape(row['status'])}.</p>"
            f"<p>Turnstile {'required' if security['requireTurnstile'] else 'not required'} "
            "(the emulator shows no challenge).</p>"
            f"<pre>{escape(json.dumps({'appearance': row['appearance'], 'behavior': row['behavior']}, indent=2))}"
            "</pre><p>The emulator runs no chat here: this stands in for the widget.</p></body>")


def frame_ancestors(row: dict[str, Any]) -> str:
    """The CSP that lets only the allowed origins frame the widget (any, when none is listed)."""
    return "frame-ancestors " + (" ".join(row["security"]["allowedOrigins"]) or "*")
