"""The `theazo-emu` command: options -> Settings -> create_app -> uvicorn.

Every option can also be set by a `THEAZO_EMU_*` environment variable (named on each
option's help). Commands that talk to a running server (`clock`, `reset`) take `--url`.
Errors are click errors, never tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any, Callable

import click
import uvicorn

from . import cli_remote
from .app import create_app
from .clock import parse_iso
from .crypto import MasterKeyError, parse_key
from .domain.theo.ratelimit import parse_tier
from .mock.loader import FixtureError
from .ratelimit import parse_limit
from .settings import Settings
from .version import __version__


def _env(name: str) -> str:
    return f"THEAZO_EMU_{name}"


def _rate_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if parse_limit(value) is None else value
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _theo_rate_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if parse_tier(value) is None else value
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def emulator_options(func: Callable) -> Callable:
    """The options that shape an emulator, shared by `serve` and `call`."""
    options = [
        click.option("--db", default=":memory:", show_default=True, envvar=_env("DB"),
                     help="SQLite file to persist state in, or :memory:. [env THEAZO_EMU_DB]"),
        click.option("--seed", default=0, show_default=True, type=int, envvar=_env("SEED"),
                     help="Seed for ids and mock outputs. [env THEAZO_EMU_SEED]"),
        click.option("--clock", "clock", default="now", show_default=True, envvar=_env("CLOCK"),
                     help="'now' (flows with wall time) or an ISO instant to start frozen at. [env THEAZO_EMU_CLOCK]"),
        click.option("--pace", type=click.Choice(["realtime", "instant"]), default="realtime", show_default=True,
                     envvar=_env("PACE"), help="'instant' collapses run timelines. [env THEAZO_EMU_PACE]"),
        click.option("--dialect", type=click.Choice(["auto", "reference", "sdk"]), default="auto", show_default=True,
                     envvar=_env("DIALECT"),
                     help="Response shape where the reference and the SDK differ; auto = by X-SDK-Version. "
                          "[env THEAZO_EMU_DIALECT]"),
        click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
                     envvar=_env("FIXTURES"), help="Fixture directory. [env THEAZO_EMU_FIXTURES]"),
        click.option("--heartbeat", "heartbeat_s", type=click.FloatRange(0.05, 3600), default=15.0, show_default=True,
                     envvar=_env("HEARTBEAT"), help="Seconds between SSE heartbeats while idle. "
                                                    "[env THEAZO_EMU_HEARTBEAT]"),
        click.option("--exec", "exec_mode", type=click.Choice(["mock", "local"]), default="mock", show_default=True,
                     envvar=_env("EXEC"), help="'local' runs python/bash exec for real. [env THEAZO_EMU_EXEC]"),
        click.option("--master-key", "master_key", default=None, envvar=_env("MASTER_KEY"), show_default=False,
                     help="Key encrypting secrets at rest: 64 hex characters or base64 of 32 bytes. Default: the "
                          "file <db>.key (created with mode 0600), or a random key for :memory:. "
                          "[env THEAZO_EMU_MASTER_KEY]"),
        click.option("--rate-limit", "rate_limit", default=None, envvar=_env("RATE_LIMIT"), callback=_rate_limit,
                     help="Requests per minute per API key: free (60), cloud (300), team (1000), N, or off "
                          "(default). [env THEAZO_EMU_RATE_LIMIT]"),
        click.option("--theo-rate-limit", "theo_rate_limit", default=None, envvar=_env("THEO_RATE_LIMIT"),
                     callback=_theo_rate_limit,
                     help="Theo (/api/v1) tier per API key: free (60 requests and 100k tokens a minute), starter, "
                          "pro, enterprise, N requests a minute, or off (default). [env THEAZO_EMU_THEO_RATE_LIMIT]"),
        click.option("--allow-private-webhooks", "allow_private_webhooks", is_flag=True, default=False,
                     envvar=_env("ALLOW_PRIVATE_WEBHOOKS"),
                     help="Let Theo webhooks call private addresses (loopback, LAN) over http or https; by default "
                          "they must be public https URLs. [env THEAZO_EMU_ALLOW_PRIVATE_WEBHOOKS]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(**values: Any) -> Settings:
    clock = values.get("clock", "now")
    if clock != "now":
        try:
            parse_iso(clock)
        except ValueError:
            raise click.BadParameter(f"expected 'now' or an ISO 8601 instant, got {clock!r}", param_hint="--clock")
    if values.get("master_key"):
        try:
            parse_key(values["master_key"])
        except MasterKeyError as exc:  # its message never repeats the key
            raise click.BadParameter(str(exc), param_hint="--master-key / THEAZO_EMU_MASTER_KEY") from None
    return Settings(**values)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="theazo-emu")
def main() -> None:
    """A local, deterministic emulator of the Theazo REST API.

    Example: theazo-emu serve --clock 2025-05-01T00:00:00Z --seed 7
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar=_env("HOST"),
              help="Interface to bind. [env THEAZO_EMU_HOST]")
@click.option("--port", default=4010, show_default=True, type=click.IntRange(0, 65535), envvar=_env("PORT"),
              help="Port; 0 picks a free one and prints it. [env THEAZO_EMU_PORT]")
@click.option("--log-level", default="warning", show_default=True, envvar=_env("LOG_LEVEL"),
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="Server log level; 'info' logs every request. [env THEAZO_EMU_LOG_LEVEL]")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), default=None, envvar=_env("RECORD"),
              help="Record every interaction to this cassette (JSON Lines, secrets redacted). [env THEAZO_EMU_RECORD]")
@click.option("--upstream", default=None, metavar="URL", envvar=_env("UPSTREAM"),
              help="With --record: proxy every request to this server and record its answers. "
                   "[env THEAZO_EMU_UPSTREAM]")
@click.option("--replay", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar=_env("REPLAY"), help="Answer /v1 and /api/v1 requests from this cassette. [env THEAZO_EMU_REPLAY]")
@click.option("--replay-mode", type=click.Choice(["strict", "fallback"]), default="strict", show_default=True,
              envvar=_env("REPLAY_MODE"), help="On a request the cassette lacks: 404 replay_miss (strict) or the "
                                               "emulator's own answer (fallback). [env THEAZO_EMU_REPLAY_MODE]")
@click.option("--journal-size", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True,
              envvar=_env("JOURNAL_SIZE"), help="Entries the request journal keeps. [env THEAZO_EMU_JOURNAL_SIZE]")
@emulator_options
def serve(host: str, port: int, log_level: str, **options: Any) -> None:
    """Start the emulator.

    Example: theazo-emu serve --port 0 --clock 2025-05-01T00:00:00Z
    """
    if options.get("fixtures") is None and Path("fixtures").is_dir():
        options["fixtures"] = Path("fixtures")  # DESIGN.md: ./fixtures when present (serve only)
    settings = _settings(host=host, port=port, **options)
    try:
        app = create_app(settings)
    except Exception as exc:  # a bad --db path, an unreadable file: say so, no traceback
        raise click.ClickException(f"cannot start: {exc}") from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it
    # every response waits on the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot bind {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    click.echo(_banner(url, settings), nl=False)
    sys.stdout.flush()
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])


def _banner(url: str, settings: Settings) -> str:
    return (
        f"theazo-emu {__version__} listening on {url}\n"
        f"  Theazo API   {url}/v1\n"
        f"  Theo API     {url}/api/v1 (OpenAI-compatible: {url}/api/v1/chat/completions)\n"
        f"  admin API    {url}/_emu (health, clock, reset)\n"
        f"  inspector    {url}/_emu/ui\n"
        f"  OpenAPI      {url}/v1/openapi.json, {url}/api/v1/openapi.json\n"
        f"  db={settings.db} seed={settings.seed} clock={settings.clock} pace={settings.pace} "
        f"exec={settings.exec_mode}\n"
        + (f"  recording to {settings.record}" + (f" via {settings.upstream}" if settings.upstream else "") + "\n"
           if settings.record else "")
        + (f"  replaying {settings.replay} ({settings.replay_mode})\n" if settings.replay else "")
        + (f"  fixtures     {settings.fixtures} (reloaded on change)\n" if settings.fixtures else "")
        + "\n"
        "  import Theazo from 'theazo';\n"
        f"  const theazo = new Theazo({{ apiKey: 'th_test_local', baseUrl: '{url}' }});\n"
        "  import { Theo } from '@hitheo/sdk';\n"
        f"  const theo = new Theo({{ apiKey: 'theo_sk_test_local', baseUrl: '{url}' }});\n"
        "\n"
    )


@main.command()
@click.argument("method")
@click.argument("path")
@click.option("--data", "-d", default=None, help="JSON request body.")
@click.option("--key", default="th_test_cli", show_default=True, envvar=_env("KEY"),
              help="API key to send. [env THEAZO_EMU_KEY]")
@emulator_options
def call(method: str, path: str, data: str | None, key: str, **options: Any) -> None:
    """Make one in-process request and print the answer; exit 1 unless it is 2xx.

    Example: theazo-emu call POST /v1/sessions --data '{"userId": "u1"}'
    """
    settings = _settings(**options)
    try:
        app = create_app(settings)
    except Exception as exc:  # as in serve: a wrong master key or a bad --db is a message, not a traceback
        raise click.ClickException(f"cannot start: {exc}") from None
    status, text = asyncio.run(_call(app, method.upper(), path, data, key))
    click.echo(text)
    if not 200 <= status < 300:
        sys.exit(1)


async def _call(app: Any, method: str, path: str, data: str | None, key: str) -> tuple[int, str]:
    import httpx  # imported here, not at the top, to keep it off `serve`'s start-up path

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        response = await client.request(method, path, content=data.encode() if data else None, headers=headers)
    try:
        return response.status_code, json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        return response.status_code, response.text


@main.command()
def routes() -> None:
    """List every route the emulator serves.

    Example: theazo-emu routes | grep agents
    """
    from .app import api_routes

    for route in api_routes():
        for method in sorted(route.methods - {"HEAD"}):
            click.echo(f"{method:7} {route.path:45} {route.summary}")


@main.command()
@click.option("--surface", type=click.Choice(["theazo", "theo", "admin"]), default="theazo", show_default=True,
              help="Which API's document: Theazo (/v1), Theo (/api/v1) or the admin API (/_emu).")
def openapi(surface: str) -> None:
    """Print the OpenAPI 3.1 document of one API.

    Example: theazo-emu openapi > theazo.openapi.json
    """
    from . import openapi as document
    from .surfaces import SURFACES

    click.echo(json.dumps(document.build(next(s for s in SURFACES if s.name == surface)), indent=2))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Compare every answer with the recorded one; exit 1 on any difference.")
@click.option("--against", default=None, metavar="URL", envvar=_env("AGAINST"),
              help="Send to this running server instead of a fresh in-process emulator. [env THEAZO_EMU_AGAINST]")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
              help="Seconds one answer may take (a stream: until it ends).")
@click.option("--key-prefix", default="th_test_replay_", show_default=True,
              help="Test keys standing in for the recorded ones are this prefix + the alias (key1, key2...).")
@click.option("--ignore-extra-fields", is_flag=True, help="Fields the recording lacks are not differences.")
@emulator_options
@click.pass_context
def replay(ctx: click.Context, file: Path, verify: bool, against: str | None, timeout: float, key_prefix: str,
           ignore_extra_fields: bool, **options: Any) -> None:
    """Send a cassette's requests to a fresh emulator (settings from the options; by
    default the clock is frozen at the first recorded instant) or to --against URL.
    Ids are mapped and timestamps normalised before comparing.

    Example: theazo-emu replay scenario.jsonl --verify --seed 0
    """
    # Imported here, not at the top, to keep httpx off `serve`'s start-up path.
    from .record.cassette import CassetteError, read_cassette
    from .record.replay import ReplayError, describe, replay_cassette

    if not key_prefix.startswith("th_test_"):
        raise click.BadParameter("must start with th_test_", param_hint="--key-prefix")
    try:
        interactions = read_cassette(file)
    except CassetteError as exc:
        raise click.ClickException(str(exc)) from None
    app = None
    if against is None:
        if ctx.get_parameter_source("clock") is click.core.ParameterSource.DEFAULT and interactions \
                and interactions[0].get("at"):
            options["clock"] = interactions[0]["at"]
        try:
            app = create_app(_settings(**options))
        except Exception as exc:  # as in serve
            raise click.ClickException(f"cannot start: {exc}") from None
    redactor = app.state.emu.journal.redactor if app is not None else None
    with click.progressbar(length=len(interactions), label="replaying", file=sys.stderr) as bar:
        try:
            outcomes = asyncio.run(replay_cassette(
                interactions, app=app, url=against, redactor=redactor, timeout=timeout, key_prefix=key_prefix,
                ignore_extra=ignore_extra_fields, on_done=lambda outcome: bar.update(1)))
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from None
    if not sys.stderr.isatty():
        click.echo(err=True)  # click draws no bar off a terminal, only the label: end its line
    differ = [o for o in outcomes if o.mismatches]
    where = against or "a fresh in-process emulator"
    if verify:
        for outcome in differ:
            click.echo(describe(outcome))
        verdict = f"{len(differ)} differ from the recording" if differ else "all match the recording"
        click.echo(f"{len(outcomes)} interactions replayed against {where}: {verdict}.")
        if differ:
            sys.exit(1)
    else:
        click.echo(f"{len(outcomes)} interactions replayed against {where}"
                   + (f"; {len(differ)} answers differ (--verify shows how)." if differ else "."))


@main.group("fixtures")
def fixtures_group() -> None:
    """Work with fixture files (the format is in fixtures/README.md).

    Example: theazo-emu fixtures check ./fixtures
    """


@fixtures_group.command("check")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def fixtures_check(directory: Path) -> None:
    """Validate DIRECTORY's fixture files and dry-run their seeds; exit 1 on any problem.

    Example: theazo-emu fixtures check ./fixtures
    """
    try:
        app = create_app(Settings(fixtures=directory))
    except FixtureError as exc:
        click.echo(f"{len(exc.problems)} problem(s) in {directory}:")
        for problem in exc.problems:
            click.echo(f"  {problem}")
        sys.exit(1)
    counts = app.state.emu.fixtures.current.counts()
    app.state.emu.close()
    click.echo(f"OK {directory}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


main.add_command(cli_remote.clock)
main.add_command(cli_remote.reset)
main.add_command(cli_remote.state)
main.add_command(cli_remote.journal_requests)
fixtures_group.add_command(cli_remote.fixtures_reload)
