"""`theazo-emu replay FILE [--verify]`: a cassette's requests sent again, answers compared.

Settings come from the cassette's header (seed, clock, pace, dialect, exec and its fixture
directory, or ./fixtures when present); an option given overrides one. Fixtures whose
files differ from the recording's, or another emulator version, are warned about on
stderr. An empty cassette has nothing to verify, which is an error, not a pass. record/
(and httpx with it) is imported here on use, keeping it off `serve`'s start-up path.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from theazo_emu.app import create_app
from theazo_emu.cli.options import build_settings, emulator_options, env, settings_from_cassette


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Compare every answer with the recorded one; exit 1 on any difference.")
@click.option("--against", default=None, metavar="URL", envvar=env("AGAINST"),
              help="Send to this running server instead of a fresh in-process emulator. [env THEAZO_EMU_AGAINST]")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
              help="Seconds one answer may take (a stream: until it ends).")
@click.option("--key-prefix", default="th_test_replay_", show_default=True,
              help="Theazo test keys standing in for the recorded ones are this prefix + the alias (key1...).")
@click.option("--ignore-extra-fields", is_flag=True, help="Fields the recording lacks are not differences.")
@emulator_options
@click.pass_context
def replay(ctx: click.Context, file: Path, verify: bool, against: str | None, timeout: float, key_prefix: str,
           ignore_extra_fields: bool, **options: Any) -> None:
    """Send a cassette's requests to a fresh emulator set up as the cassette's header says
    (an option given overrides one), or to --against URL. The virtual clock is moved to each
    recorded instant; ids are mapped and timestamps normalised before comparing.

    Example: theazo-emu replay scenario.jsonl --verify
    """
    from theazo_emu.record.cassette import CassetteError, read_cassette
    from theazo_emu.record.replay import ReplayError, describe
    from theazo_emu.record.targets import replay_cassette

    if not key_prefix.startswith("th_test_"):
        raise click.BadParameter("must start with th_test_", param_hint="--key-prefix")
    try:
        cassette = read_cassette(file)
    except CassetteError as exc:
        raise click.ClickException(str(exc)) from None
    interactions = cassette.interactions
    if verify and not interactions:
        raise click.ClickException(f"{file} holds no interactions: there is nothing to verify "
                                   "(was anything requested while it was recording?)")
    app = None
    if against is None:
        first_at = interactions[0].get("at") if interactions else None
        for warning in settings_from_cassette(ctx, options, cassette.header, first_at):
            click.echo(f"warning: {warning}", err=True)
        try:
            app = create_app(build_settings(**options))
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
        finally:
            if app is not None:
                app.state.emu.close()
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
