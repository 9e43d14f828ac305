"""The commands that talk to a running emulator over HTTP: call, clock, reset, state,
requests, coverage and `fixtures reload`. Each takes `--url` (env THEAZO_EMU_URL, default
http://127.0.0.1:4010); cli.py attaches them to the `theazo-emu` group. `call --in-process`
answers from a fresh emulator in this process instead (cli_call.py). httpx is imported on
use, keeping it off `serve`'s start-up path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from theazo_emu.cli.call import unreachable
from theazo_emu.cli.options import url_option
from theazo_emu.core import durations
from theazo_emu.core.clock import iso, parse_iso


def admin_call(url: str, method: str, path: str, body: dict | None = None) -> dict:
    """One admin request to a running emulator: its JSON answer, or a click error with its message."""
    import httpx  # imported on use: see the module docstring

    try:
        response = httpx.request(method, url.rstrip("/") + path, json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from None
    try:
        payload = response.json()
    except ValueError:
        raise click.ClickException(f"{url} answered {response.status_code} without JSON: is it theazo-emu?") from None
    if response.status_code >= 400:
        error = payload.get("error", {}) if isinstance(payload, dict) else {}
        if not isinstance(error, dict):
            raise click.ClickException(response.text)
        fields = (error.get("details") or {}).get("fields") if isinstance(error.get("details"), dict) else None
        named = "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields or () if isinstance(f, dict))
        raise click.ClickException(error.get("message", response.text) + (f" ({named})" if named else ""))
    return payload


@click.group()
def clock() -> None:
    """Show or move the virtual clock of a running emulator.

    Example: theazo-emu clock advance 1h
    """


@clock.command("show")
@url_option
def clock_show(url: str) -> None:
    """Print the current virtual time."""
    click.echo(json.dumps(admin_call(url, "GET", "/_emu/clock"), indent=2))


@clock.command("advance")
@click.argument("duration")
@url_option
def clock_advance(duration: str, url: str) -> None:
    """Advance by DURATION: 90s, 15m, 1h, 2d or plain seconds."""
    try:
        seconds = durations.to_seconds(duration)
    except ValueError:
        raise click.BadParameter(f"{duration!r} is not a duration such as 90s, 15m, 1h, 2d",
                                 param_hint="DURATION") from None
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/clock/advance", {"seconds": seconds}), indent=2))


@clock.command("set")
@click.argument("instant")
@url_option
def clock_set(instant: str, url: str) -> None:
    """Move the clock forward to an ISO 8601 INSTANT (such as 2025-06-01T00:00:00Z)."""
    try:
        target = parse_iso(instant)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{instant!r} is not an ISO 8601 instant such as 2025-06-01T00:00:00Z",
                                 param_hint="INSTANT") from None
    now = admin_call(url, "GET", "/_emu/clock")
    if target < now["epochMs"]:
        raise click.ClickException(f"{instant} is before the emulator's current time {now['now']}; the virtual "
                                   "clock only moves forward")
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/clock/advance", {"to": iso(target)}), indent=2))


@clock.command("freeze")
@url_option
def clock_freeze(url: str) -> None:
    """Stop the clock where it is; it then moves only when advanced."""
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/clock/freeze"), indent=2))


@clock.command("resume")
@url_option
def clock_resume(url: str) -> None:
    """Let the clock flow with wall time again, from where it stands."""
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/clock/resume"), indent=2))


@click.command()
@click.option("--key", default=None, help="Reset only this key's tenant.")
@url_option
def reset(key: str | None, url: str) -> None:
    """Reset a running emulator (every tenant, or one key's).

    Example: theazo-emu reset --key th_test_ci_worker_3
    """
    answer = admin_call(url, "POST", "/_emu/reset", {"tenant": key} if key else {})
    if key and not answer.get("known", True):
        raise click.ClickException(f"the emulator at {url} has never seen the key {key} (no state, no request): "
                                   "nothing to reset; check the key")
    click.echo(json.dumps(answer, indent=2))


@click.group()
def state() -> None:
    """Export or import the whole state of a running emulator (every table, the clock).

    Example: theazo-emu state export state.json && theazo-emu state import state.json --url http://127.0.0.1:4011
    """


@state.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--key", default=None, help="Export only this key's tenant.")
@url_option
def state_export(file: Path | None, key: str | None, url: str) -> None:
    """Write the state document to FILE (or print it).

    Example: theazo-emu state export seeded.json --key th_test_ci
    """
    document = admin_call(url, "GET", "/_emu/state/export" + (f"?{urlencode({'key': key})}" if key else ""))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror}") from None
    rows = sum(len(r) for r in document["tables"].values())
    click.echo(f"wrote {file}: {rows} rows in {len(document['tables'])} tables, clock {document['clock']['now']}",
               err=True)


@state.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@url_option
def state_import(file: Path, url: str) -> None:
    """Replace a running emulator's state with the document in FILE.

    Example: theazo-emu state import seeded.json --url http://127.0.0.1:4010
    """
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file} is not a JSON document: {exc}") from None
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/state/import", document), indent=2))


@click.command("requests")
@click.option("--method", default=None, help="Only this HTTP method.")
@click.option("--path", default=None, help="A path prefix, or a glob such as '/v1/agents/*/run'.")
@click.option("--key", default=None, help="Only this key's tenant.")
@click.option("--kind", default=None, help="request, sse, schedule, webhook, fault... (comma-separated).")
@click.option("--status", default=None, help="201, 4xx, pending... (comma-separated).")
@click.option("--since", default=None, help="Virtual time (ISO 8601) from which to list.")
@click.option("--until", default=None, help="Virtual time (ISO 8601) up to which to list.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=None,
              help="Only the newest this many entries (printed oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer.")
@url_option
def journal_requests(method: str | None, path: str | None, key: str | None, kind: str | None, status: str | None,
                     since: str | None, until: str | None, limit: int | None, as_json: bool, url: str) -> None:
    """List the request journal of a running emulator (requests and server-side events).

    Example: theazo-emu requests --key th_test_ci --path '/v1/agents/*/run' --status 4xx
    """
    params = {"method": method, "path": path, "key": key, "kind": kind, "status": status, "since": since,
              "until": until, "limit": limit, "order": "desc" if limit else None}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    result = admin_call(url, "GET", "/_emu/requests" + (f"?{query}" if query else ""))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for entry in result["data"][::-1] if limit else result["data"]:
        click.echo(_journal_line(entry))
    counts = result["counts"]
    click.echo(f"{len(result['data'])} of {counts['total']} entries; by status "
               f"{json.dumps(counts['byStatus'])}; by kind {json.dumps(counts['byKind'])}", err=True)


def _journal_line(entry: dict[str, Any]) -> str:
    head = f"{entry['seq']:>6} {entry['at']} "
    if entry["kind"] == "request":
        status = entry["status"] if entry["status"] is not None else "..."
        code = f" {entry['errorCode']}" if entry.get("errorCode") else ""
        return f"{head}{entry['method']:<6} {entry['path']} -> {status}{code} {entry.get('requestId') or ''}"
    shown = {k: v for k, v in entry.items() if k not in ("seq", "at", "atMs", "kind", "tenant", "path")}
    return f"{head}{entry['kind']:<6} {json.dumps(shown, ensure_ascii=False)}"


@click.command("reload")
@url_option
def fixtures_reload(url: str) -> None:
    """Make a running emulator reload its fixture directory now (exit 1 if it is broken).

    Example: theazo-emu fixtures reload --url http://127.0.0.1:4010
    """
    click.echo(json.dumps(admin_call(url, "POST", "/_emu/fixtures/reload"), indent=2))


@click.command()
@click.argument("cassette", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", default=None, help="Count only this key's requests (journal only).")
@click.option("--all", "every", is_flag=True, help="Also list, per family, every route never called.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@url_option
def coverage(cassette: Path | None, key: str | None, every: bool, as_json: bool, url: str) -> None:
    """Which catalogued routes a run exercised, per family, and the ones never called: from a
    running server's journal, or from a CASSETTE file.

    Example: theazo-emu coverage --url http://127.0.0.1:4010
    """
    from theazo_emu.cli import coverage as routes_coverage

    if cassette is not None:
        from theazo_emu.record.cassette import CassetteError, read_cassette

        try:
            interactions = read_cassette(cassette).interactions
        except CassetteError as exc:
            raise click.ClickException(str(exc)) from None
        requests = [(i["request"]["method"], i["request"]["path"], i["response"]["status"]) for i in interactions]
    else:
        requests = [(e["method"], e["path"], e["status"]) for e in _journal(url, key)]
    document = routes_coverage.report(routes_coverage.tally(requests))
    click.echo(json.dumps(document, indent=2) if as_json else routes_coverage.text(document, every=every))


def _journal(url: str, key: str | None) -> list[dict[str, Any]]:
    """Every request in the journal, page by page."""
    entries, cursor = [], None
    while True:
        query = {"kind": "request", "limit": 10_000, **({"key": key} if key else {}),
                 **({"cursor": cursor} if cursor else {})}
        page = admin_call(url, "GET", "/_emu/requests?" + urlencode(query))
        entries += page["data"]
        cursor = page.get("nextCursor")
        if not cursor:
            return entries
