"""The `theazo-emu` command: options -> Settings -> create_app -> uvicorn.

Every option can also be set by a `THEAZO_EMU_*` environment variable (named on each
option's help). Commands that talk to a running server (`clock`, `reset`) take `--url`.
Errors are click errors, never tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from pathlib import Path
from typing import Any, Callable

import click
import uvicorn

from . import __version__
from .app import create_app
from .clock import parse_iso
from .settings import Settings

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _env(name: str) -> str:
    return f"THEAZO_EMU_{name}"


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
@emulator_options
def serve(host: str, port: int, log_level: str, **options: Any) -> None:
    """Start the emulator.

    Example: theazo-emu serve --port 0 --clock 2025-05-01T00:00:00Z
    """
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
        f"  admin API    {url}/_emu (health, clock, reset)\n"
        f"  OpenAPI      {url}/v1/openapi.json\n"
        f"  db={settings.db} seed={settings.seed} clock={settings.clock} pace={settings.pace} "
        f"exec={settings.exec_mode}\n"
        "\n"
        "  import Theazo from 'theazo';\n"
        f"  const theazo = new Theazo({{ apiKey: 'th_test_local', baseUrl: '{url}' }});\n"
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
    app = create_app(_settings(**options))
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


url_option = click.option("--url", default="http://127.0.0.1:4010", show_default=True, envvar=_env("URL"),
                          help="A running emulator. [env THEAZO_EMU_URL]")


def _admin(url: str, method: str, path: str, body: dict | None = None) -> dict:
    import httpx  # see _call

    try:
        response = httpx.request(method, url.rstrip("/") + path, json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the emulator at {url}: {exc}") from None
    payload = response.json()
    if response.status_code >= 400:
        raise click.ClickException(payload.get("error", {}).get("message", response.text))
    return payload


@main.group()
def clock() -> None:
    """Show or move the virtual clock of a running emulator.

    Example: theazo-emu clock advance 1h
    """


@clock.command("show")
@url_option
def clock_show(url: str) -> None:
    """Print the current virtual time."""
    click.echo(json.dumps(_admin(url, "GET", "/_emu/clock"), indent=2))


@clock.command("advance")
@click.argument("duration")
@url_option
def clock_advance(duration: str, url: str) -> None:
    """Advance by DURATION: 90s, 15m, 1h, 2d or plain seconds."""
    match = _DURATION.match(duration.strip())
    if not match:
        raise click.BadParameter("expected a duration such as 90s, 15m, 1h, 2d", param_hint="DURATION")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    click.echo(json.dumps(_admin(url, "POST", "/_emu/clock/advance", {"seconds": seconds}), indent=2))


@clock.command("set")
@click.argument("instant")
@url_option
def clock_set(instant: str, url: str) -> None:
    """Move the clock forward to an ISO 8601 INSTANT."""
    click.echo(json.dumps(_admin(url, "POST", "/_emu/clock/advance", {"to": instant}), indent=2))


@main.command()
@click.option("--key", default=None, help="Reset only this key's tenant.")
@url_option
def reset(key: str | None, url: str) -> None:
    """Reset a running emulator (every tenant, or one key's).

    Example: theazo-emu reset --key th_test_ci_worker_3
    """
    click.echo(json.dumps(_admin(url, "POST", "/_emu/reset", {"tenant": key} if key else {}), indent=2))


@main.command()
def routes() -> None:
    """List every route the emulator serves.

    Example: theazo-emu routes | grep agents
    """
    from .http import ApiRoute

    for route in create_app(Settings()).routes:
        if isinstance(route, ApiRoute):
            for method in sorted(route.methods - {"HEAD"}):
                click.echo(f"{method:7} {route.path:45} {route.summary}")


@main.command()
def openapi() -> None:
    """Print the OpenAPI 3.1 document.

    Example: theazo-emu openapi > theazo.openapi.json
    """
    from . import openapi as document

    click.echo(json.dumps(document.build(create_app(Settings()).routes), indent=2))
