"""The Theazo API, one module per resource family; `routes` joins their route lists."""

from . import agents, sessions, usage

routes = [*sessions.routes, *agents.routes, *usage.routes]
