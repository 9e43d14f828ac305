"""The mock engine's default generator: a pure function of seed and request, memoised, so
plans are shared between runs and must come out the same whatever was asked before."""

from __future__ import annotations

from theazo_emu.theazo.domain import pricing
from theazo_emu.theazo.mock import Engine, RunRequest

REQUEST = RunRequest(task="Summarise the quarter", model=pricing.DEFAULT_MODEL, tools=("web_search", "write_file"))


def test_the_same_seed_and_request_give_the_same_plan_and_another_seed_another():
    first, again = Engine(1, pricing).plan_run(REQUEST), Engine(1, pricing).plan_run(REQUEST)
    other = Engine(2, pricing).plan_run(REQUEST)
    assert first == again
    assert other.output != first.output


def test_a_timeout_cut_leaves_the_shared_plan_whole():
    full = Engine(3, pricing).plan_run(REQUEST)
    cut = Engine(3, pricing).plan_run(RunRequest(task=REQUEST.task, model=REQUEST.model, tools=REQUEST.tools,
                                                 timeout_s=1))
    assert cut.error == {"code": "timeout", "message": "Run exceeded the agent's 1s timeout and was terminated."}
    assert Engine(3, pricing).plan_run(REQUEST) == full
    assert full.events[-1].event == "output" and full.error is None
