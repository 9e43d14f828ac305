"""Triggers: signed webhooks that start an agent or workflow run (reference "Triggers").

Owns the triggers table and /v1/triggers, including the public `POST /:id/fire`. The
answer to create carries the absolute fire URL (from the request's base URL) and the
`whsec_` signing secret as both `signingSecret` (reference) and `secret` (SDK); the secret
is shown only then and stored sealed (signing.py). A fire is checked in this order: trigger
exists (404, nothing else revealed), signature (401), body is JSON (422); only then does the
action run (actions.py), with the parsed body as its input. Deleted triggers are 404.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core import jsonio, signing
from theazo_emu.core.crypto import associated_data
from theazo_emu.core.errors import Unauthorized, Unprocessable
from theazo_emu.core.http import PAGE, Ctx, api_route, public_row, respond
from theazo_emu.theazo.bodies.orchestration import CreateTrigger, stored_action
from theazo_emu.theazo.domain import actions
from theazo_emu.theazo.surface import list_answer, list_page

TABLE, KIND = "triggers", "trigger"


# Lists never show the signing secret; the SDK types Trigger.secret as a string, so it is masked.
MASKED_SECRET = "whsec_********"


def trigger_to_api(row: dict, base_url: str) -> dict[str, Any]:
    """The union of the reference's Trigger and the SDK's (`agent`, `userId`, a masked `secret`)."""
    action, config = row["action"], row["action"]["config"]
    return {
        "id": row["id"], "name": row["name"], "type": row["type"], "url": f"{base_url}/v1/triggers/{row['id']}/fire",
        "action": action, "agent": actions.agent_ref(action) or config.get("workflowId"),
        "workflowId": config.get("workflowId"), "userId": actions.user_of(action, actions.TRIGGER_USER),
        "secret": MASKED_SECRET, "metadata": row["metadata"] or {}, "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _base_url(ctx: Ctx) -> str:
    return str(ctx.request.base_url).rstrip("/")


def _aad(tenant: str, trigger_id: str) -> bytes:
    return associated_data(tenant, "trigger-secret", trigger_id)


async def create_trigger(ctx: Ctx) -> dict:
    """Create a trigger; the only answer that shows its signing secret."""
    body: CreateTrigger = ctx.body
    emu, tenant = ctx.emu, ctx.tenant
    action = actions.normalize(stored_action(body.action), body.agent, body.userId)
    actions.check(ctx.t, action)
    now = ctx.now_iso()
    with ctx.store.atomic():
        trigger_id = emu.new_id("trg", tenant)
        secret = signing.derive_secret(emu.settings.seed, tenant, trigger_id)
        sealed = emu.cipher.seal(secret.encode(), _aad(tenant, trigger_id))
        row = ctx.store.insert(TABLE, {
            "id": trigger_id, "name": body.name, "type": body.type, "action": action,
            "metadata": body.metadata or {}, "secret_sealed": sealed,
            "created_at": now, "updated_at": now,
        })
    return trigger_to_api(row, _base_url(ctx)) | {"signingSecret": secret, "secret": secret}


async def list_triggers(ctx: Ctx) -> Any:
    """List triggers, newest first (secrets are never listed)."""
    base = _base_url(ctx)
    return list_answer(ctx, list_page(ctx, TABLE, None, "trg", lambda r: trigger_to_api(r, base)))


async def delete_trigger(ctx: Ctx) -> dict:
    """Delete a trigger; its URL answers 404 from now on."""
    row = ctx.store.get(TABLE, ctx.params["trigger_id"], KIND)
    ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"ok": True, "id": row["id"], "deleted": True}


async def fire_trigger(ctx: Ctx) -> Any:
    """Public: verify the HMAC signature of the raw body, then run the action with it as input."""
    raw: bytes = ctx.body or b""
    emu, trigger_id = ctx.emu, ctx.params["trigger_id"]
    row = public_row(ctx, TABLE, trigger_id, KIND)
    secret = emu.cipher.open(row["secret_sealed"], _aad(row["tenant"], row["id"])).decode()
    if not signing.verify(secret, raw, signing.signature_header(ctx.request.headers)):
        raise Unauthorized("Missing or invalid signature. Send 'X-Theazo-Signature: sha256=<hex HMAC-SHA256 of the "
                           "raw body, keyed with the trigger's signing secret>'.")
    payload = _parse(raw)
    started = actions.run(emu.tenant(row["tenant"]), row["action"], default_user=actions.TRIGGER_USER,
                          fallback_task=f"Triggered run: {row['name']}", input_=payload)
    return respond(started.to_api() | {"triggerId": row["id"]}, 202)


def _parse(raw: bytes) -> Any:
    """Any JSON value, by the door's strict decoder; anything else (an empty body too) is 422."""
    try:
        return jsonio.loads(raw)
    except jsonio.JsonRejected as exc:
        message = "empty body" if not raw.strip() else exc.reason
        raise Unprocessable("The trigger body must be JSON (it becomes the action's input).",
                            [{"field": exc.field, "message": message, "type": "json_invalid"}]) from None


routes = [
    api_route("/v1/triggers", create_trigger, "POST", body=CreateTrigger, status=201),
    api_route("/v1/triggers", list_triggers, query=PAGE),
    api_route("/v1/triggers/{trigger_id}", delete_trigger, "DELETE"),
    api_route("/v1/triggers/{trigger_id}/fire", fire_trigger, "POST", public=True, status=202),
]
