"""Workflows as the other families use them: loading one, and starting a run of it.

sdk-compat §3 "theazo.workflows". `start_workflow_run()` is how every path starts a run (the
API, schedules and triggers): the latest version, idempotent on an idempotency key per
workflow, its input checked against the `inputSchema` subset every client expects, in the
given session or the user's. Execution is workflow/engine.py's; the routes are
theazo/routes/workflows.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.errors import Unprocessable, invalid
from theazo_emu.theazo.domain.sessions import require_active, user_session
from theazo_emu.theazo.domain.workflow import engine

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, RUNS = "workflows", "workflow_runs"


_JSON_TYPES = {"string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,), "object": (dict,),
               "array": (list,), "null": (type(None),)}


def load_workflow(t: "Tenant", workflow_id: str) -> dict:
    return t.store.get(TABLE, workflow_id, "workflow")


def _check_input(schema: dict | None, input_: dict) -> None:
    """The JSON Schema subset every client expects: `required` and top-level property types."""
    if not isinstance(schema, dict):
        return
    details = [{"field": f"input.{name}", "message": "required by the workflow's inputSchema"}
               for name in schema.get("required") or () if isinstance(name, str) and name not in input_]
    for name, prop in (schema.get("properties") or {}).items():
        kinds = prop.get("type") if isinstance(prop, dict) else None
        kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
        allowed = tuple(t for k in kinds for t in _JSON_TYPES.get(k, ()))
        value = input_.get(name)
        if name in input_ and allowed and not (isinstance(value, allowed) and not (
                isinstance(value, bool) and bool not in allowed)):
            details.append({"field": f"input.{name}", "message": f"must be of type {' or '.join(kinds)}"})
    if details:
        raise Unprocessable(f"Input does not match the workflow's inputSchema: "
                            f"{', '.join(d['field'] for d in details)}.", details)


def start_workflow_run(t: "Tenant", workflow_id: str, *, user_id: str | None,
                       session_id: str | None = None, input: Any = None,  # noqa: A002
                       idempotency_key: str | None = None) -> dict:
    """Start a run of the workflow's latest version (or return the run an idempotency key
    already made); used by the API, schedules and triggers. Returns the run row."""
    return start(t, workflow_id, user_id, session_id, input, idempotency_key)[0]


def start(t: "Tenant", workflow_id: str, user_id: str | None, session_id: str | None,
          input: Any, idempotency_key: str | None) -> tuple[dict, bool]:  # noqa: A002
    """start_workflow_run, also saying whether the run is new (False: the idempotency key's run)."""
    workflow = load_workflow(t, workflow_id)
    if idempotency_key is not None:
        existing = t.store.find(RUNS, "workflow_id = ? AND idempotency_key = ?", [workflow_id, idempotency_key],
                                order=None)
        if existing is not None:
            return existing, False
    input_ = input if input is not None else {}
    if not isinstance(input_, dict):
        input_ = {"value": input_}  # a trigger's body may be any JSON value
    _check_input(workflow["wf_spec"].get("inputSchema"), input_)
    if session_id is not None:
        session = t.store.get("sessions", session_id, "session")
        if user_id is not None and session["user_id"] != user_id:
            raise invalid("sessionId", f"session {session_id} belongs to another user than '{user_id}'")
    else:
        assert user_id is not None
        session, _ = user_session(t, user_id)
    require_active(session, t.now_ms())
    return engine.create_run(t, workflow, session, input_, idempotency_key), True
