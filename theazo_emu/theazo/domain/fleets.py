"""Fleets: the engine that runs one agent over many inputs, `concurrency` at a time
(sdk-compat "Fleet instance", reference "Fleets (additional)").

The one writer of `fleets` and `fleet_items` (the routes are theazo/routes/fleets.py). Each
item gets a fresh agent (agents.new_agent, start_run: limits and ledger as for any run),
terminated when its run ends; its task is the input as JSON (a string input is the task
itself). `advance()` harvests items whose run timeline ended and dispatches pending ones at
that same virtual instant, so no more than `concurrency` are ever running. `maxCost` stops
dispatching once the fleet's settled cost reaches it (`cost_limited`); `failurePolicy`
abort cancels the rest (`failed`), pause stops dispatching (`paused`; cancel ends it).
Never-dispatched items end as `cancelled`. `FleetTimer` wakes a fleet when an item's run ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso, parse_iso
from theazo_emu.core.errors import ApiError, SessionLimitExceeded
from theazo_emu.theazo.domain import orchestration, pricing

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

TABLE, ITEMS, KIND = "fleets", "fleet_items", "fleet"


ITEM_STATUSES = ("pending", "running", "completed", "failed", "cancelled")


TERMINAL_EVENTS = ("fleet:complete",)


def counts(t: "Tenant", fleet_id: str) -> dict[str, int]:
    rows = t.store.rows(ITEMS, "fleet_id = ?", [fleet_id], order=None, columns="status, COUNT(*) AS n", group="status")
    found = {r["status"]: r["n"] for r in rows}
    return {status: found.get(status, 0) for status in ITEM_STATUSES}


def fleet_to_api(t: "Tenant", row: dict) -> dict[str, Any]:
    tally = counts(t, row["id"])
    return {
        "id": row["id"], "status": row["status"], "total": row["total"], "totalItems": row["total"],
        "completed": tally["completed"], "failed": tally["failed"], "running": tally["running"],
        "pending": tally["pending"], "cancelled": tally["cancelled"], "cost": pricing.cost(row["total_cents"]),
        "concurrency": row["concurrency"], "failurePolicy": row["failure_policy"],
        "maxCost": pricing.cost(row["max_cents"]) if row["max_cents"] is not None else None,
        "agent": row["flt_agent"]["ref"], "sessionId": row["session_id"], "userId": row["user_id"],
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "completedAt": row["completed_at"],
    }


def item_to_api(item: dict) -> dict[str, Any]:
    duration = item["duration_ms"] or 0
    return {
        "itemIndex": item["item_index"], "index": item["item_index"], "input": item["flt_input"],
        "output": item["flt_output"], "cost": pricing.cost(item["cost_cents"]),
        "duration": pricing.duration_text(duration), "durationMs": duration, "status": item["status"],
        "agentId": item["agent_id"], "taskId": item["task_id"], "error": item["flt_error"],
        "startedAt": item["started_at"], "completedAt": item["completed_at"],
    }


def _item_event(item: dict, **extra: Any) -> dict[str, Any]:
    """Both shapes: the reference's {agentId, index, task|output, cost} and the SDK's
    FleetItemResult (`output` a string: empty until the item has one)."""
    body = {**item_to_api(item), "task": orchestration.task_text(item["flt_input"]), **extra}
    return body | {"output": ""} if body["output"] is None else body


class _Fleet:
    """One fleet, loaded: harvest, dispatch, and the events that go with them."""

    def __init__(self, t: "Tenant", row: dict) -> None:
        self.row, self.t = row, t
        self.now = self.t.now_ms()
        self.events: list[tuple[str, dict]] = []

    def items(self, status: str) -> list[dict]:
        return self.t.store.rows(ITEMS, "fleet_id = ? AND status = ?", [self.row["id"], status], order="item_index")

    def set_item(self, item: dict, **changes: Any) -> None:
        item.update(changes)
        self.t.store.update(ITEMS, item["id"], changes)

    def advance(self) -> None:
        """Harvest and refill until nothing changes at this instant (under `--pace instant`
        a dispatched item has already ended, so one call runs the whole fleet)."""
        while True:
            harvested = 0
            for item in self.items("running"):
                outcome = orchestration.task_outcome(self.t, item["task_id"])
                if outcome is not None:
                    self.finish(item, outcome)
                    harvested += 1
            if not self.dispatch() and not harvested:
                break
        self.close_if_done()
        self.save()

    def finish(self, item: dict, outcome: dict) -> None:
        orchestration.release(self.t, item["agent_id"])
        status = "failed" if outcome["error"] else "completed"
        self.set_item(item, status=status, flt_output=outcome["text"] if not outcome["error"] else None,
                      flt_error=outcome["error"], duration_ms=outcome["durationMs"], completed_at=iso(self.now))
        self.events.append(("agent:failed" if outcome["error"] else "agent:complete", _item_event(item)))
        if outcome["error"]:
            self.on_failure()

    def on_failure(self) -> None:
        policy = self.row["failure_policy"]
        if policy == "abort" and self.row["status"] == "running":
            self.row["status"] = "failed"
            self.stop("Cancelled because an item failed (failurePolicy abort).", running_too=True)
        elif policy == "pause" and self.row["status"] == "running":
            self.row["status"] = "paused"

    def dispatch(self) -> int:
        """Start pending items while there are free slots; returns how many it started."""
        running, started = len(self.items("running")), 0
        for item in self.items("pending"):
            if self.row["status"] != "running" or running >= self.row["concurrency"]:
                break
            cap = self.row["max_cents"]
            if cap is not None and self.row["total_cents"] >= cap:
                self.row["status"] = "cost_limited"
                self.stop(f"Not dispatched: the fleet reached its maxCost ({cap} cents).", running_too=False)
                break
            try:
                self.start(item)
                running, started = running + 1, started + 1
            except SessionLimitExceeded as exc:
                if running and (exc.details or {}).get("limit") == "maxAgents":
                    break  # wait for one of ours to finish and free an agent slot
                self.fail_item(item, exc)
            except ApiError as exc:
                self.fail_item(item, exc)
        return started

    def fail_item(self, item: dict, exc: ApiError) -> None:
        """An item that could not even start (limits, archived definition, stopped session)."""
        self.set_item(item, status="failed", flt_error={"code": exc.code, "message": exc.message},
                      started_at=iso(self.now), completed_at=iso(self.now), duration_ms=0)
        self.events.append(("agent:failed", _item_event(item)))
        self.on_failure()

    def start(self, item: dict) -> None:
        spec = self.row["flt_agent"]
        session = self.t.store.get("sessions", self.row["session_id"], "session")
        body = orchestration.agent_request(self.t, spec["ref"], timeout=spec.get("timeout"))
        agent, run = orchestration.spawn(self.t, session, body, orchestration.task_text(item["flt_input"]))
        cents = run["result"]["cost"]["amount"]
        self.row["total_cents"] += cents
        self.set_item(item, status="running", task_id=run["id"], agent_id=agent["id"], cost_cents=cents,
                      started_at=iso(self.now))
        self.events.append(("agent:start", _item_event(item)))

    def stop(self, reason: str, *, running_too: bool) -> None:
        for item in self.items("pending") + (self.items("running") if running_too else []):
            if item["status"] == "running":
                orchestration.release(self.t, item["agent_id"])
            self.set_item(item, status="cancelled", flt_error={"code": "cancelled", "message": reason},
                          completed_at=iso(self.now))

    def close_if_done(self) -> None:
        tally = counts(self.t, self.row["id"])
        if self.row["completed_at"] or tally["pending"] + tally["running"]:
            return
        if self.row["status"] == "running":
            self.row["status"] = "completed"
        self.row["completed_at"] = iso(self.now)
        total = pricing.cost(self.row["total_cents"])
        took = self.now - parse_iso(self.row["created_at"])
        # Not an item, but the SDK reads every frame of fleet.stream() as a FleetItemResult:
        # itemIndex -1, an empty input and output, the fleet's cost and duration.
        self.events.append(("fleet:complete", {
            "status": self.row["status"], "completed": tally["completed"], "failed": tally["failed"],
            "cancelled": tally["cancelled"], "total": self.row["total"], "totalCost": total, "cost": total,
            "fleetId": self.row["id"], "itemIndex": -1, "input": {}, "output": "",
            "duration": pricing.duration_text(took), "durationMs": took}))

    def save(self) -> None:
        self.row["updated_at"] = iso(self.now)
        orchestration.append_events(self.t, TABLE, self.row, self.events)
        self.t.store.update(TABLE, self.row["id"], {k: self.row[k] for k in (
            "status", "total_cents", "updated_at", "completed_at")})
        self.t.changes.notify()


def advance(t: "Tenant", row: dict) -> None:
    fleet = _Fleet(t, row)
    with fleet.t.store.atomic():
        fleet.advance()


class FleetTimer:
    """The timers.TimerSource of fleets: an item's run timeline ends."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar("SELECT MIN(r.end_ms) FROM fleet_items i JOIN runs r ON r.id = i.task_id "
                            "WHERE i.status = 'running' AND r.end_ms IS NOT NULL")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        ids = [r["fleet_id"] for r in store.all(
            "SELECT DISTINCT i.fleet_id FROM fleet_items i JOIN runs r ON r.id = i.task_id "
            "WHERE i.status = 'running' AND r.end_ms <= ? ORDER BY 1", [at_ms])]
        fired: list[dict[str, Any]] = []
        for fleet_id in ids:
            row = store.one("SELECT * FROM fleets WHERE id = ?", [fleet_id])
            if row is None:
                continue
            before = row["event_seq"]
            advance(emu.tenant(row["tenant"]), row)
            fired += [{"type": "fleet", "fleetId": fleet_id, "event": e["event"],
                       "itemIndex": e["data"].get("itemIndex")}
                      for e in store.all("SELECT event, data FROM orch_events WHERE owner_id = ? AND seq > ? "
                                         "ORDER BY seq", [fleet_id, before])]
        return fired


def create(t: "Tenant", session: dict, body: Any) -> dict:
    """A fleet of `body.agent` over `body.inputs` in the session; its first items start now."""
    tenant, now = t.name, t.now_iso()
    with t.store.atomic():
        row = t.store.insert(TABLE, {
            "id": t.new_id("flt"), "tenant": tenant, "session_id": session["id"],
            "user_id": session["user_id"], "flt_agent": {"ref": body.agent, "timeout": body.timeout},
            "concurrency": body.concurrency, "timeout_s": None,
            "max_cents": body.maxCost.amount if body.maxCost else None,
            "failure_policy": body.failurePolicy, "status": "running", "total": len(body.inputs), "total_cents": 0,
            "event_seq": 0, "created_at": now, "updated_at": now, "completed_at": None})
        for index, item in enumerate(body.inputs):
            t.store.insert(ITEMS, {"id": f"{row['id']}/{index}", "fleet_id": row["id"], "item_index": index,
                                   "tenant": tenant, "flt_input": item, "status": "pending", "cost_cents": 0})
        _Fleet(t, row).advance()
    return row


def cancel(t: "Tenant", row: dict) -> None:
    """Pending items are dropped, running ones terminated; `row` becomes the cancelled fleet."""
    fleet = _Fleet(t, row)
    with fleet.t.store.atomic():
        row["status"] = "cancelled"
        fleet.stop("Cancelled by request.", running_too=True)
        fleet.close_if_done()
        fleet.save()
