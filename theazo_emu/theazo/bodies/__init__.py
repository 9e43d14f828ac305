"""Request bodies, declared once as pydantic models, one module per API family.

Each model both validates its route's body (422 with field-level details) and supplies
the JSON Schema that /v1/openapi.json serves. Shared pieces (`Body`, `Cost`, durations,
user ids) live in `core`.
"""

from theazo_emu.theazo.bodies.core import *  # noqa: F401,F403
