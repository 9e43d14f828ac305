"""Session runs and session tasks (sdk-compat §3 "Session instance": `session.run`,
`session.tasks`).

POST /v1/sessions/:id/run answers 202 with the settled RunResult at once, as an agent run
does (its events follow on the agent's stream, `agentId` in the answer). Tasks answer the
SDK's Task; the list is a bare array for SDK requests (`{data}` otherwise). `wait` is a
long poll: it answers as soon as the task ends, or its current state once `timeout`
(default 30s) has passed, and never holds a request longer than WAIT_CAP_S of wall time,
inside the SDK's 30-second client timeout. The engine is domain/tasks.py's.
"""

from __future__ import annotations

import asyncio

from theazo_emu.core import durations
from theazo_emu.core.errors import invalid
from theazo_emu.core.http import PAGE, Ctx, PageParams, api_route, query_choice, respond
from theazo_emu.theazo.bodies.tasks import SessionRun, SubmitTask
from theazo_emu.theazo.domain import orchestration, runs, tasks
from theazo_emu.theazo.domain.tasks import FINAL, STATUSES, task_to_api
from theazo_emu.theazo.routes.sessions import load as load_session
from theazo_emu.theazo.surface import list_answer, page_body

WAIT_CAP_S = 25.0
DEFAULT_WAIT_S = 30.0


def _load(ctx: Ctx) -> tuple[dict, dict]:
    session = load_session(ctx, ctx.params["session_id"])
    return tasks.load(ctx.t, session["id"], ctx.params["task_id"])


async def session_run(ctx: Ctx) -> dict:
    """Run a task on a fresh agent of the session: 202 with the settled RunResult at once."""
    body: SessionRun = ctx.body
    session = load_session(ctx, ctx.params["session_id"])
    _, agent, run = tasks.start(ctx.t, session, body.agent, body.task, kind="run", timeout=body.timeout_seconds,
                                browser=body.browser)
    return runs.run_to_api(run, agent, ctx.now_ms()) | {"agent": body.agent}


async def submit_task(ctx: Ctx) -> dict:
    """Submit a task (`input` as the task, JSON when an object); 202 with the Task."""
    body: SubmitTask = ctx.body
    session = load_session(ctx, ctx.params["session_id"])
    text = body.input if isinstance(body.input, str) else orchestration.task_text(body.input)
    row, _, run = tasks.start(ctx.t, session, body.agent, text, kind="task", task_input=body.input,
                              priority=body.priority, webhook=body.webhook)
    return task_to_api(ctx.t, row, run)


async def list_tasks(ctx: Ctx) -> object:
    """The session's tasks, newest first (status; limit, cursor): a bare array for the SDK."""
    session = load_session(ctx, ctx.params["session_id"])
    status = query_choice(ctx, "status", STATUSES)
    params = PageParams.from_query(ctx, "task", default=50)
    pairs = tasks.list_rows(ctx.t, session["id"], status, params.limit, params.after)
    page = params.cut(pairs, key=lambda pair: pair[0]["id"])
    return list_answer(ctx, page_body(page, lambda pair: task_to_api(ctx.t, *pair)))


async def get_task(ctx: Ctx) -> dict:
    """One task of the session."""
    return task_to_api(ctx.t, *_load(ctx))


async def cancel_task(ctx: Ctx) -> dict:
    """Cancel a running task: its agent is terminated (409 once the task has ended)."""
    return task_to_api(ctx.t, *tasks.cancel(ctx.t, *_load(ctx)))


def _wait_seconds(ctx: Ctx) -> float:
    raw = ctx.query.get("timeout")
    if raw is None or raw == "":
        return DEFAULT_WAIT_S
    try:
        seconds = durations.to_seconds(raw)
    except ValueError:
        raise invalid("timeout", durations.PROBLEM) from None
    if not 0 <= seconds <= 86_400:
        raise invalid("timeout", "must be between 0 seconds and 24 hours")
    return seconds


async def wait_task(ctx: Ctx) -> object:
    """Long poll: the task once it has ended, or as it is when `timeout` passes (at most 25 s)."""
    seconds = _wait_seconds(ctx)
    _load(ctx)  # 404 before waiting
    emu, loop = ctx.emu, asyncio.get_running_loop()
    deadline_ms = ctx.now_ms() + int(seconds * 1000)  # on the virtual clock, when it flows
    wall_deadline = loop.time() + min(seconds, WAIT_CAP_S)
    while True:
        row, run = _load(ctx)
        body = task_to_api(ctx.t, row, run)
        remaining = wall_deadline - loop.time()
        if body["status"] in FINAL or remaining <= 0 or emu.clock.now_ms() >= deadline_ms:
            return respond(body)
        due = run["end_ms"]
        until_end = (due - emu.clock.now_ms()) / 1000 if due is not None and not emu.clock.frozen else remaining
        await emu.changes.wait(max(0.001, min(remaining, until_end)))


routes = [
    api_route("/v1/sessions/{session_id}/run", session_run, "POST", body=SessionRun, status=202),
    api_route("/v1/sessions/{session_id}/tasks", submit_task, "POST", body=SubmitTask, status=202),
    api_route("/v1/sessions/{session_id}/tasks", list_tasks, query=("status", *PAGE)),
    api_route("/v1/sessions/{session_id}/tasks/{task_id}", get_task),
    api_route("/v1/sessions/{session_id}/tasks/{task_id}/cancel", cancel_task, "POST"),
    api_route("/v1/sessions/{session_id}/tasks/{task_id}/wait", wait_task, query=("timeout",)),
]
