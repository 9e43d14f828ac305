"""The Theazo API, one module per resource family; `routes` joins their route lists."""

from . import agent_definitions, agents, billing, channels, providers, schedules, secrets, sessions, triggers, usage
from . import approvals, fleets, workflows

routes = [*sessions.routes, *agents.routes, *usage.routes, *secrets.routes, *providers.routes, *agent_definitions.routes, *billing.routes,
          *schedules.routes, *triggers.routes, *channels.routes,
          *workflows.routes, *approvals.routes, *fleets.routes]
