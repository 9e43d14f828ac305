"""The shared action runner of schedules and triggers: `agent-run` and `workflow-run`.

Reference "Schedules" and "Triggers": an action is `{type, config}`. An agent-run takes the
session of `config.userId` (get-or-create; default `scheduler` for schedules, `trigger` for
triggers), makes a fresh agent there and runs one task on it through start_run, so limits,
costs and timelines are exactly those of an API run. The agent is the reference's
`config.definitionId` or the SDK's `config.agent` (a definition id or name), resolved when
the action runs by orchestration.resolve_agent: a name no definition has runs a default
agent configuration under that name, and what the action started says so. The task is `config.task`, followed by
the input rendered as JSON when there is one. A workflow-run starts the workflow through
workflows.start_workflow_run. Refusals are ApiErrors; callers decide whether to record or answer them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from theazo_emu.core.errors import invalid
from theazo_emu.theazo.domain import definitions, orchestration, workflows
from theazo_emu.theazo.domain.agent_config import AgentConfig
from theazo_emu.theazo.domain.agents import new_agent, start_run
from theazo_emu.theazo.domain.sessions import user_session

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

SCHEDULE_USER = "scheduler"
TRIGGER_USER = "trigger"
_NO_INPUT = object()


@dataclass(frozen=True)
class Started:
    """What an action started: a run (`task_...`) or a workflow run (`wfr_...`)."""

    kind: str
    task_id: str
    agent_id: str | None = None
    session_id: str | None = None
    workflow_run_id: str | None = None
    agent: str | None = None  # the reference it ran (an id or a name)
    resolved: str | None = None  # orchestration.Resolved.how

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"taskId": self.task_id, "type": self.kind}
        if self.agent_id:
            body["agentId"] = self.agent_id
        body["sessionId"] = self.session_id
        if self.workflow_run_id:
            body["workflowRunId"] = self.workflow_run_id
        return body | agent_resolution(self.agent, self.resolved)


def agent_resolution(agent: str | None, resolved: str | None) -> dict[str, Any]:
    """How an agent-run's reference was resolved, for its answer or history entry:
    `{agent, agentConfig: "definition"|"default", note?}` (none when it named no agent)."""
    if agent is None or resolved is None:
        return {}
    body: dict[str, Any] = {"agent": agent, "agentConfig": resolved}
    return body | {"note": orchestration.default_note(agent)} if resolved == "default" else body


def normalize(action: dict[str, Any] | None, agent: str | None, user_id: str | None,
              input_: Any = None) -> dict[str, Any]:
    """One stored shape for both clients: `{type, config}`, which the reference's `action`
    already has (bodies.orchestration.stored_action); the SDK's `agent`, `userId`, `input`
    become an agent-run of that definition (the reference's `action` wins if both)."""
    if action is not None:
        return action
    if agent is None:
        raise invalid("action", "either 'action' or 'agent' (an agent definition id or name) is required")
    config = {**agent_config(agent), "userId": user_id, "input": input_}
    return {"type": "agent-run", "config": {k: v for k, v in config.items() if v is not None}}


def agent_config(agent: str) -> dict[str, str]:
    """The SDK's `agent` in an agent-run's config: a definition id is the reference's
    `definitionId`; a name is kept as `agent` (resolved when the action runs)."""
    return {"definitionId": agent} if agent.startswith("adef_") else {"agent": agent}


def agent_ref(action: dict[str, Any]) -> str | None:
    """The agent an agent-run names: the SDK's `agent` or the reference's `definitionId`."""
    config = action["config"]
    return config.get("agent") or config.get("definitionId") if action["type"] == "agent-run" else None


def check(t: "Tenant", action: dict[str, Any]) -> None:
    """Refuse at creation what could never run: an unknown workflow (404), an unknown (404) or
    archived (409) definition id. A name is accepted whether or not a definition has it yet."""
    config = action["config"]
    if action["type"] == "workflow-run":
        workflows.load_workflow(t, config["workflowId"])
    elif config.get("definitionId"):
        definitions.resolve_definition(t, config["definitionId"])
    elif str(config.get("agent", "")).startswith("adef_"):
        definitions.resolve_definition(t, config["agent"])


def user_of(action: dict[str, Any], default_user: str) -> str:
    return action["config"].get("userId") or default_user


def run(t: "Tenant", action: dict[str, Any], *, default_user: str, fallback_task: str,
        input_: Any = _NO_INPUT, sessions: dict[tuple[str, str], dict] | None = None) -> Started:
    """Start the action now; `input_` (a trigger's body) replaces the configured input.
    `sessions` lets a series of firings look each user's session up once: an agent-run that
    succeeded keeps its session there if it has no limits, since then nothing an agent-run
    does changes it (start_run writes to a session only when its compute limit is reached)."""
    config, tenant = action["config"], t.name
    given = config.get("input") if input_ is _NO_INPUT else input_
    user_id = user_of(action, default_user)
    if action["type"] == "workflow-run":
        wf_run = workflows.start_workflow_run(t, config["workflowId"], user_id=user_id, session_id=None,
                                              input=given, idempotency_key=None)
        return Started("workflow-run", wf_run["id"], session_id=wf_run["session_id"], workflow_run_id=wf_run["id"])
    session = (sessions or {}).get((tenant, user_id)) or user_session(t, user_id)[0]
    ref, resolved = agent_ref(action), None
    fields = {}
    if ref is not None:
        resolved = orchestration.resolve_agent(t, ref)
        fields = resolved.fields
    tools = config.get("tools")
    body = _agent_body(fields.get("definition"), config.get("instructions") or fields.get("instructions"),
                       None if tools is None else tuple(tools))
    agent = new_agent(t, session, body)
    task = task_text(config.get("task"), given, fallback_task)
    run_row = start_run(t, agent, task, session)  # new_agent does not change the session
    if sessions is not None and not session["limits"]:
        sessions[(tenant, user_id)] = session
    return Started("agent-run", run_row["id"], agent_id=agent["id"], session_id=session["id"], agent=ref,
                   resolved=resolved.how if resolved else None)


@lru_cache(maxsize=256)
def _agent_body(definition: str | None, instructions: str | None, tools: tuple[str, ...] | None) -> AgentConfig:
    """The config of the agent an agent-run makes, checked once per config (a schedule makes
    the same one at every firing); new_agent only reads it."""
    fields = {"definition": definition, "instructions": instructions, "tools": None if tools is None else list(tools)}
    return AgentConfig(**{k: v for k, v in fields.items() if v is not None})


def task_text(task: str | None, input_: Any, fallback: str) -> str:
    """The run's task: the configured task, then the input (a string as is, else as JSON)."""
    rendered = None
    if input_ is not None:
        rendered = input_ if isinstance(input_, str) else json.dumps(input_, ensure_ascii=False, sort_keys=True)
    if task and rendered:
        return f"{task}\n\nInput: {rendered}"
    return task or rendered or fallback
