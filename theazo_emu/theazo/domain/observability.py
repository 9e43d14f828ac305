"""Logs, traces and metrics, derived from what runs already record (SDK `theazo.logs`,
`theazo.metrics`, `theazo.traces`; the routes are theazo/routes/observability.py).

Nothing is stored for them. A log line is one released run event (run_events: its
instant, its run's agent, session, user and provider); its id names the run and the
event (`log_<run>-<seq>`), so it is stable, and lines order by (instant, run, seq). A
trace is one run (`trace_<run>`): a root span, a `model` span with the run's tokens and
cost, and a span per tool call, cut at what the clock has released. Metrics are
percentiles of run figures per interval. Costs are the runs' settled costs, which are
exactly their ledger charges, so logs, traces and metrics agree with usage and billing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from theazo_emu.core.clock import iso, parse_iso
from theazo_emu.core.sse import Frame
from theazo_emu.theazo.domain import runs

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

LEVELS = ("debug", "info", "warn", "error")
_BATCH = 500
_LINE = ("SELECT e.run_id, e.seq, e.event, e.data, e.at_ms, r.agent_id, r.session_id, r.user_id, a.provider "
         "FROM run_events e JOIN runs r ON r.id = e.run_id JOIN agents a ON a.id = r.agent_id AND a.tenant = :tenant "
         "WHERE r.tenant = :tenant AND e.at_ms IS NOT NULL AND e.at_ms <= :until")


class Key(NamedTuple):
    """Where a log line sorts: its instant, its run, its place in the run."""

    at_ms: int
    run_id: str
    seq: int


class LogFilter(NamedTuple):
    session_id: str | None = None
    agent_id: str | None = None
    level: str | None = None  # the least severe level wanted
    search: str | None = None  # case-insensitive, in the message

    def sql(self) -> tuple[str, dict[str, Any]]:
        parts, params = [], {}
        for column, name, value in (("r.session_id", "session", self.session_id),
                                    ("r.agent_id", "agent", self.agent_id)):
            if value:
                parts.append(f" AND {column} = :{name}")
                params[name] = value
        return "".join(parts), params

    def keeps(self, entry: dict[str, Any]) -> bool:
        if self.level and LEVELS.index(entry["level"]) < LEVELS.index(self.level):
            return False
        return not self.search or self.search.lower() in entry["message"].lower()


def log_id(run_id: str, seq: int) -> str:
    return f"log_{run_id.removeprefix('task_')}-{seq}"


def trace_id(run_id: str) -> str:
    return f"trace_{run_id.removeprefix('task_')}"


def run_of_trace(ident: str) -> str | None:
    body = ident.removeprefix("trace_")
    return f"task_{body}" if body != ident and body else None


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(event: str, data: dict[str, Any]) -> tuple[str, str, str]:
    """(level, source, message) of a run event."""
    if event == "thinking":
        return "debug", "agent", _shorten(data.get("text") or data.get("message") or "thinking")
    if event == "tool_call":
        return "info", "agent", f"Calling tool {data.get('tool')}"
    if event == "tool_result":
        return "info", "agent", _shorten(f"Tool {data.get('tool')} answered: {data.get('output')}")
    if event == "output":
        usage = data.get("usage") or {}
        return "info", "model", _shorten(f"Run completed in {data.get('duration')}: {usage.get('inputTokens', 0)} "
                                         f"input and {usage.get('outputTokens', 0)} output tokens, "
                                         f"{(data.get('cost') or {}).get('amount', 0)} cents")
    if event == "error":
        source = "provider" if data.get("code") == "provider_error" else "system"
        return "error", source, _shorten(f"Run failed ({data.get('code')}): {data.get('message')}")
    return _describe_sandbox(event, data) or ("info", "agent", _shorten(data.get("text") or data.get("message")
                                                                          or event))


def _describe_sandbox(event: str, data: dict[str, Any]) -> tuple[str, str, str] | None:
    """(level, source, message) of what a sandbox reported (domain/sandbox.py), else None."""
    if event == "log":
        return data.get("level") or "info", "sandbox", _shorten(data.get("message") or "")
    if event == "model":
        return "info", "model", _shorten(f"Model call to {data.get('model')}: {data.get('inputTokens')} input and "
                                         f"{data.get('outputTokens')} output tokens, "
                                         f"{(data.get('cost') or {}).get('amount', 0)} cents")
    if event == "span":
        failed = data.get("status") == "failed"
        return ("error" if failed else "info"), "sandbox", _shorten(
            f"Span {data.get('name')} {data.get('status')} in {data.get('durationMs')} ms"
            + (f": {data.get('error')}" if failed and data.get("error") else ""))
    if event == "progress" and "percentage" in data:
        return "info", "sandbox", _shorten(f"Progress {data.get('percentage')}%: {data.get('message')}")
    return None


def log_entry(row: dict) -> dict[str, Any]:
    """The SDK's LogEntry for a run event row (joined with its run and agent)."""
    data = row["data"] if isinstance(row["data"], dict) else {}
    level, source, message = _describe(row["event"], data)
    return {"id": log_id(row["run_id"], row["seq"]), "timestamp": iso(row["at_ms"]), "level": level,
            "source": source, "agentId": row["agent_id"], "sessionId": row["session_id"],
            "userId": row["user_id"] or "", "provider": row["provider"] or "", "message": message,
            "metadata": {"taskId": row["run_id"], "event": row["event"], **data}, "traceId": trace_id(row["run_id"])}


def _lines(t: "Tenant", flt: LogFilter, *, newest_first: bool, after: Key | None,
           until_ms: int) -> Iterator[dict]:
    """Released lines in key order from `after` (exclusive), in batches."""
    extra, params = flt.sql()
    op, order = ("<", "DESC") if newest_first else (">", "ASC")
    while True:
        where, cursor = "", {}
        if after is not None:
            where = f" AND (e.at_ms, e.run_id, e.seq) {op} (:after_at, :after_run, :after_seq)"
            cursor = {"after_at": after.at_ms, "after_run": after.run_id, "after_seq": after.seq}
        rows = t.store.select(f"{_LINE}{extra}{where} ORDER BY e.at_ms {order}, e.run_id {order}, e.seq {order} "
                              f"LIMIT {_BATCH}", until=until_ms, **params, **cursor)
        yield from rows
        if len(rows) < _BATCH:
            return
        after = Key(rows[-1]["at_ms"], rows[-1]["run_id"], rows[-1]["seq"])


def query_logs(t: "Tenant", flt: LogFilter, since_ms: int | None, until_ms: int,
               limit: int) -> list[dict[str, Any]]:
    """Up to `limit` lines between since and until, newest first."""
    out = []
    for row in _lines(t, flt, newest_first=True, after=None, until_ms=until_ms):
        if since_ms is not None and row["at_ms"] < since_ms:
            break
        entry = log_entry(row)
        if flt.keeps(entry):
            out.append(entry)
            if len(out) >= limit:
                break
    return out


class LogTail:
    """The sse.follow poll of a log stream: lines released after it opened (or after
    `Last-Event-ID`), oldest first, for as long as the client listens."""

    def __init__(self, t: "Tenant", flt: LogFilter, last_event_id: str | None) -> None:
        self.t, self.flt = t, flt
        self.after = self._resume(last_event_id) or self._newest()

    def _resume(self, last_event_id: str | None) -> Key | None:
        body, _, seq = (last_event_id or "").removeprefix("log_").rpartition("-")
        if not body or not seq.isdigit():
            return None
        run_id = f"task_{body}"
        row = next(iter(self.t.store.select("SELECT e.at_ms FROM run_events e JOIN runs r ON r.id = e.run_id "
                                            "WHERE e.run_id = :run AND e.seq = :seq AND r.tenant = :tenant",
                                            run=run_id, seq=int(seq))), None)
        return Key(row["at_ms"], run_id, int(seq)) if row and row["at_ms"] is not None else None

    def _newest(self) -> Key:
        rows = _lines(self.t, LogFilter(), newest_first=True, after=None, until_ms=self.t.now_ms())
        row = next(rows, None)
        rows.close()
        return Key(row["at_ms"], row["run_id"], row["seq"]) if row else Key(-1, "", 0)

    def poll(self) -> tuple[list[Frame], bool, int | None]:
        now = self.t.now_ms()
        frames = []
        for row in _lines(self.t, self.flt, newest_first=False, after=self.after, until_ms=now):
            self.after = Key(row["at_ms"], row["run_id"], row["seq"])
            entry = log_entry(row)
            if self.flt.keeps(entry):
                frames.append(Frame("log", entry, entry["id"]))
        upcoming = self.t.store.select("SELECT MIN(e.at_ms) AS at_ms FROM run_events e JOIN runs r ON r.id = e.run_id "
                                       "WHERE r.tenant = :tenant AND e.at_ms > :now", now=now)[0]["at_ms"]
        return frames, False, upcoming


# ---- traces ----

def trace_summary(run: dict, agent: dict | None, now_ms: int) -> dict[str, Any]:
    """The SDK's Trace for a run."""
    return {"traceId": trace_id(run["id"]), "agentId": run["agent_id"], "sessionId": run["session_id"],
            "userId": run["user_id"], "taskId": run["id"], "status": runs.run_status(run, now_ms),
            "durationMs": runs.elapsed_ms(run, now_ms), "cost": run["result"]["cost"],
            "startTime": run["created_at"], "provider": agent["provider"] if agent else None}


def trace_detail(t: "Tenant", run: dict, agent: dict | None) -> dict[str, Any]:
    """The SDK's TraceDetail: the summary and its spans, as far as the clock has released them."""
    now = t.now_ms()
    events = runs.released_events(t, run["id"], 0)
    body = run["id"].removeprefix("task_")
    start = events[0]["at_ms"] if events else now
    end = events[-1]["at_ms"] if events else now
    status = runs.run_status(run, now)
    if status in ("running", "paused"):
        end = now
    result, root = run["result"], f"span_{body}-0"

    def span(index: int, name: str, begin: int, finish: int, attributes: dict[str, Any]) -> dict[str, Any]:
        return {"spanId": f"span_{body}-{index}", "name": name, "startTime": iso(begin), "endTime": iso(finish),
                "durationMs": max(0, finish - begin), "attributes": attributes,
                "parentSpanId": None if index == 0 else root}

    spans = [span(0, "run", start, end, {"taskId": run["id"], "task": run["task"], "status": status,
                                         "provider": agent["provider"] if agent else None}),
             span(1, "model", start, end, {"model": agent["model"] if agent else None, **result["usage"],
                                           "cost": result["cost"]})]
    reported = [e for e in events if e["event"] == "span"]  # a sandbox's own spans, ending where reported
    for n, report in enumerate(reported, 2):
        data = report["data"]
        spans.append(span(n, data.get("name") or "span", report["at_ms"] - int(data.get("durationMs") or 0),
                          report["at_ms"], {**(data.get("attributes") or {}), "status": data.get("status"),
                                            **({"error": data["error"]} if data.get("error") else {}),
                                            "source": "sandbox"}))
    calls = [e for e in events if e["event"] == "tool_call"]
    for n, call in enumerate(calls, 2 + len(reported)):
        answer = next((e for e in events if e["seq"] > call["seq"] and e["event"] == "tool_result"
                       and e["data"].get("tool") == call["data"].get("tool")), None)
        attributes = {"tool": call["data"].get("tool"), "input": call["data"].get("input")}
        if answer is not None:
            attributes["output"] = answer["data"].get("output")
        spans.append(span(n, f"tool:{call['data'].get('tool')}", call["at_ms"],
                          answer["at_ms"] if answer else end, attributes))
    return trace_summary(run, agent, now) | {"spans": spans}


# ---- metrics ----

METRICS = {"run.duration": "durationMs", "run.cost": "cost", "run.tokens": "tokens", "run.tool_calls": "toolCalls"}
METRIC_ALIASES = {"latency": "run.duration", "duration": "run.duration", "cost": "run.cost", "tokens": "run.tokens",
                  "tool_calls": "run.tool_calls", "agent.duration": "run.duration", "agent.latency": "run.duration",
                  "agent.cost": "run.cost", "agent.tokens": "run.tokens", "agent.tool_calls": "run.tool_calls"}


def run_figure(run: dict, metric: str) -> float:
    result = run["result"]
    if metric == "run.duration":
        return result["durationMs"]
    if metric == "run.cost":
        return result["cost"]["amount"]
    if metric == "run.tokens":
        return result["usage"]["inputTokens"] + result["usage"]["outputTokens"]
    return len(result["toolCalls"])


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]


def series(t: "Tenant", metric: str, since_ms: int, until_ms: int,
           interval_ms: int) -> list[dict[str, Any]]:
    """One point per interval from since (runs by creation instant): p50, p95, p99 and count."""
    count = _buckets(since_ms, until_ms, interval_ms)
    rows = t.store.rows("runs", "created_at >= ? AND created_at < ?", [iso(since_ms), iso(since_ms + count * interval_ms)],
                        order=None, columns="created_at, result")
    buckets: dict[int, list[float]] = {}
    for row in rows:
        index = (parse_iso(row["created_at"]) - since_ms) // interval_ms
        buckets.setdefault(index, []).append(run_figure(row, metric))
    points = []
    for index in range(count):
        values = sorted(buckets.get(index, []))
        points.append({"timestamp": iso(since_ms + index * interval_ms), "p50": percentile(values, 50),
                       "p95": percentile(values, 95), "p99": percentile(values, 99), "count": len(values)})
    return points


def _buckets(since_ms: int, until_ms: int, interval_ms: int) -> int:
    return max(1, -(-(until_ms - since_ms) // interval_ms))
