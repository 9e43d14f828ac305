"""/_emu/ui: the inspector page, and the admin endpoints it reads.

DESIGN.md "Admin API and inspector": one page with the tenants (by their key's alias and a
hint, never the key: core/auth.KeyName), sessions, agents with their live events, runs with their event timelines,
schedules with their next fire times, the clock with advance buttons and a scrubber, the
request journal (a row opens the whole exchange, secrets redacted; a stream's frames as
they were sent, up to the 64 KiB the journal keeps), and reset, fault and
fixture controls. The page is static (admin/inspector.html: no build, no external assets,
data written with textContent only). It polls `GET /_emu/ui/state` and the journal, opens
`/_emu/ui/runs/{id}` and `/_emu/ui/requests/{seq}`, acts through the admin API, and
follows `GET /_emu/ui/stream`, an SSE feed of run events as the virtual clock releases them.

`state` is per surface: SECTIONS maps a surface to the tables its tenants are counted by and
the lists it shows, so another product adds one entry (Theo's: completions, jobs with their
status on the clock, and webhook deliveries). Like the rest of /_emu it takes no
key and shows every tenant (the emulator binds loopback). It only watches: the feed marks
no run as streamed, and its requests and frames stay out of the journal.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from starlette.responses import HTMLResponse

from theazo_emu.core import timers
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import NotFound
from theazo_emu.core.http import Ctx, api_route, query_int
from theazo_emu.core.journal import MAX_DETAIL_BODY
from theazo_emu.core.sse import Frame, stream_response
from theazo_emu.record.cassette import SseParser
from theazo_emu.theazo.domain.agents import agent_to_api
from theazo_emu.theazo.domain.runs import run_status
from theazo_emu.theazo.domain.schedules import schedule_to_api
from theazo_emu.theazo.domain.sessions import session_to_api
from theazo_emu.theo.domain.engines import cents
from theazo_emu.theo.domain.jobs import job_to_api
from theazo_emu.theo.domain.webhooks import delivery_to_api

if TYPE_CHECKING:
    from theazo_emu.core.store import Store

ROWS = 50  # newest sessions, agents and schedules shown
REPLAY = 50  # released events a new feed starts with
_BATCH = 500  # events per poll at most: a year of firings releases many at once
_HIDDEN_HEADERS = {b"authorization", b"cookie", b"proxy-authorization"}


@cache
def _page() -> str:
    return resources.files("theazo_emu").joinpath("admin/inspector.html").read_text(encoding="utf-8")


async def inspector_page(ctx: Ctx) -> HTMLResponse:
    """The inspector web page."""
    return HTMLResponse(_page(), headers={"Cache-Control": "no-cache"})


class Section(NamedTuple):
    """What the inspector shows of one surface: what each tenant is counted by (a name, its
    table and the rows of it that count), and the lists (newest first) for the page."""

    counted: tuple[tuple[str, str, str], ...]
    lists: Callable[["Store", int, Callable[[str], str]], dict[str, list[dict]]]  # (store, now, name)


def _newest(store: "Store", table: str, where: str = "1") -> list[dict]:
    return store.all(f"SELECT * FROM [{table}] WHERE {where} ORDER BY id DESC LIMIT ?", [ROWS])


def _theazo(store: "Store", now: int, name: Callable[[str], str]) -> dict[str, list[dict]]:
    return {
        "sessions": [session_to_api(r, now) | {"tenant": name(r["tenant"])} for r in _newest(store, "sessions")],
        "agents": [agent_to_api(r, now) | {"tenant": name(r["tenant"])} for r in _newest(store, "agents")],
        "runs": [{"taskId": r["id"], "agentId": r["agent_id"], "tenant": name(r["tenant"]), "task": r["task"],
                  "status": run_status(r, now), "createdAt": r["created_at"],
                  "startAt": iso(r["start_ms"]) if r["start_ms"] is not None else None,
                  "endAt": iso(r["end_ms"]) if r["end_ms"] is not None else None} for r in _newest(store, "runs")],
        "schedules": [schedule_to_api(r) | {"tenant": name(r["tenant"])} for r in _newest(store, "schedules")],
    }


def _theo(store: "Store", now: int, name: Callable[[str], str]) -> dict[str, list[dict]]:
    urls = {r["id"]: r["url"] for r in store.all("SELECT id, url FROM theo_webhooks")}
    return {
        "completions": [{"id": r["id"], "tenant": name(r["tenant"]), "mode": r["mode"],
                         "resolvedMode": r["resolved_mode"], "model": r["model"], "route": r["route"],
                         "tokens": r["prompt_tokens"] + r["completion_tokens"], "costCents": cents(r["cost_units"]),
                         "createdAt": r["created_at"]} for r in _newest(store, "theo_ledger", "kind = 'completion'")],
        "jobs": [job_to_api(r, now) | {"tenant": name(r["tenant"])} for r in _newest(store, "theo_jobs")],
        "deliveries": [delivery_to_api(r) | {"tenant": name(r["tenant"]), "url": urls.get(r["webhook_id"])}
                       for r in _newest(store, "theo_deliveries")],
    }


SECTIONS: dict[str, Section] = {
    "theazo": Section(tuple((t, t, "1") for t in ("sessions", "agents", "runs", "schedules")), _theazo),
    "theo": Section((("completions", "theo_ledger", "kind = 'completion'"), ("jobs", "theo_jobs", "1"),
                     ("deliveries", "theo_deliveries", "1")), _theo),
}


def _namer(ctx: Ctx) -> Callable[[str], str]:
    """A tenant's readable name: its key's alias (key1), never the key nor the digest."""
    def name(tenant: str) -> str:
        known = ctx.emu.aliases.of_tenant(tenant)
        return known[0] if known else "unseen key"
    return name


def _next_due(ctx: Ctx, store: "Store", now: int) -> str | None:
    """The next instant something happens on the clock: a timer, or a run event."""
    dues = [due for due in timers.dues(ctx.emu, store) if due is not None and due > now]
    event = store.scalar("SELECT MIN(at_ms) FROM run_events WHERE at_ms > ?", [now])
    dues += [event] if event is not None else []
    return iso(min(dues)) if dues else None


async def inspector_state(ctx: Ctx) -> dict[str, Any]:
    """Every tenant (by alias) with its counts, each surface's newest rows, and the controls' state.

    Every tenant's rows: read on the whole store, handed to the sections."""
    store, name, now = ctx.emu.store, _namer(ctx), ctx.now_ms()
    tenants: dict[str, dict[str, int]] = {}
    for surface, section in SECTIONS.items():
        for label, table, where in section.counted:
            for row in store.all(f"SELECT tenant, COUNT(*) AS n FROM [{table}] WHERE {where} GROUP BY tenant"):
                tenants.setdefault(row["tenant"], {})[f"{surface}.{label}"] = row["n"]
    rows = []
    for tenant, counts in tenants.items():
        known = ctx.emu.aliases.of_tenant(tenant)
        rows.append({"tenant": known.alias if known else "unseen key", "name": known.name if known else None,
                     "hint": known.hint if known else "", "id": tenant, "counts": counts})
    rows.sort(key=lambda t: (t["tenant"] == "unseen key", len(t["tenant"]), t["tenant"]))
    return {
        "clock": ctx.emu.clock.describe(), "nextDue": _next_due(ctx, store, now), "tenants": rows,
        "surfaces": {surface: section.lists(store, now, name) for surface, section in SECTIONS.items()},
        "fixtures": ctx.emu.fixtures.summary(), "faults": [rule.to_api() for rule in ctx.emu.faults.rules()],
        "record": {k: v for k, v in ctx.emu.tape.describe().items() if k != "header"},
    }


async def inspector_run(ctx: Ctx) -> dict[str, Any]:
    """One run's events on the virtual clock: released ones, and those still to come."""
    store, now = ctx.emu.store, ctx.now_ms()
    run = store.by_id("runs", ctx.params["run_id"])
    if run is None:
        raise NotFound("run", ctx.params["run_id"])
    events = store.all("SELECT seq, event, data, offset_ms, at_ms FROM run_events WHERE run_id = ? ORDER BY seq",
                       [run["id"]])
    return {"taskId": run["id"], "agentId": run["agent_id"], "tenant": _namer(ctx)(run["tenant"]),
            "task": run["task"], "status": run_status(run, now), "now": iso(now),
            "startAt": iso(run["start_ms"]) if run["start_ms"] is not None else None,
            "endAt": iso(run["end_ms"]) if run["end_ms"] is not None else None,
            "events": [{"seq": e["seq"], "event": e["event"], "offsetMs": e["offset_ms"],
                        "at": iso(e["at_ms"]) if e["at_ms"] is not None else None,
                        "released": e["at_ms"] is not None and e["at_ms"] <= now,
                        "data": e["data"]} for e in events]}


async def inspector_request(ctx: Ctx) -> dict[str, Any]:
    """One journaled request, opened: what was sent and answered, secrets redacted."""
    journal = ctx.emu.journal
    raw = ctx.params["seq"]
    seq = int(raw) if raw.isdigit() and len(raw) < 19 else -1
    entry = next((e for e in journal.entries if e["seq"] == seq and e["kind"] == "request"), None)
    detail = journal.details.get(seq)
    if entry is None or detail is None:
        raise NotFound("journal entry (the inspector keeps the newest 200 exchanges)", raw)
    redactor, alias = journal.redactor, _namer(ctx)(entry["tenant"]) if entry.get("tenant") else None
    request_headers = _headers(detail["requestHeaders"])
    if alias:
        request_headers["authorization"] = f"Bearer <{alias}>"
    headers = _headers(detail["responseHeaders"])
    response: dict[str, Any] = {"status": entry["status"], "headers": headers}
    raw = b"".join(detail["chunks"])
    if headers.get("content-type", "").startswith("text/event-stream"):
        response["frames"] = SseParser(redactor).feed(raw + b"\n\n")
        if len(raw) > MAX_DETAIL_BODY:
            response["framesCut"] = f"frames past the first {MAX_DETAIL_BODY} bytes are not kept"
    elif len(raw) > MAX_DETAIL_BODY:
        response["body"] = f"(over {MAX_DETAIL_BODY} bytes, not kept)"
    else:
        response["body"] = _body(raw, redactor)
    request = {k: entry.get(k) for k in ("method", "path", "query", "body", "bodyBytes") if entry.get(k) is not None}
    return {"seq": seq, "at": iso(entry["atMs"]), "tenant": alias, "requestId": entry.get("requestId"),
            "durationMs": entry.get("durationMs"), "errorCode": entry.get("errorCode"),
            "request": request | {"headers": request_headers}, "response": response}


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k.lower() not in _HIDDEN_HEADERS}


def _body(raw: bytes, redactor: Any) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return redactor.value(json.loads(text))
    except ValueError:
        return redactor.text(text)


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
    api_route("/_emu/ui", inspector_page, public=True, media="text/html"),
    api_route("/_emu/ui/state", inspector_state, public=True),
    api_route("/_emu/ui/stream", inspector_stream, public=True, query=("agentId", "replay")),
    api_route("/_emu/ui/runs/{run_id}", inspector_run, public=True),
    api_route("/_emu/ui/requests/{seq}", inspector_request, public=True),
]
