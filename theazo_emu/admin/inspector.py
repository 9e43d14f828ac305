"""/_emu/ui: the inspector page, and the two admin endpoints it reads.

DESIGN.md "Admin API and inspector": one page with the tenants, sessions, agents with their
live events, schedules with their next fire times, the clock with advance buttons, and the
request journal. The page is static (data/inspector.html: no build, no external assets,
data written with textContent only). It polls `GET /_emu/ui/state` and the journal
(`/_emu/requests`), moves the clock through `/_emu/clock/...`, and follows
`GET /_emu/ui/stream`, an SSE feed of run events as the virtual clock releases them.

Like the rest of /_emu it takes no key and shows every tenant (the emulator binds
loopback). It only watches: the feed marks no run as streamed (an agent's own stream still
replays a run nobody streamed), and its requests and frames stay out of the journal.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from starlette.responses import HTMLResponse

from ..clock import iso
from ..domain.agents import agent_to_api
from ..domain.schedules import schedule_to_api
from ..domain.sessions import session_to_api
from ..http import Ctx, api_route, query_int
from ..sse import Frame, stream_response

ROWS = 50  # newest sessions, agents and schedules shown
REPLAY = 50  # released events a new feed starts with
_BATCH = 500  # events per poll at most: a year of firings releases many at once
_TENANT_TABLES = ("sessions", "agents", "runs", "schedules")


@cache
def _page() -> str:
    return resources.files("theazo_emu").joinpath("data/inspector.html").read_text(encoding="utf-8")


async def inspector_page(ctx: Ctx) -> HTMLResponse:
    """The inspector web page."""
    return HTMLResponse(_page(), headers={"Cache-Control": "no-cache"})


def _newest(ctx: Ctx, table: str) -> list[dict]:
    return ctx.emu.store.all(f"SELECT * FROM [{table}] ORDER BY id DESC LIMIT ?", [ROWS])


async def inspector_state(ctx: Ctx) -> dict[str, Any]:
    """Every tenant's counts, and the newest sessions, agents and schedules, for the page."""
    store, now = ctx.emu.store, ctx.now_ms()
    tenants: dict[str, dict[str, int]] = {}
    for table in _TENANT_TABLES:
        for row in store.all(f"SELECT tenant, COUNT(*) AS n FROM [{table}] GROUP BY tenant"):
            tenants.setdefault(row["tenant"], dict.fromkeys(_TENANT_TABLES, 0))[table] = row["n"]
    return {
        "clock": ctx.emu.clock.describe(),
        "tenants": [{"tenant": tenant, **counts} for tenant, counts in sorted(tenants.items())],
        "sessions": [session_to_api(r, now) | {"tenant": r["tenant"]} for r in _newest(ctx, "sessions")],
        "agents": [agent_to_api(r, now) | {"tenant": r["tenant"]} for r in _newest(ctx, "agents")],
        "schedules": [schedule_to_api(r) | {"tenant": r["tenant"]} for r in _newest(ctx, "schedules")],
    }


class _Feed:
    """Released run events in release order, (at_ms, run, seq), from a cursor on; read-only."""

    _SELECT = ("SELECT e.run_id, e.seq, e.event, e.data, e.at_ms, r.agent_id, r.tenant FROM run_events e "
               "JOIN runs r ON r.id = e.run_id WHERE e.at_ms IS NOT NULL AND e.at_ms <= ?")

    def __init__(self, ctx: Ctx, agent_id: str | None, replay: int) -> None:
        self.emu, self.agent_id, self.replay = ctx.emu, agent_id, replay
        self.cursor: tuple[int, str, int] | None = None  # the last event handed out

    def _where(self, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        if self.agent_id:
            return f"{sql} AND r.agent_id = ?", [*params, self.agent_id]
        return sql, params

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        """The newest released events after the cursor, oldest first: at most `replay` on the
        first poll, and at most _BATCH later (a long clock advance is cut to its newest)."""
        store, now = self.emu.store, self.emu.clock.now_ms()
        first = self.cursor is None
        sql, params = self._where(self._SELECT, [now])
        if not first:
            sql, params = f"{sql} AND (e.at_ms, e.run_id, e.seq) > (?, ?, ?)", [*params, *self.cursor]
        rows = store.all(f"{sql} ORDER BY e.at_ms DESC, e.run_id DESC, e.seq DESC LIMIT ?",
                         [*params, self.replay if first else _BATCH])
        rows.reverse()
        if rows:
            self.cursor = (rows[-1]["at_ms"], rows[-1]["run_id"], rows[-1]["seq"])
        elif first:
            self.cursor = (-1 << 62, "", 0)
        sql, params = self._where("SELECT MIN(e.at_ms) FROM run_events e JOIN runs r ON r.id = e.run_id "
                                  "WHERE e.at_ms > ?", [now])
        frames = [Frame("run_event", {"event": r["event"], "at": iso(r["at_ms"]), "taskId": r["run_id"],
                                      "agentId": r["agent_id"], "tenant": r["tenant"], "data": r["data"]},
                        f"{r['run_id']}:{r['seq']}") for r in rows]
        return frames, False, store.scalar(sql, params)


async def inspector_stream(ctx: Ctx) -> Any:
    """SSE of every tenant's run events as they are released (`agentId` narrows it to one agent)."""
    feed = _Feed(ctx, ctx.query.get("agentId") or None, query_int(ctx, "replay", REPLAY, 0, 1000))
    return stream_response(ctx.emu, feed.poll, journal=False)


routes = [
    api_route("/_emu/ui", inspector_page, public=True),
    api_route("/_emu/ui/state", inspector_state, public=True),
    api_route("/_emu/ui/stream", inspector_stream, public=True, query=("agentId", "replay")),
]
