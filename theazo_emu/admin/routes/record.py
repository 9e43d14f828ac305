"""Record on a running server, as WireMock does: /_emu/record (DESIGN.md "Record and replay").

`POST /_emu/record {"file", "upstream"?}` starts writing a cassette (truncated, then its
header; 201), `DELETE /_emu/record` stops and says how many interactions it holds, and
`GET /_emu/record` says what is recorded or replayed now (tape.py holds it). Only one tape
is in force at a time: starting another, or stopping when nothing records, is 409. These
calls are never recorded themselves.
"""

from __future__ import annotations

from pathlib import Path

from theazo_emu.core.errors import invalid
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.record.cassette import CassetteError
from theazo_emu.theazo.bodies import RecordStart


async def recording_state(ctx: Ctx) -> dict:
    """What is being recorded or replayed: mode off, recording or replaying, the file, counts."""
    return ctx.emu.tape.describe()


async def start_recording(ctx: Ctx) -> dict:
    """Start recording every interaction to `file` (and proxying to `upstream`, when given)."""
    body: RecordStart = ctx.body
    path = Path(body.file).expanduser()
    if path.is_dir():
        raise invalid("file", f"{body.file} is a directory; name a file such as {body.file.rstrip('/')}/cassette.jsonl")
    if body.upstream is not None and not body.upstream.startswith(("http://", "https://")):
        raise invalid("upstream", "must be an http:// or https:// URL")
    try:
        return ctx.emu.tape.record(path, body.upstream)
    except CassetteError as exc:
        raise invalid("file", str(exc)) from None


async def stop_recording(ctx: Ctx) -> dict:
    """Stop recording; the cassette keeps what it has."""
    return await ctx.emu.tape.stop()


routes = [
    api_route("/_emu/record", recording_state, public=True),
    api_route("/_emu/record", start_recording, "POST", body=RecordStart, public=True, status=201),
    api_route("/_emu/record", stop_recording, "DELETE", public=True),
]
