"""Webhooks: `theazo.webhooks` (create, list, test, delete); deliveries are core/delivery.py.

Owns the webhooks table. An endpoint has a URL, the events it wants (domain/events.py) and
a `whsec_` signing secret, derived from the seed (signing.derive_secret) and sealed at
rest. Unlike a trigger's, the secret is answered on list too: the SDK's Webhook type has
it, and it is what a receiver needs to check signatures. The list is a bare array for SDK
requests. `POST /:id/test` sends a `webhook.test` event to that endpoint now and answers
how the first attempt went (it is retried like any delivery). Deleting an endpoint drops
its pending deliveries.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core import delivery, outbound, signing
from theazo_emu.core.http import PAGE, Ctx, api_route
from theazo_emu.theazo.bodies.webhooks import CreateWebhook
from theazo_emu.theazo.domain import webhooks
from theazo_emu.theazo.domain.events import TEST, Event
from theazo_emu.theazo.surface import list_answer, list_page

TABLE, KIND = webhooks.ENDPOINTS, "webhook"


def webhook_to_api(ctx: Ctx, row: dict) -> dict[str, Any]:
    """The SDK's Webhook (with its secret), plus updatedAt."""
    secret = ctx.emu.cipher.open(row["secret_sealed"], webhooks.secret_aad(row["tenant"], row["id"])).decode()
    return {"id": row["id"], "url": row["url"], "secret": secret, "events": row["events"],
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


async def create_webhook(ctx: Ctx) -> dict:
    """Register an endpoint for events; deliveries are signed with the answered `secret`."""
    body: CreateWebhook = ctx.body
    emu, tenant, now = ctx.emu, ctx.tenant, ctx.now_iso()
    with ctx.store.atomic():
        webhook_id = emu.new_id("wh", tenant)
        secret = signing.derive_secret(emu.settings.seed, tenant, webhook_id, "webhook")
        row = ctx.store.insert(TABLE, {
            "id": webhook_id, "url": body.url, "events": body.events,
            "secret_sealed": emu.cipher.seal(secret.encode(), webhooks.secret_aad(tenant, webhook_id)),
            "created_at": now, "updated_at": now,
        })
    return webhook_to_api(ctx, {**row, "tenant": tenant})


async def list_webhooks(ctx: Ctx) -> Any:
    """Endpoints, newest first."""
    return list_answer(ctx, list_page(ctx, TABLE, None, "wh", lambda row: webhook_to_api(ctx, row)))


async def send_test_webhook(ctx: Ctx) -> dict:
    """Send a `webhook.test` event to the endpoint now; answers how the first attempt went."""
    row = ctx.store.get(TABLE, ctx.params["webhook_id"], KIND)
    now = ctx.now_ms()
    event = Event(TEST, {"webhookId": row["id"], "message": "A test delivery from theazo-emu."}, now)
    with ctx.store.atomic():
        (queued,) = webhooks.enqueue(ctx.t, [event], only=row["id"], send_now=False)
        request, attempt = delivery.attempt_request(ctx.emu, webhooks.DELIVERY, queued)
    outcome = await outbound.http_call(request)
    entry = delivery.settle(ctx.emu, webhooks.DELIVERY, queued["id"], attempt, outcome) or {}
    return {"deliveryId": queued["id"], "eventId": queued["event_id"], "event": TEST,
            "delivered": entry.get("outcome") == "delivered", "responseStatus": entry.get("responseStatus"),
            "error": entry.get("error"), "nextAttemptAt": entry.get("nextAttemptAt")}


async def delete_webhook(ctx: Ctx) -> dict:
    """Delete an endpoint; its pending deliveries are dropped."""
    row = ctx.store.get(TABLE, ctx.params["webhook_id"], KIND)
    with ctx.store.atomic():
        ctx.store.delete(webhooks.TABLE, "webhook_id = ?", [row["id"]])
        ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"id": row["id"], "deleted": True}


routes = [
    api_route("/v1/webhooks", create_webhook, "POST", body=CreateWebhook, status=201),
    api_route("/v1/webhooks", list_webhooks, query=PAGE),
    api_route("/v1/webhooks/{webhook_id}/test", send_test_webhook, "POST"),
    api_route("/v1/webhooks/{webhook_id}", delete_webhook, "DELETE"),
]
