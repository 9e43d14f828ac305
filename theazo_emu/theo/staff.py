"""The admin controls that decide what a person at Theo would, so every documented event
can reach a test's webhook receiver (the `theazo-emu theo` commands call them).

`POST /_emu/theo/submissions/:id/decision {key, decision, reason?}` approves or rejects a
`pending_review` submission (staff or security tier: skill.approved or skill.rejected) or
suspends an approved one's skill (skill.suspended). `POST
/_emu/theo/rate-limit-requests/:id/decision {key, decision}` approves a pending increase
(the key gets the tier it asked for; rate_limit.upgraded) or denies it. Connectors have no
documented route, so they are made here: `POST /_emu/theo/connectors {key, name, type?,
status?}` (connector.created), `POST /_emu/theo/connectors/:id/status {key, status, reason?}`
(connector.status_changed), `GET /_emu/theo/connectors?key=`. A decision a submission's or
request's state does not allow is 409; an id of another tenant is 404.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.auth import tenant_of
from theazo_emu.core.errors import Conflict, NotFound
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.core.tenant import Tenant
from theazo_emu.theo.admin import admin_key
from theazo_emu.theo.bodies.staff import ConnectorStatus, IncreaseDecision, NewConnector, SubmissionDecision
from theazo_emu.theo.domain import account, connectors, skills
from theazo_emu.theo.domain.ratelimit import TIERS, limiter

# What each decision needs the submission to be, and what it does.
_NEEDS = {"approve": "pending_review", "reject": "pending_review", "suspend": "approved"}


def _row(t: Tenant, table: str, kind: str, ident: str) -> dict[str, Any]:
    row = t.store.find(table, "id = ?", [ident])
    if row is None:
        raise NotFound(kind, ident)
    return row


async def decide_submission(ctx: Ctx) -> dict:
    """Approve, reject or suspend a skill submission, as Theo's reviewers would."""
    body: SubmissionDecision = ctx.body
    t = ctx.emu.tenant(tenant_of(body.key))
    row = _row(t, skills.SUBMISSIONS, "skill submission", ctx.params["submission_id"])
    if row["status"] != _NEEDS[body.decision]:
        raise Conflict(f"Submission {row['id']} is {row['status']}: only a {_NEEDS[body.decision]} one can be "
                       f"{'suspended' if body.decision == 'suspend' else body.decision + 'd'}.")
    with t.store.atomic():
        if body.decision == "approve":
            row = skills.publish(t, row)
        elif body.decision == "reject":
            row = skills.reject(t, row, body.reason)
        else:
            row = skills.suspend(t, row, body.reason)
    return {"submission": skills.submission_to_api(row)}


async def decide_increase(ctx: Ctx) -> dict:
    """Approve (the key gets the tier it asked for) or deny a rate-limit increase request."""
    body: IncreaseDecision = ctx.body
    t = ctx.emu.tenant(tenant_of(body.key))
    row = _row(t, account.RATE_REQUESTS, "rate-limit increase request", ctx.params["request_id"])
    if row["status"] != "pending":
        raise Conflict(f"Request {row['id']} is already {row['status']}.")
    with t.store.atomic():
        row = account.decide_increase(t, row, body.decision == "approve")
    if body.decision == "approve":
        limiter(ctx.emu).per_key[body.key] = TIERS[row["requested_tier"]]
    return {"request": account.increase_to_api(row)}


async def list_connectors(ctx: Ctx) -> dict:
    """A key's tenant's connectors, oldest first."""
    t = ctx.emu.tenant(tenant_of(admin_key(ctx)))
    return {"data": [connectors.connector_to_api(row) for row in t.store.rows(connectors.TABLE, order="id")]}


async def create_connector(ctx: Ctx) -> dict:
    """Link a connector to a key's tenant (connector.created)."""
    body: NewConnector = ctx.body
    t = ctx.emu.tenant(tenant_of(body.key))
    with t.store.atomic():
        row = connectors.create(t, body.name, body.type, body.status)
    return {"connector": connectors.connector_to_api(row)}


async def connector_status(ctx: Ctx) -> dict:
    """Change a connector's status (connector.status_changed when it changes)."""
    body: ConnectorStatus = ctx.body
    t = ctx.emu.tenant(tenant_of(body.key))
    row = _row(t, connectors.TABLE, "connector", ctx.params["connector_id"])
    with t.store.atomic():
        row = connectors.set_status(t, row, body.status, body.reason)
    return {"connector": connectors.connector_to_api(row)}


routes = [
    api_route("/_emu/theo/submissions/{submission_id}/decision", decide_submission, "POST", body=SubmissionDecision,
              public=True),
    api_route("/_emu/theo/rate-limit-requests/{request_id}/decision", decide_increase, "POST",
              body=IncreaseDecision, public=True),
    api_route("/_emu/theo/connectors", list_connectors, public=True, query=("key",)),
    api_route("/_emu/theo/connectors", create_connector, "POST", body=NewConnector, status=201, public=True),
    api_route("/_emu/theo/connectors/{connector_id}/status", connector_status, "POST", body=ConnectorStatus,
              public=True),
]
