"""The one registry of API families: each declared once, with its tables and timers.

A family is a module of routes (its `routes` list) on one surface. Its entry names the
tables it owns that hold tenant data and the `timers.TimerSource`s it brings, each as
(the table that holds a row once something can be due, "module:Class"). Everything else
derives from here: the route table data/routes.txt (`python -m theazo_emu.regen`), the
lazy timers, the tables a reset or an export walks. Order matters twice: families are
matched in the order listed, and timers registered earlier fire first on a tie.

This module is data only: it imports nothing of the project, so the kernel may read it
while no family is loaded. Adding a family is one line here (README, "Adding a family").
"""

from __future__ import annotations

from typing import NamedTuple


class Family(NamedTuple):  # a NamedTuple, not a dataclass: this module is on the start-up path
    module: str
    tables: tuple[str, ...] = ()
    timers: tuple[tuple[str, str], ...] = ()


def _theazo(name: str, *tables: str, timers: tuple[tuple[str, str], ...] = ()) -> Family:
    return Family(f"theazo_emu.resources.{name}", tables, timers)


THEAZO = (
    _theazo("sessions", "sessions"),
    _theazo("agents", "agents", "runs"),
    _theazo("agent_files", "agent_files"),
    _theazo("checkpoints", "checkpoints", "checkpoint_files"),
    _theazo("usage", "ledger"),
    _theazo("secrets", "secrets"),
    _theazo("providers", "providers"),
    _theazo("agent_definitions", "agent_definitions", "agent_definition_versions"),
    _theazo("billing"),
    _theazo("schedules", "schedules", "schedule_executions",
            timers=(("schedules", "theazo_emu.domain.scheduler:ScheduleTimer"),)),
    _theazo("triggers", "triggers"),
    _theazo("channels", "channels", "channel_threads", "channel_messages"),
    _theazo("workflows", "workflows", "workflow_runs", "workflow_tasks", "orch_events",
            timers=(("workflow_runs", "theazo_emu.workflow.timers:WorkflowTimer"),)),
    _theazo("approvals", "approvals", timers=(("approvals", "theazo_emu.workflow.timers:ApprovalTimer"),)),
    _theazo("fleets", "fleets", "fleet_items", timers=(("fleet_items", "theazo_emu.domain.fleets:FleetTimer"),)),
)
ADMIN = tuple(Family(f"theazo_emu.admin.{name}") for name in ("control", "state", "fixtures", "record", "inspector"))
THEO: tuple[Family, ...] = ()
# Tenant tables of the kernel itself (the per-tenant id counters).
KERNEL_TABLES = ("counters",)

FAMILIES = (*THEAZO, *ADMIN, *THEO)
TIMERS = tuple(timer for family in FAMILIES for timer in family.timers)
TENANT_TABLES = (*(table for family in FAMILIES for table in family.tables), *KERNEL_TABLES)
