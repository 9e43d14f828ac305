"""The `theazo-emu` command: options -> Settings -> create_app -> uvicorn.

Every option can also be set by a `THEAZO_EMU_*` environment variable (named on each
option's help; shared options are in cli_options.py). The commands that talk to a running
server (`call`, `clock`, `reset`, `state`, `requests`, `coverage`, `fixtures reload`) are in
cli_remote.py, `theo` (what a person at Theo decides) in cli/decisions.py; they take `--url`; `replay` is in cli_replay.py. Errors are click errors,
never tracebacks.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import socket
import sys
from pathlib import Path
from typing import Any, Iterator

import click
import uvicorn

from theazo_emu.app import create_app
from theazo_emu.cli import remote as cli_remote
from theazo_emu.cli.call import call
from theazo_emu.cli.options import (DEFAULT_URL, build_settings, default_fixtures, emulator_options, env,
                                     settings_from_cassette)
from theazo_emu.cli.replay import replay
from theazo_emu.cli.decisions import theo
from theazo_emu.core.redaction import LogFilter
from theazo_emu.core.version import __version__
from theazo_emu.fixtures.loader import FixtureError
from theazo_emu.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="theazo-emu")
def main() -> None:
    """A local, deterministic emulator of the Theazo REST API.

    Example: theazo-emu serve --clock 2025-05-01T00:00:00Z --seed 7
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar=env("HOST"),
              help="Interface to bind. [env THEAZO_EMU_HOST]")
@click.option("--port", default=4010, show_default=True, type=click.IntRange(0, 65535), envvar=env("PORT"),
              help="Port; 0 picks a free one and prints it. [env THEAZO_EMU_PORT]")
@click.option("--log-level", default="warning", show_default=True, envvar=env("LOG_LEVEL"),
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="Server log level; 'info' logs every request. [env THEAZO_EMU_LOG_LEVEL]")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), default=None, envvar=env("RECORD"),
              help="Record every interaction to this cassette (JSON Lines, secrets redacted). [env THEAZO_EMU_RECORD]")
@click.option("--upstream", default=None, metavar="URL", envvar=env("UPSTREAM"),
              help="With --record: proxy every request to this server and record its answers. "
                   "[env THEAZO_EMU_UPSTREAM]")
@click.option("--replay", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar=env("REPLAY"), help="Answer /v1 and /api/v1 requests from this cassette. [env THEAZO_EMU_REPLAY]")
@click.option("--replay-mode", type=click.Choice(["strict", "fallback"]), default="strict", show_default=True,
              envvar=env("REPLAY_MODE"), help="On a request the cassette lacks: 404 replay_miss (strict) or the "
                                               "emulator's own answer (fallback). [env THEAZO_EMU_REPLAY_MODE]")
@click.option("--journal-size", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True,
              envvar=env("JOURNAL_SIZE"), help="Entries the request journal keeps. [env THEAZO_EMU_JOURNAL_SIZE]")
@click.option("--import", "import_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar=env("IMPORT"), help="Load this state document (from `state export`) before serving. "
                                         "[env THEAZO_EMU_IMPORT]")
@click.option("--export-on-exit", "export_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar=env("EXPORT_ON_EXIT"), help="Write the whole state to this file when the server stops. "
                                                 "[env THEAZO_EMU_EXPORT_ON_EXIT]")
@emulator_options
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, log_level: str, import_file: Path | None,
          export_file: Path | None, **options: Any) -> None:
    """Start the emulator.

    Example: theazo-emu serve --port 0 --clock 2025-05-01T00:00:00Z
    """
    if options.get("replay") is not None:
        for warning in _replay_settings(ctx, options):
            click.echo(f"warning: {warning}", err=True)
    default_fixtures(options)  # DESIGN.md: ./fixtures when present
    if export_file is not None:
        _check_writable(export_file, "--export-on-exit")
    settings = build_settings(host=host, port=port, export_on_exit=export_file, **options)
    try:
        app = create_app(settings)
    except Exception as exc:  # a bad --db path, an unreadable file: say so, no traceback
        raise click.ClickException(f"cannot start: {exc}") from None
    if import_file is not None:
        _import_state(app, import_file)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it
    # every response waits on the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        taken = " (another server has it: `--port 0` picks a free one, or name another with --port)" \
            if exc.errno == errno.EADDRINUSE else ""
        raise click.ClickException(f"cannot bind {host}:{port}: {exc.strerror}{taken}") from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    click.echo(_banner(url, settings), nl=False)
    if url != DEFAULT_URL:  # call, clock, requests, ... talk to DEFAULT_URL unless told otherwise
        click.echo(f"  for the other commands:  export THEAZO_EMU_URL={url}\n")
    sys.stdout.flush()
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=1)
    logging.getLogger("uvicorn.access").addFilter(LogFilter(app.state.emu.journal.redactor))  # secret query values
    server = _Server(config)
    server.run(sockets=[sock])  # its shutdown writes --export-on-exit (app.lifespan)
    app.state.emu.close()  # a file database: its log folded into the file, which is whole on its own
    click.echo(_kept(settings, server.tape_state))


class _Server(uvicorn.Server):
    """uvicorn's server, but a stop asked with Ctrl-C or SIGTERM ends the command cleanly
    (exit 0) after the graceful shutdown: uvicorn raises the signal again once it is done,
    which would end in click's "Aborted!" (exit 1) or death by SIGTERM."""

    tape_state: dict[str, Any] = {"mode": "off"}

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                getattr(self, "_captured_signals", []).clear()

    async def shutdown(self, sockets: Any = None) -> None:
        self.tape_state = self.config.app.state.emu.tape.describe()  # before the lifespan closes it
        await super().shutdown(sockets)


def _kept(settings: Settings, tape: dict[str, Any]) -> str:
    """The last line of a stopped server: what it kept, and where."""
    kept = ["state in memory, not kept" if settings.db in ("", ":memory:") else f"state kept in {settings.db}"]
    if tape.get("mode") == "recording":
        kept.append(f"cassette {tape['file']} with {tape['interactions']} interactions")
    if settings.export_on_exit is not None:
        kept.append(f"state exported to {settings.export_on_exit}")
    return "stopped: " + "; ".join(kept)


def _replay_settings(ctx: click.Context, options: dict[str, Any]) -> list[str]:
    """`serve --replay FILE` takes the cassette's settings, as `replay` does."""
    from theazo_emu.record.cassette import CassetteError, read_cassette

    try:
        cassette = read_cassette(options["replay"])
    except CassetteError as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
    first_at = cassette.interactions[0].get("at") if cassette.interactions else None
    return settings_from_cassette(ctx, options, cassette.header, first_at)


def _check_writable(path: Path, option: str) -> None:
    if path.is_dir() or not path.resolve().parent.is_dir():
        raise click.BadParameter(f"cannot write {path}: its directory does not exist" if not path.is_dir()
                                 else f"{path} is a directory", param_hint=option)


def _import_state(app: Any, path: Path) -> None:
    """Load a state document before the first request (Firebase's --import)."""
    from pydantic import ValidationError

    from theazo_emu.admin.bodies import StateDocument
    from theazo_emu.core.errors import ApiError
    from theazo_emu.core.snapshot import import_state

    try:
        document = StateDocument.model_validate(json.loads(path.read_text(encoding="utf-8")))
        import_state(app.state.emu, document.model_dump())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            reason = f"{'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}"
        else:
            reason = str(exc)
        raise click.ClickException(f"cannot import {path}: not a state document ({reason})") from None
    except ApiError as exc:
        raise click.ClickException(f"cannot import {path}: {exc.message}") from None


def _banner(url: str, settings: Settings) -> str:
    return (
        f"theazo-emu {__version__} listening on {url}\n"
        f"  Theazo API   {url}/v1\n"
        f"  Theo API     {url}/api/v1 (OpenAI-compatible: {url}/api/v1/chat/completions)\n"
        f"  admin API    {url}/_emu (health, clock, reset)\n"
        f"  inspector    {url}/_emu/ui\n"
        f"  OpenAPI      {url}/v1/openapi.json, {url}/api/v1/openapi.json, {url}/_emu/openapi.json\n"
        f"  db={settings.db} seed={settings.seed} clock={settings.clock} pace={settings.pace} "
        f"exec={settings.exec_mode}\n"
        + (f"  recording to {settings.record}" + (f" via {settings.upstream}" if settings.upstream else "") + "\n"
           if settings.record else "")
        + (f"  replaying {settings.replay} ({settings.replay_mode})\n" if settings.replay else "")
        + (f"  fixtures     {settings.fixtures} (reloaded on change)\n" if settings.fixtures else "")
        + "  record       POST /_emu/record {\"file\": \"cassette.jsonl\"}  (stop: DELETE /_emu/record)\n"
        + "\n"
        "  import Theazo from 'theazo';\n"
        f"  const theazo = new Theazo({{ apiKey: 'th_test_local', baseUrl: '{url}' }});\n"
        "  import { Theo } from '@hitheo/sdk';\n"
        f"  const theo = new Theo({{ apiKey: 'theo_sk_test_local', baseUrl: '{url}' }});\n"
        "\n"
    )


@main.command()
def routes() -> None:
    """List every route the emulator serves.

    Example: theazo-emu routes | grep agents
    """
    from theazo_emu.app import api_routes

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
    from theazo_emu.core import openapi as document
    from theazo_emu.surfaces import SURFACES

    click.echo(json.dumps(document.build(next(s for s in SURFACES if s.name == surface)), indent=2))


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


main.add_command(call)
main.add_command(cli_remote.coverage)
main.add_command(replay)
main.add_command(cli_remote.clock)
main.add_command(cli_remote.reset)
main.add_command(cli_remote.state)
main.add_command(cli_remote.journal_requests)
main.add_command(theo)
fixtures_group.add_command(cli_remote.fixtures_reload)
