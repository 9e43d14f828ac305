"""The emulator-local URLs of exposed agent ports (POST /v1/agents/:id/ports answers them).

The sandbox is mocked, so nothing listens behind a port: its URL answers a description of
the exposure while the agent lives, and 404 once it is terminated or for a port never
exposed. Like a channel's id, the URL itself is the credential (no key).
"""

from __future__ import annotations

from theazo_emu.core.errors import NotFound
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.domain import agent_io


async def exposed_port(ctx: Ctx) -> dict:
    """What answers at an exposed port's URL: the exposure, while its agent lives."""
    agent_id, raw = ctx.params["agent_id"], ctx.params["port"]
    row = agent_io.exposed(ctx.emu.store, agent_id, int(raw)) if raw.isdigit() and len(raw) <= 5 else None
    if row is None or row["status"] == "terminated":
        raise NotFound("exposed port", f"{agent_id}:{raw}")
    return {"agentId": row["agent_id"], "port": row["port"], "exposedAt": row["created_at"],
            "message": "theazo-emu mocks the sandbox: nothing listens on this port."}


routes = [
    api_route("/_emu/agents/{agent_id}/ports/{port}", exposed_port, public=True),
]
