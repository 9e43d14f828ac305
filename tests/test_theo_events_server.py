"""Theo's events over a real `serve` process: the delivery log a failing receiver leaves (one
row per attempt, failed then success), and the `theazo-emu theo` commands deciding what a
person at Theo would, each decision's event reaching the receiver, and a scheduled skill
running as the clock is advanced from the command line."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, serve_process
from receiver import receiver
from theo_support import bearer, settled_deliveries, theo_key

from theazo_emu.cli.main import main

pytestmark = pytest.mark.server


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _log(url: str, key: str, webhook_id: str, count: int) -> list[dict]:
    return settled_deliveries(lambda path: httpx.get(url + path, headers=bearer(key)), webhook_id, count)


def test_a_failing_receiver_leaves_one_failed_row_per_attempt_then_the_success():
    key = theo_key("server")
    with serve_process("--clock", START, "--allow-private-webhooks") as url, receiver([503, 500]) as hook:
        made = httpx.post(f"{url}/api/v1/webhooks", headers=bearer(key),
                          json={"url": hook.url, "event_types": ["key.created"]}).json()
        httpx.post(f"{url}/api/v1/keys", headers=bearer(key), json={"name": "ci"})
        (first,) = _log(url, key, made["id"], 1)
        assert (first["status"], first["attempt"], first["http_status"]) == ("failed", 1, 503)
        assert first["error_message"] and first["failed_at"] == "2025-05-01T00:00:00.000Z"
        _cli("clock", "advance", "10s", "--url", url)
        _log(url, key, made["id"], 2)  # the second attempt settled: its retry is due 60 s later
        _cli("clock", "advance", "60s", "--url", url)
        rows = _log(url, key, made["id"], 3)
        stats = httpx.get(f"{url}/api/v1/webhooks/{made['id']}/stats", headers=bearer(key)).json()
    assert [(r["status"], r["attempt"], r["http_status"]) for r in rows] == [
        ("success", 3, 200), ("failed", 2, 500), ("failed", 1, 503)]
    assert len({r["id"] for r in rows}) == 3 and {r["delivery_id"] for r in rows} == {first["id"]}
    assert rows[0]["failed_at"] is None and stats["deliveries"] == {"total": 3, "successes": 1, "failures": 2,
                                                                    "success_rate_percent": 33.33}
    assert [r["headers"]["theo-webhook-attempt"] for r in hook.requests] == ["1", "2", "3"]


def test_the_theo_commands_decide_and_every_decision_reaches_the_receiver():
    key = theo_key("decide")
    with serve_process("--clock", START, "--allow-private-webhooks") as url, receiver() as hook:
        httpx.post(f"{url}/api/v1/webhooks", headers=bearer(key), json={"url": hook.url, "event_types": ["*"]})
        manifest = {"name": "Ops Bot", "slug": "ops-bot", "version": "1.0.0", "description": "Runs ops.",
                    "category": "automation", "author": {"name": "Ada"}, "systemPromptExtension": "Run ops.",
                    "permissions": ["autonomous:run"], "tools": [{"name": "page_oncall", "description": "Page"}],
                    "trigger": {"type": "schedule", "config": {"cron": "30 * * * *"}}}
        pending = httpx.post(f"{url}/api/v1/skills/submit", headers=bearer(key), json={"manifest": manifest}).json()
        assert pending["submission"]["status"] == "pending_review" and pending["review"]["tier"] == "staff"
        approved = _cli("theo", "review", pending["submission"]["id"], "approve", "--key", key, "--url", url)
        skill_id = approved["submission"]["skillId"]
        httpx.post(f"{url}/api/v1/skills", headers=bearer(key), json={"skillId": skill_id})
        _cli("clock", "advance", "1h", "--url", url)
        runs = _cli("theo", "runs", "--key", key, "--url", url)
        assert [(r["trigger"], r["status"], r["createdAt"]) for r in runs["data"]] == [
            ("schedule", "completed", "2025-05-01T00:30:00.000Z")]
        _cli("theo", "review", pending["submission"]["id"], "suspend", "--reason", "abuse", "--key", key, "--url", url)
        asked = httpx.post(f"{url}/api/v1/rate-limits/request-increase", headers=bearer(key),
                           json={"requested_tier": "starter", "use_case": "prod"}).json()["request"]
        _cli("theo", "rate-limit", asked["id"], "approve", "--key", key, "--url", url)
        made = _cli("theo", "connector", "create", "Team Slack", "--type", "slack", "--key", key, "--url", url)
        _cli("theo", "connector", "status", made["connector"]["id"], "connected", "--key", key, "--url", url)
        listed = _cli("theo", "connector", "list", "--key", key, "--url", url)["data"]
        assert [(c["name"], c["status"]) for c in listed] == [("Team Slack", "connected")]
        refused = CliRunner().invoke(main, ["theo", "review", pending["submission"]["id"], "approve", "--key", key,
                                            "--url", url])
        assert refused.exit_code == 1 and "suspended" in refused.output and "Traceback" not in refused.output
        kinds = [r.json()["type"] for r in hook.wait_for(7)]
        _cli("clock", "advance", "2h", "--url", url)  # suspended: no more runs
        assert len(_cli("theo", "runs", "--key", key, "--url", url)["data"]) == 1
    # One endpoint's deliveries go out one at a time, in the order they were made.
    assert kinds == ["skill.submitted", "skill.approved", "skill.installed", "skill.suspended", "rate_limit.upgraded",
                     "connector.created", "connector.status_changed"]
