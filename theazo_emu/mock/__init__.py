"""The mock engine: where run outcomes and exec results come from (no model, no compute)."""

from .engine import Engine, PlannedEvent, RunPlan, RunRequest
from .execution import ExecResult

__all__ = ["Engine", "ExecResult", "PlannedEvent", "RunPlan", "RunRequest"]
