"""Input to a running agent and its exposed ports (sdk-compat "Agent instance": `agent.send`,
`agent.ports.expose`).

`send` answers 202 with the input, `delivered` into the run in flight (an `input` event on
the agent's stream at this instant) or `queued` for the agent's next run when it is idle.
`ports` answers the port's emulator-local `url` (201 the first time, 200 after). A
terminated agent or a stopped session is 409. The mechanics are domain/agent_io.py's.
"""

from __future__ import annotations

from theazo_emu.core.http import Ctx, api_route, respond
from theazo_emu.theazo.bodies.agent_io import ExposePort, SendInput
from theazo_emu.theazo.domain import agent_io
from theazo_emu.theazo.domain.agents import require_usable


def _load(ctx: Ctx) -> dict:
    return ctx.store.get("agents", ctx.params["agent_id"], "agent")


async def send_input(ctx: Ctx) -> dict:
    """Send input to the agent: into its run in flight, else queued for its next run."""
    body: SendInput = ctx.body
    agent = _load(ctx)
    require_usable(ctx.t, agent)
    return agent_io.input_to_api(agent_io.send(ctx.t, agent, body.type, body.content, body.metadata))


async def expose_port(ctx: Ctx) -> object:
    """Expose a port of the agent's sandbox: its emulator-local URL."""
    body: ExposePort = ctx.body
    agent = _load(ctx)
    require_usable(ctx.t, agent)
    row, created = agent_io.expose(ctx.t, agent, body.port)
    url = str(ctx.request.base_url).rstrip("/") + agent_io.port_path(agent["id"], body.port)
    return respond({"url": url, "port": row["port"], "agentId": agent["id"], "createdAt": row["created_at"]},
                   201 if created else 200)


routes = [
    api_route("/v1/agents/{agent_id}/send", send_input, "POST", body=SendInput, status=202),
    api_route("/v1/agents/{agent_id}/ports", expose_port, "POST", body=ExposePort, status=201, also=(200,)),
]
