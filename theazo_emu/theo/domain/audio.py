"""Speech: the MP3 that /audio/tts answers and the transcript that /audio/stt hears.

theo-api.md §1.2. Text to speech answers real MPEG-1 Layer III bytes: an ID3v2 tag naming
the voice, then silent 32 kbit/s mono 44.1 kHz frames (each a valid frame header, zeroed
side information and main data), as many as the text takes to say at about 15 characters
a second divided by `speed`; any MP3 decoder plays them as silence of that length.
Speech to text detects the upload's format from its bytes (ID3 or an MPEG sync word, RIFF
WAVE, OggS, an EBML header for webm, `ftyp` for mp4 and m4a), else from the part's
content type (the SDK sends a Blob as filename `blob`, so the name says nothing), reads a
WAV's or MP3's duration from its headers, and answers a fixture's `transcripts` entry (first
match on format, language, file name and key) or a deterministic mock transcript.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.core.auth import tenant_of
from theazo_emu.theo.domain import engines

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

MAX_TEXT = 4096
MAX_AUDIO = 25 * 1024 * 1024
VOICES = ("theo-voice-classic", "theo-voice-bright", "theo-voice-storyteller", "theo-voice-deep",
          "theo-voice-warm", "theo-voice-soft")
CHARS_PER_SECOND = 15
_FRAME_HEADER = b"\xff\xfb\x10\xc0"  # MPEG-1 Layer III, no CRC, 32 kbit/s, 44.1 kHz, no padding, mono
_FRAME_BYTES = 104  # 144 * 32000 / 44100, rounded down (no padding bit)
_FRAME_SECONDS = 1152 / 44100
FORMAT_TYPES = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpga": "mpga", "audio/mp4": "mp4",
                "video/mp4": "mp4", "audio/m4a": "m4a", "audio/x-m4a": "m4a", "audio/wav": "wav",
                "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav", "audio/webm": "webm",
                "video/webm": "webm", "audio/ogg": "ogg", "application/ogg": "ogg", "audio/mpeg3": "mp3"}
FORMATS = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm", "ogg")
STT_CENTS_PER_MINUTE = 0.6
TTS_CENTS_PER_1K_CHARS = 1.5


def voice_of(asked: str | None) -> str:
    """The voice asked for; an unknown one falls back to classic (documented)."""
    return asked if asked in VOICES else VOICES[0]


def tts_mp3(text: str, voice: str, speed: float) -> bytes:
    """An ID3v2.3 tag (TIT2 = the voice) and the silent frames the text takes to say."""
    seconds = max(0.5, len(text) / CHARS_PER_SECOND / speed)
    frames = max(1, round(seconds / _FRAME_SECONDS))
    title = b"\x00" + voice.encode()
    frame = b"TIT2" + struct.pack(">I", len(title)) + b"\x00\x00" + title
    size = len(frame)
    synchsafe = bytes(((size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F))
    tag = b"ID3\x03\x00\x00" + synchsafe + frame
    return tag + (_FRAME_HEADER + bytes(_FRAME_BYTES - 4)) * frames


def tts_cost_units(text: str) -> int:
    return engines.units(TTS_CENTS_PER_1K_CHARS * len(text) / 1000)


def detect(data: bytes, content_type: str | None) -> str | None:
    """The audio format of an upload: from its bytes, else its part's content type."""
    head = data[:16]
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a" if head[8:11] == b"M4A" else "mp4"
    kind = (content_type or "").split(";")[0].strip().lower()
    return FORMAT_TYPES.get(kind)


def duration(data: bytes, fmt: str) -> float | None:
    """Seconds of a WAV (from its fmt and data chunks) or an MP3 (frames at its first header's
    rate); None for the others."""
    if fmt == "wav":
        return _wav_seconds(data)
    if fmt == "mp3":
        return _mp3_seconds(data)
    return None


def _wav_seconds(data: bytes) -> float | None:
    offset, rate, size = 12, None, None
    while offset + 8 <= len(data):
        chunk, length = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        if chunk == b"fmt " and length >= 16 and offset + 20 <= len(data):  # a cut-off header reads as none
            rate = struct.unpack("<I", data[offset + 16:offset + 20])[0]  # byte rate
        elif chunk == b"data":
            size = min(length, len(data) - offset - 8)
            break
        offset += 8 + length + (length & 1)
    return round(size / rate, 3) if rate and size is not None else None


_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def _mp3_seconds(data: bytes) -> float | None:
    start = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
    if start + 4 > len(data) or data[start] != 0xFF:
        return None
    bitrate_index = data[start + 2] >> 4
    if not 0 < bitrate_index < len(_BITRATES):
        return None
    return round((len(data) - start) * 8 / (_BITRATES[bitrate_index] * 1000), 3)


class Heard(NamedTuple):
    text: str
    language: str | None
    duration: float | None
    error: Any  # a fixture's ScriptedError, or None
    script: str | None


def transcribe(t: "Tenant", data: bytes, fmt: str, filename: str | None,
               language: str | None) -> Heard:
    """A fixture's transcript (first match), or the mock's: a pure function of the bytes."""
    seconds = duration(data, fmt)
    tenant = t.name
    for layer_tenant, layer in t.layers():
        if layer_tenant is not None and layer_tenant != tenant:
            continue
        for entry in layer.transcripts:
            spec, match = entry.spec, entry.spec.match
            if ((match.format is None or match.format == fmt) and (match.language is None or match.language == language)
                    and (match.filename is None or match.filename.test(filename or ""))
                    and (match.key is None or tenant_of(match.key) == tenant)):
                return Heard(spec.text, spec.language or language,
                             spec.durationSeconds if spec.durationSeconds is not None else seconds, spec.error,
                             f"{entry.file} {entry.path}")
    digest = hashlib.sha256(f"{t.settings.seed}|".encode() + data).hexdigest()[:8]
    length = f"{seconds:g}-second " if seconds is not None else ""
    text = f"This is a mock transcript of a {length}{fmt} recording (theazo-emu, ref {digest})."
    return Heard(text, language or "en", seconds, None, None)


def stt_cost_units(seconds: float | None) -> int:
    minutes = max(1, -(-int(seconds or 0) // 60))
    return engines.units(STT_CENTS_PER_MINUTE * minutes)
