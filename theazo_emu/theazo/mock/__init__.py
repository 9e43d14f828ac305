"""The mock engine: where run outcomes and exec results come from (no model, no compute)."""

from theazo_emu.theazo.mock.engine import Engine, PlannedEvent, RunPlan, RunRequest
from theazo_emu.theazo.mock.execution import ExecResult

__all__ = ["Engine", "ExecResult", "PlannedEvent", "RunPlan", "RunRequest"]
