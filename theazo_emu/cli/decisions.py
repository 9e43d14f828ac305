"""`theazo-emu theo ...`: decide, on a running emulator, what a person at Theo would, so the
events that follow reach your webhooks (as `stripe trigger` makes Stripe's): review a skill
submission, answer a rate-limit increase request, link a connector or change its status,
and list what a key's skills ran on their triggers. Each calls the admin controls of
theo/staff.py and theo/admin.py over HTTP (`--url`, env THEAZO_EMU_URL).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import click

from theazo_emu.cli.options import url_option
from theazo_emu.cli.remote import admin_call
from theazo_emu.theo.domain.connectors import STATUSES

key_option = click.option("--key", required=True, help="The Theo test key whose tenant it is about.")


def _show(answer: dict) -> None:
    click.echo(json.dumps(answer, indent=2, ensure_ascii=False))


@click.group()
def theo() -> None:
    """Decide what a person at Theo would, on a running emulator.

    Example: theazo-emu theo review ssub_01H... approve --key theo_sk_test_ci
    """


@theo.command("review")
@click.argument("submission_id")
@click.argument("decision", type=click.Choice(["approve", "reject", "suspend"]))
@click.option("--reason", default=None, help="Why (sent with skill.rejected or skill.suspended).")
@key_option
@url_option
def review(submission_id: str, decision: str, reason: str | None, key: str, url: str) -> None:
    """Approve or reject a pending skill submission, or suspend an approved one's skill.

    Example: theazo-emu theo review ssub_01H... reject --reason "needs docs" --key theo_sk_test_ci
    """
    _show(admin_call(url, "POST", f"/_emu/theo/submissions/{submission_id}/decision",
                     {"key": key, "decision": decision, **({"reason": reason} if reason else {})}))


@theo.command("rate-limit")
@click.argument("request_id")
@click.argument("decision", type=click.Choice(["approve", "deny"]))
@key_option
@url_option
def rate_limit(request_id: str, decision: str, key: str, url: str) -> None:
    """Approve (the key gets the tier it asked for; rate_limit.upgraded) or deny an increase request.

    Example: theazo-emu theo rate-limit rlr_01H... approve --key theo_sk_test_ci
    """
    _show(admin_call(url, "POST", f"/_emu/theo/rate-limit-requests/{request_id}/decision",
                     {"key": key, "decision": decision}))


@theo.group()
def connector() -> None:
    """Link connectors to a key's tenant and change their status.

    Example: theazo-emu theo connector status conn_01H... error --key theo_sk_test_ci
    """


@connector.command("create")
@click.argument("name")
@click.option("--type", "kind", default="custom", show_default=True, help="The connector's type (slack, gmail, ...).")
@click.option("--status", type=click.Choice(STATUSES), default="pending", show_default=True, help="Its first status.")
@key_option
@url_option
def connector_create(name: str, kind: str, status: str, key: str, url: str) -> None:
    """Link a connector (connector.created).

    Example: theazo-emu theo connector create "Team Slack" --type slack --key theo_sk_test_ci
    """
    _show(admin_call(url, "POST", "/_emu/theo/connectors", {"key": key, "name": name, "type": kind, "status": status}))


@connector.command("status")
@click.argument("connector_id")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", default=None, help="Why (sent with connector.status_changed).")
@key_option
@url_option
def connector_status(connector_id: str, status: str, reason: str | None, key: str, url: str) -> None:
    """Change a connector's status (connector.status_changed).

    Example: theazo-emu theo connector status conn_01H... connected --key theo_sk_test_ci
    """
    _show(admin_call(url, "POST", f"/_emu/theo/connectors/{connector_id}/status",
                     {"key": key, "status": status, **({"reason": reason} if reason else {})}))


@connector.command("list")
@key_option
@url_option
def connector_list(key: str, url: str) -> None:
    """List a key's connectors.

    Example: theazo-emu theo connector list --key theo_sk_test_ci
    """
    _show(admin_call(url, "GET", "/_emu/theo/connectors?" + urlencode({"key": key})))


@theo.command("runs")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="The newest this many.")
@key_option
@url_option
def runs(limit: int, key: str, url: str) -> None:
    """List what a key's skills ran on their triggers (newest first) and each install's state.

    Example: theazo-emu theo runs --key theo_sk_test_ci
    """
    _show(admin_call(url, "GET", "/_emu/theo/skill-runs?" + urlencode({"key": key, "limit": limit})))
