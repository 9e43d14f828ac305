"""Webhooks: /api/v1/webhooks and their test, deliveries, retry, secret rotation and stats.

theo-api.md §1.3, §3.7; deliveries go out through core/delivery.py as theo/domain/webhooks.py
declares. POST answers 201 with the record and its `signing_secret` (shown only then, and on
rotate; sealed at rest). URLs are SSRF-checked (400 `url_blocked`; `serve
--allow-private-webhooks` allows loopback and http). PATCH answers `{updated: true}`, DELETE
`{deleted: true}` (its deliveries go too). `test` sends a `completion.created` event with
`data._test: true` to that endpoint now and answers once its first attempt settled.
Deliveries are the log of the last 50 attempts, newest first; `retry` takes any attempt's id
and sends its stored payload again, as a new delivery, to the current URL with the current
secret. Another tenant's id is 404.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core import delivery, outbound
from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.api import NoBody
from theazo_emu.theo.bodies.platform import CreateWebhook, UpdateWebhook
from theazo_emu.theo.domain import urls
from theazo_emu.theo.domain import webhooks as hooks
from theazo_emu.theo.domain.errors import TheoError

SHOWN_ONCE = ("signing_secret", "signingSecret")  # never kept, not even for an Idempotency-Key replay
NOTE = "Store the signing secret now: it is shown only once. Verify deliveries with the Theo-Webhook-Signature header."


def _check_url(ctx: Ctx, url: str) -> None:
    reason = urls.blocked(url, require_https=True, allow_private=ctx.emu.settings.allow_private_webhooks)
    if reason:
        raise TheoError(400, "url_blocked", f"The webhook URL {reason}.")


def _webhook(ctx: Ctx) -> dict[str, Any]:
    return ctx.store.get(hooks.ENDPOINTS, ctx.params["webhook_id"], hooks.KIND)


async def list_webhooks(ctx: Ctx) -> dict:
    """This tenant's webhooks, newest first (never their secrets)."""
    rows = ctx.store.rows(hooks.ENDPOINTS, order="seq DESC")
    return {"webhooks": [hooks.webhook_to_api(row) for row in rows]}


async def create_webhook(ctx: Ctx) -> dict:
    """Register a URL for events; the signing secret is in this answer only."""
    body: CreateWebhook = ctx.body
    _check_url(ctx, body.url)
    if hooks.active_count(ctx.store) >= hooks.MAX_ACTIVE:
        raise Conflict(f"A tenant may have at most {hooks.MAX_ACTIVE} active webhooks; delete or disable one first.")
    with ctx.store.atomic():
        row, secret = hooks.create(ctx.t, url=body.url, event_types=body.event_types,
                                   secret=body.secret, description=body.description)
    return {**hooks.webhook_to_api(row), "signing_secret": secret, "signingSecret": secret, "_note": NOTE}


async def update_webhook(ctx: Ctx) -> dict:
    """Change a webhook's URL, event types, description, or turn it on or off."""
    body: UpdateWebhook = ctx.body
    row = _webhook(ctx)
    changes: dict[str, Any] = {name: getattr(body, name) for name in ("url", "event_types", "description")
                               if name in body.model_fields_set and getattr(body, name) is not None}
    if "description" in body.model_fields_set:
        changes["description"] = body.description
    if "url" in changes:
        _check_url(ctx, changes["url"])
    if body.enabled is not None:
        if body.enabled and not row["enabled"] and hooks.active_count(ctx.store) >= hooks.MAX_ACTIVE:
            raise Conflict(f"A tenant may have at most {hooks.MAX_ACTIVE} active webhooks.")
        changes["enabled"] = int(body.enabled)
        if body.enabled:
            changes["consecutive_failures"] = 0
    changes["updated_at"] = ctx.now_iso()
    ctx.store.update(hooks.ENDPOINTS, row["id"], changes)
    return {"updated": True, "id": row["id"]}


async def delete_webhook(ctx: Ctx) -> dict:
    """Delete a webhook and its delivery log."""
    row = _webhook(ctx)
    with ctx.store.atomic():
        ctx.store.delete(hooks.TABLE, "webhook_id = ?", [row["id"]])
        ctx.store.delete(hooks.ATTEMPTS, "webhook_id = ?", [row["id"]])
        ctx.store.delete(hooks.ENDPOINTS, "id = ?", [row["id"]])
    return {"deleted": True, "id": row["id"]}


async def test_webhook(ctx: Ctx) -> dict:
    """Send a test `completion.created` event to this webhook now."""
    row = _webhook(ctx)
    data = {"_test": True, "message": "A test delivery from theazo-emu.", "webhook_id": row["id"]}
    with ctx.store.atomic():
        event = {"id": ctx.t.new_id("evt"), "type": "completion.created", "created": ctx.now_iso(),
                 "data": data}
        (queued,) = hooks.enqueue(ctx.t, event, only=row["id"], send_now=False)
        request, attempt = delivery.attempt_request(ctx.emu, hooks.DELIVERY, queued)
    outcome = await outbound.http_call(request)
    entry = delivery.settle(ctx.emu, hooks.DELIVERY, queued["id"], attempt, outcome) or {}
    return {"sent": True, "delivery_id": queued["id"], "event_id": event["id"], "status": entry.get("outcome"),
            "http_status": entry.get("httpStatus"), "error_message": entry.get("error")}


async def list_deliveries(ctx: Ctx) -> dict:
    """The webhook's last 50 delivery attempts, newest first."""
    return {"deliveries": hooks.log(ctx.store, _webhook(ctx)["id"])}


async def retry_delivery(ctx: Ctx) -> dict:
    """Send a logged attempt's payload again, to the webhook's current URL with its current secret."""
    row = _webhook(ctx)
    attempt = ctx.store.find(hooks.ATTEMPTS, "id = ? AND webhook_id = ?", [ctx.params["delivery_id"], row["id"]])
    stored = attempt and ctx.store.find(hooks.TABLE, "id = ?", [attempt["delivery_id"]])
    if not stored:
        raise TheoError(404, "not_found", f"No delivery {ctx.params['delivery_id'][:100]!r} of this webhook.")
    with ctx.store.atomic():
        again = hooks.resend(ctx.t, stored)
    return {"retried": True, "delivery_id": again["id"], "original_delivery_id": attempt["id"]}


async def rotate_secret(ctx: Ctx) -> dict:
    """A new signing secret, shown once; the old one stops signing at once."""
    row = _webhook(ctx)
    with ctx.store.atomic():
        secret = hooks.rotate(ctx.t, row)
    return {"id": row["id"], "signing_secret": secret, "signingSecret": secret, "_note": NOTE}


async def webhook_stats(ctx: Ctx) -> dict:
    """Delivery totals and the success rate of a webhook."""
    return hooks.stats(ctx.store, _webhook(ctx))


routes = [
    api_route("/api/v1/webhooks", list_webhooks),
    api_route("/api/v1/webhooks", create_webhook, "POST", body=CreateWebhook, status=201, reveals=SHOWN_ONCE),
    api_route("/api/v1/webhooks/{webhook_id}", update_webhook, "PATCH", body=UpdateWebhook),
    api_route("/api/v1/webhooks/{webhook_id}", delete_webhook, "DELETE"),
    api_route("/api/v1/webhooks/{webhook_id}/test", test_webhook, "POST", body=NoBody),
    api_route("/api/v1/webhooks/{webhook_id}/deliveries", list_deliveries),
    api_route("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", retry_delivery, "POST",
              body=NoBody),
    api_route("/api/v1/webhooks/{webhook_id}/rotate-secret", rotate_secret, "POST", body=NoBody,
              reveals=SHOWN_ONCE),
    api_route("/api/v1/webhooks/{webhook_id}/stats", webhook_stats),
]
