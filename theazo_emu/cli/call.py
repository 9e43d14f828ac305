"""`theazo-emu call METHOD PATH`: one request to the running server, its answer printed.

Like every command that talks to a server it uses `--url` (env THEAZO_EMU_URL, default
http://127.0.0.1:4010), with `--key` (a Theo key by default on /api/v1 paths), `-H` headers
and `--data`; a stream is printed as it arrives. `--in-process` answers from a fresh
emulator built from the emulator options instead, with no server (those options apply
only then). Exit status 0 for a 2xx answer, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from theazo_emu.app import create_app
from theazo_emu.cli.options import EMULATOR_OPTIONS, build_settings, emulator_options, env, url_option

THEAZO_KEY, THEO_KEY = "th_test_cli", "theo_sk_test_cli"


def unreachable(url: str, exc: Exception) -> click.ClickException:
    return click.ClickException(f"cannot reach the emulator at {url} ({type(exc).__name__}); start one with "
                                "`theazo-emu serve`, pass --url, or use `call --in-process`")


def _headers(raw: tuple[str, ...], key: str | None, path: str, data: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not 'Name: value'", param_hint="-H / --header")
        headers[name.strip()] = value.strip()
    if key is None:
        key = THEO_KEY if path.startswith("/api/") else THEAZO_KEY
    if key and not any(h.lower() == "authorization" for h in headers):
        headers["Authorization"] = f"Bearer {key}"
    if data is not None and not any(h.lower() == "content-type" for h in headers):
        headers["Content-Type"] = "application/json"
    return headers


@click.command()
@click.argument("method")
@click.argument("path")
@click.option("--data", "-d", default=None, help="Request body (JSON); @FILE reads it from a file.")
@click.option("--header", "-H", "header", multiple=True, metavar="'NAME: VALUE'", help="A request header (repeatable).")
@click.option("--key", default=None, envvar=env("KEY"),
              help="API key to send (default th_test_cli, or theo_sk_test_cli on /api/v1; '' sends none). "
                   "[env THEAZO_EMU_KEY]")
@click.option("--in-process", "in_process", is_flag=True,
              help="Answer from a fresh emulator in this process (the emulator options apply) instead of --url.")
@url_option
@emulator_options
@click.pass_context
def call(ctx: click.Context, method: str, path: str, data: str | None, header: tuple[str, ...], key: str | None,
         in_process: bool, url: str, **options: Any) -> None:
    """Send one request to the running emulator and print the answer; exit 1 unless it is 2xx.

    Example: theazo-emu call POST /v1/sessions --data '{"userId": "u1"}'
    """
    if not path.startswith("/"):
        raise click.BadParameter(f"{path!r} must start with '/', such as /v1/sessions", param_hint="PATH")
    if data is not None and data.startswith("@"):
        try:
            data = Path(data[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {data[1:]}: {exc.strerror}", param_hint="--data") from None
    headers = _headers(header, key, path, data)
    if not in_process:
        stray = [param.opts[0] for param in ctx.command.params if param.name in EMULATOR_OPTIONS
                 and ctx.get_parameter_source(param.name) is click.core.ParameterSource.COMMANDLINE]
        if stray:
            raise click.UsageError(f"{', '.join(stray)} shape an in-process emulator: add --in-process, or set "
                                   "them on `theazo-emu serve`")
        status = _remote(url, method.upper(), path, data, headers)
    else:
        settings = build_settings(**options)
        try:
            app = create_app(settings)
        except Exception as exc:  # a wrong master key or a bad --db is a message, not a traceback
            raise click.ClickException(f"cannot start: {exc}") from None
        status, text = asyncio.run(_in_process(app, method.upper(), path, data, headers))
        app.state.emu.close()
        click.echo(text)
    if not 200 <= status < 300:
        sys.exit(1)


def _pretty(body: bytes, content_type: str) -> str:
    if "json" in content_type:
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return body.decode("utf-8", errors="replace")


def _remote(url: str, method: str, path: str, data: str | None, headers: dict[str, str]) -> int:
    import httpx  # imported on use: keeps it off `serve`'s start-up path

    try:
        with httpx.stream(method, url.rstrip("/") + path, content=data.encode() if data is not None else None,
                          headers=headers, timeout=httpx.Timeout(30.0, read=None)) as response:
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                for line in response.iter_lines():  # a stream is shown as it arrives, until it ends
                    click.echo(line)
            else:
                click.echo(_pretty(response.read(), response.headers.get("content-type", "")))
            return response.status_code
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from None


async def _in_process(app: Any, method: str, path: str, data: str | None,
                      headers: dict[str, str]) -> tuple[int, str]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        response = await client.request(method, path, content=data.encode() if data is not None else None,
                                        headers=headers)
    return response.status_code, _pretty(response.content, response.headers.get("content-type", ""))
