"""Speech: POST /api/v1/audio/tts (MP3 bytes) and POST /api/v1/audio/stt (multipart upload).

theo-api.md §1.2; the audio itself is theo/domain/audio.py. TTS takes `text` (1-4,096
characters; 400 `missing_text` when absent or blank), `voice` (an unknown one falls back to
theo-voice-classic) and `speed` 0.25-4.0, and answers `audio/mpeg` bytes with
`Content-Length` and an `X-Request-Id` prefixed `tts_`. STT takes multipart/form-data with a
`file` part (at most 25 MB, else 413; mp3, mp4, mpeg, mpga, m4a, wav, webm or ogg, detected
from the bytes or the part's type, else 400 `invalid_format`; none or empty: 400
`missing_file`) and an optional `language` part, and answers `{id, created, text, language,
duration_seconds, usage}`. Both are booked like the other media (ledger and audit).
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.bodies.media import CreateSpeech
from theazo_emu.theo.domain import audio, engines, media
from theazo_emu.theo.domain.errors import TheoError, invalid
from theazo_emu.theo.routes.media import caller

MAX_UPLOAD_BODY = audio.MAX_AUDIO + 256 * 1024  # the file and the multipart framing around it


async def create_speech(ctx: Ctx) -> Response:
    """Speak text: MP3 bytes (audio/mpeg)."""
    body: CreateSpeech = ctx.body
    who = caller(ctx)
    media.admit(ctx.t, who, "fast")
    voice = audio.voice_of(body.voice)
    data = audio.tts_mp3(body.text, voice, body.speed)
    cost = audio.tts_cost_units(body.text)
    with ctx.store.atomic():
        ident = ctx.t.new_id("tts")
        media.book(ctx.t, who, kind="tts", mode="tts", model=voice, entity_id=ident, prompt=body.text,
                   cost_units=cost, output={"bytes": len(data), "voice": voice})
    request_id = ctx.request.scope.get("state", {}).get("request_id", "")
    return Response(data, media_type="audio/mpeg",
                    headers={"X-Request-Id": "tts_" + request_id.partition("_")[2], "X-Theo-Voice": voice,
                             "X-Theo-Cost-Cents": str(engines.cents(cost))})


async def _upload(ctx: Ctx) -> tuple[bytes, str | None, str | None, str | None]:
    """(file bytes, its part's content type, its filename, the language) of the multipart body."""
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise TheoError(400, "missing_file", "Send the audio as multipart/form-data with a 'file' part.")

    async def chunks():  # noqa: ANN202 - the raw body, already read and size-checked by the route
        yield ctx.body

    try:
        form = await MultiPartParser(ctx.request.headers, chunks(), max_files=1, max_fields=8).parse()
    except MultiPartException as exc:
        raise invalid("body", f"malformed multipart body: {exc.message}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise TheoError(400, "missing_file", "The multipart body has no 'file' part holding a file.")
        data = await upload.read()
        language = form.get("language")
        if language is not None and (not isinstance(language, str) or not 2 <= len(language) <= 12
                                     or not language.replace("-", "").isalpha()):
            raise invalid("language", "must be an ISO 639-1 code such as 'en'")
        return data, upload.content_type, upload.filename, language or None
    finally:
        await form.close()


async def create_transcript(ctx: Ctx) -> dict:
    """Transcribe an uploaded recording (multipart: `file`, optional `language`)."""
    data, part_type, filename, language = await _upload(ctx)
    if not data:
        raise TheoError(400, "missing_file", "The uploaded file is empty.")
    fmt = audio.detect(data, part_type)
    if fmt is None:
        raise TheoError(400, "invalid_format", f"Unsupported audio ({(part_type or 'no content type')[:60]}): send "
                                               f"{', '.join(audio.FORMATS)}.")
    who = caller(ctx)
    media.admit(ctx.t, who, "fast")
    heard = audio.transcribe(ctx.t, data, fmt, filename, language)
    if heard.error is not None:
        raise TheoError(heard.error.http_status, heard.error.code,
                        heard.error.message or f"Transcription failed with {heard.error.code} (scripted by "
                                               f"{heard.script}).")
    cost = audio.stt_cost_units(heard.duration)
    with ctx.store.atomic():
        ident = ctx.t.new_id("stt")
        media.book(ctx.t, who, kind="stt", mode="stt", model="theo-stt", entity_id=ident, prompt=heard.text,
                   cost_units=cost, output={"format": fmt, "bytes": len(data), "script": heard.script})
    return {"id": ident, "object": "transcription", "created": ctx.now_iso(), "text": heard.text,
            "language": heard.language, "duration_seconds": heard.duration, "format": fmt,
            "usage": {"cost_cents": engines.cents(cost)}}


routes = [
    api_route("/api/v1/audio/tts", create_speech, "POST", body=CreateSpeech),
    api_route("/api/v1/audio/stt", create_transcript, "POST", max_body=MAX_UPLOAD_BODY),
]
