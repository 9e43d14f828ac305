"""Options shared by the `theazo-emu` commands, and their checks.

`emulator_options` shape an emulator (`serve`, `replay`, `call --in-process`); `url_option`
names the running server every other command talks to (`--url`, env THEAZO_EMU_URL).
`settings_from_cassette` fills the emulator options a user did not give from a cassette's
header (replay and `serve --replay` need no options). Every option can also be set by a
`THEAZO_EMU_*` variable; a value from one counts as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from theazo_emu.core.clock import parse_iso
from theazo_emu.core.crypto import MasterKeyError, parse_key
from theazo_emu.core.ratelimit import parse_limit
from theazo_emu.settings import Settings
from theazo_emu.theo.domain.ratelimit import parse_tier

DEFAULT_URL = "http://127.0.0.1:4010"
EMULATOR_OPTIONS = ("db", "seed", "clock", "pace", "dialect", "fixtures", "heartbeat_s", "exec_mode", "master_key",
                    "rate_limit")


def env(name: str) -> str:
    return f"THEAZO_EMU_{name}"


url_option = click.option("--url", default=DEFAULT_URL, show_default=True, envvar=env("URL"),
                          help="A running emulator. [env THEAZO_EMU_URL]")


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
    """The options that shape an emulator, shared by `serve`, `replay` and `call --in-process`."""
    options = [
        click.option("--db", default=":memory:", show_default=True, envvar=env("DB"),
                     help="SQLite file to persist state in, or :memory:. [env THEAZO_EMU_DB]"),
        click.option("--seed", default=0, show_default=True, type=int, envvar=env("SEED"),
                     help="Seed for ids and mock outputs. [env THEAZO_EMU_SEED]"),
        click.option("--clock", "clock", default="now", show_default=True, envvar=env("CLOCK"),
                     help="'now' (flows with wall time) or an ISO instant to start frozen at. [env THEAZO_EMU_CLOCK]"),
        click.option("--pace", type=click.Choice(["realtime", "instant"]), default="realtime", show_default=True,
                     envvar=env("PACE"), help="'instant' collapses run timelines. [env THEAZO_EMU_PACE]"),
        click.option("--dialect", type=click.Choice(["auto", "reference", "sdk"]), default="auto", show_default=True,
                     envvar=env("DIALECT"),
                     help="Response shape where the reference and the SDK differ; auto = by X-SDK-Version. "
                          "[env THEAZO_EMU_DIALECT]"),
        click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
                     envvar=env("FIXTURES"), help="Fixture directory (default ./fixtures when present). "
                                                  "[env THEAZO_EMU_FIXTURES]"),
        click.option("--heartbeat", "heartbeat_s", type=click.FloatRange(0.05, 3600), default=15.0, show_default=True,
                     envvar=env("HEARTBEAT"), help="Seconds between SSE heartbeats while idle. "
                                                   "[env THEAZO_EMU_HEARTBEAT]"),
        click.option("--exec", "exec_mode", type=click.Choice(["mock", "local"]), default="mock", show_default=True,
                     envvar=env("EXEC"), help="'local' runs python, bash and node exec for real. [env THEAZO_EMU_EXEC]"),
        click.option("--master-key", "master_key", default=None, envvar=env("MASTER_KEY"), show_default=False,
                     help="Key encrypting secrets at rest: 64 hex characters or base64 of 32 bytes. Default: the "
                          "file <db>.key (created with mode 0600), or a random key for :memory:. "
                          "[env THEAZO_EMU_MASTER_KEY]"),
        click.option("--rate-limit", "rate_limit", default=None, envvar=env("RATE_LIMIT"), callback=_rate_limit,
                     help="Requests per minute per API key: free (60), cloud (300), team (1000), N, or off "
                          "(default). [env THEAZO_EMU_RATE_LIMIT]"),
        click.option("--theo-rate-limit", "theo_rate_limit", default=None, envvar=env("THEO_RATE_LIMIT"),
                     callback=_theo_rate_limit,
                     help="Theo (/api/v1) tier per API key: free (60 requests and 100k tokens a minute), starter, "
                          "pro, enterprise, N requests a minute, or off (default). [env THEAZO_EMU_THEO_RATE_LIMIT]"),
        click.option("--theo-cache", "theo_cache", type=click.Choice(["on", "off"]), default="on", show_default=True,
                     envvar=env("THEO_CACHE"), callback=lambda ctx, param, value: value == "on",
                     help="Theo's semantic cache: an identical completion request answers _cached: true at zero "
                          "cost until its mode's TTL ends (on by default, as Theo does). [env THEAZO_EMU_THEO_CACHE]"),
        click.option("--allow-private-webhooks", "allow_private_webhooks", is_flag=True, default=False,
                     envvar=env("ALLOW_PRIVATE_WEBHOOKS"),
                     help="Let Theo webhooks call private addresses (loopback, LAN) over http or https; by default "
                          "they must be public https URLs. [env THEAZO_EMU_ALLOW_PRIVATE_WEBHOOKS]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_settings(**values: Any) -> Settings:
    """Settings from option values, each checked with a message naming the option."""
    clock = values.get("clock", "now")
    if clock != "now":
        try:
            parse_iso(clock)
        except (ValueError, OverflowError):
            raise click.BadParameter(f"expected 'now' or an ISO 8601 instant, got {clock!r}", param_hint="--clock")
    if values.get("master_key"):
        try:
            parse_key(values["master_key"])
        except MasterKeyError as exc:  # its message never repeats the key
            raise click.BadParameter(str(exc), param_hint="--master-key / THEAZO_EMU_MASTER_KEY") from None
    return Settings(**values)


def given(ctx: click.Context, name: str) -> bool:
    """Whether the user set this option (on the command line or by its environment variable)."""
    return ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)


def default_fixtures(options: dict[str, Any]) -> None:
    """DESIGN.md: ./fixtures when present and no --fixtures was given."""
    if options.get("fixtures") is None and Path("fixtures").is_dir():
        options["fixtures"] = Path("fixtures")


def settings_from_cassette(ctx: click.Context, options: dict[str, Any], header: dict[str, Any] | None,
                           first_at: str | None) -> list[str]:
    """Fill the options not given from the cassette's header (seed, clock, pace, dialect,
    exec, fixtures); the warnings to show (fixtures or version that differ)."""
    from theazo_emu.record.header import fixture_warnings, recorded_fixtures, settings_of, version_warning

    if header is None:  # a cassette from before headers: at least start where it started
        if not given(ctx, "clock") and first_at:
            options["clock"] = first_at
        default_fixtures(options)
        return []
    for name, value in settings_of(header).items():
        if not given(ctx, name):
            options[name] = value
    if not given(ctx, "fixtures") and header.get("fixtures") is not None:
        # The recorded directory, else ./fixtures when present (as serve loads it); a recording
        # made with no fixtures replays with none.
        options["fixtures"] = recorded_fixtures(header)
        default_fixtures(options)
    warnings = fixture_warnings(header, options.get("fixtures"))
    version = version_warning(header)
    return warnings + ([version] if version else [])
