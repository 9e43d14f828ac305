"""Theo's synchronous media over HTTP: /images, /code, /documents (with their signed
downloads), /audio/tts (MP3 bytes) and /audio/stt (multipart), their bad inputs, what they
book, and fixtures that script transcripts."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from conftest import advance
from theo_support import bearer, held, theo_error, theo_key


def wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of silence."""
    data = bytes(int(rate * seconds) * 2)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


def post(client, key, path, **body):  # noqa: ANN001, ANN201
    return client.post(path, headers=bearer(key), json=body)


def test_images_answer_count_images_with_the_enriched_prompt_and_their_cost(client):
    key = theo_key()
    response = post(client, key, "/api/v1/images", prompt="a red fox", style="watercolor", aspect_ratio="16:9",
                    count=3)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"].startswith("img_") and body["created"] == "2025-05-01T00:00:00.000Z"
    assert len(body["images"]) == 3 and body["usage"] == {"cost_cents": 12}
    first = body["images"][0]
    assert first["engine"] == "theo-vision" and first["model"] == "theo-1-create" and first["url"].endswith(".png")
    assert first["prompt"].startswith("a red fox, in a watercolor style, 16:9 aspect ratio")
    usage = client.get("/api/v1/usage", headers=bearer(key)).json()
    assert usage["by_mode"]["image"] == {"requests": 1, "prompt_tokens": 0, "completion_tokens": 0,
                                         "total_tokens": 0, "cost_cents": 12, "cache_hits": 0}
    entry = client.get("/api/v1/audit?action=image.created", headers=bearer(key)).json()["events"][0]
    assert entry["entityId"] == body["id"] and "red fox" not in str(entry)  # the prompt only as its digest


@pytest.mark.parametrize("path", ["/api/v1/images", "/api/v1/code", "/api/v1/documents", "/api/v1/video",
                                  "/api/v1/research"])
@pytest.mark.parametrize("body", [{}, {"prompt": ""}, {"prompt": "   "}, {"prompt": None}])
def test_a_missing_prompt_is_400_missing_prompt_and_books_nothing(client, path, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post(path, headers=bearer(key), json=body), 400, "missing_prompt")
    assert held(client, key) == before


@pytest.mark.parametrize("path,body", [
    ("/api/v1/images", {"prompt": "x", "count": 0}), ("/api/v1/images", {"prompt": "x", "count": 5}),
    ("/api/v1/images", {"prompt": "x", "count": "2"}), ("/api/v1/images", {"prompt": "x", "aspect_ratio": "wide"}),
    ("/api/v1/images", {"prompt": 5}), ("/api/v1/code", {"prompt": "x", "language": 3}),
    ("/api/v1/documents", {"prompt": ["x"]}),
])
def test_other_bad_fields_are_400_validation_error(client, path, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post(path, headers=bearer(key), json=body), 400, "validation_error")
    theo_error(client.post(path, headers={**bearer(key), "Content-Type": "application/json"}, content=b"{nope"), 400,
               "validation_error")
    assert held(client, key) == before


def test_code_answers_content_artifacts_and_tools_used(client):
    body = post(client, theo_key(), "/api/v1/code", prompt="parse a csv file", language="typescript",
                framework="node").json()
    assert body["id"].startswith("code_") and "```typescript" in body["content"]
    (artifact,) = body["artifacts"]
    assert artifact["type"] == "code" and artifact["language"] == "typescript" and artifact["id"].startswith("art_")
    assert body["tools_used"] == [{"name": "code", "status": "success"}] and body["usage"]["cost_cents"] > 0


@pytest.mark.parametrize("fmt,magic", [("pdf", b"%PDF-1.4"), ("docx", b"PK"), ("xlsx", b"PK"), ("pptx", b"PK"),
                                       ("csv", b"line,text")])
def test_documents_are_real_files_served_by_a_signed_url(client, fmt, magic):
    key = theo_key()
    body = post(client, key, "/api/v1/documents", prompt="Quarterly report on DNS", format=fmt).json()
    assert body["id"].startswith("doc_") and body["format"] == fmt and body["title"] == "Quarterly report on DNS"
    assert body["content"] and body["usage"]["cost_cents"] > 0
    download = client.get(body["download_url"])  # no key: the signed URL is the credential
    assert download.status_code == 200 and download.content.startswith(magic)
    assert len(download.content) == body["size_bytes"]
    assert download.headers["content-disposition"] == f'attachment; filename="{body["id"]}.{fmt}"'
    if fmt in ("docx", "xlsx", "pptx"):
        names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
        assert "[Content_Types].xml" in names and {"docx": "word/document.xml", "xlsx": "xl/workbook.xml",
                                                   "pptx": "ppt/presentation.xml"}[fmt] in names
    if fmt == "pdf":
        assert download.content.rstrip().endswith(b"%%EOF") and b"Quarterly report on DNS" in download.content


def test_a_download_url_expires_on_the_virtual_clock_and_refuses_tampering(client):
    key = theo_key()
    url = post(client, key, "/api/v1/documents", prompt="memo").json()["download_url"]
    other = post(client, theo_key(), "/api/v1/documents", prompt="memo").json()["download_url"]
    doc_id = url.split("/documents/")[1].split("/")[0]
    other_id = other.split("/documents/")[1].split("/")[0]
    theo_error(client.get(url.replace(doc_id, other_id)), 403, "invalid_signature")
    theo_error(client.get(url[:-2] + ("00" if not url.endswith("00") else "11")), 403, "invalid_signature")
    theo_error(client.get(url.split("?")[0]), 403, "invalid_signature")
    theo_error(client.get("/api/v1/documents/doc_nothing/download?expires=1&signature=x"), 404, "not_found")
    advance(client, 3600)
    assert client.get(url).status_code == 200
    advance(client, 1)
    theo_error(client.get(url), 403, "url_expired")


def test_an_unknown_document_format_is_400_invalid_format(client):
    key = theo_key()
    before = held(client, key)
    for fmt in ("odt", "PDF", 3):
        theo_error(post(client, key, "/api/v1/documents", prompt="x", format=fmt), 400, "invalid_format")
    assert held(client, key) == before


def _frames(data: bytes) -> list[int]:
    """Offsets of the MPEG audio frames after the ID3 tag (each must start a valid header)."""
    assert data[:3] == b"ID3"
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    offset, frames = 10 + size, []
    while offset < len(data):
        header = data[offset:offset + 4]
        assert header[0] == 0xFF and header[1] & 0xE0 == 0xE0, (offset, header)  # frame sync
        assert (header[1] >> 3) & 3 == 3 and (header[1] >> 1) & 3 == 1  # MPEG-1, Layer III
        assert header[2] >> 4 == 1 and (header[2] >> 2) & 3 == 0  # 32 kbit/s, 44.1 kHz
        frames.append(offset)
        offset += 144 * 32000 // 44100
    assert offset == len(data)
    return frames


def test_tts_answers_mp3_frames_as_long_as_the_text_takes(client):
    key = theo_key()
    response = post(client, key, "/api/v1/audio/tts", text="Hello from the emulator. " * 4)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-request-id"].startswith("tts_")
    short = _frames(response.content)
    assert b"theo-voice-classic" in response.content[:64]
    slow = post(client, key, "/api/v1/audio/tts", text="Hello from the emulator. " * 4, speed=0.5,
                voice="theo-voice-warm").content
    assert len(_frames(slow)) == 2 * len(short) and b"theo-voice-warm" in slow[:64]
    unknown = post(client, key, "/api/v1/audio/tts", text="hi", voice="robot").content
    assert b"theo-voice-classic" in unknown[:64]  # an unknown voice falls back to classic
    again = post(client, key, "/api/v1/audio/tts", text="Hello from the emulator. " * 4).content
    assert again == response.content  # deterministic
    assert client.get("/api/v1/usage", headers=bearer(key)).json()["by_mode"]["tts"]["requests"] == 4


@pytest.mark.parametrize("body,code", [({}, "missing_text"), ({"text": ""}, "missing_text"),
                                       ({"text": "  "}, "missing_text"), ({"text": "x" * 4097}, "validation_error"),
                                       ({"text": "x", "speed": 0.1}, "validation_error"),
                                       ({"text": "x", "speed": 5}, "validation_error"),
                                       ({"text": 12}, "validation_error")])
def test_tts_bad_inputs(client, body, code):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post("/api/v1/audio/tts", headers=bearer(key), json=body), 400, code)
    assert held(client, key) == before
    assert post(client, key, "/api/v1/audio/tts", text="x" * 4096).status_code == 200


def test_stt_reads_a_blob_multipart_upload_and_its_wav_duration(client):
    key = theo_key()
    response = client.post("/api/v1/audio/stt", headers=bearer(key),
                           files={"file": ("blob", wav(0.5), "audio/wav")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"].startswith("stt_") and body["duration_seconds"] == 0.5 and body["format"] == "wav"
    assert body["text"].startswith("This is a mock transcript of a 0.5-second wav recording")
    assert body["language"] == "en" and body["usage"] == {"cost_cents": 0.6}
    french = client.post("/api/v1/audio/stt", headers=bearer(key),
                         files={"file": ("tone.wav", wav(2.0), "application/octet-stream")}, data={"language": "fr"})
    assert french.json()["language"] == "fr" and french.json()["duration_seconds"] == 2.0


def test_stt_detects_the_format_from_the_bytes_or_the_part_type(client):
    key = theo_key()
    mp3 = client.post("/api/v1/audio/tts", headers=bearer(key), json={"text": "Say this for a while. " * 5}).content
    body = client.post("/api/v1/audio/stt", headers=bearer(key), files={"file": ("blob", mp3, "")}).json()
    assert body["format"] == "mp3" and 7 < body["duration_seconds"] < 8
    for data, kind, fmt in ((b"OggS" + bytes(60), "application/octet-stream", "ogg"),
                            (b"\x1a\x45\xdf\xa3" + bytes(60), "application/octet-stream", "webm"),
                            (bytes(4) + b"ftypM4A " + bytes(60), "application/octet-stream", "m4a"),
                            (bytes(4) + b"ftypisom" + bytes(60), "application/octet-stream", "mp4"),
                            (b"\x00\x01" + bytes(60), "audio/webm", "webm")):
        answer = client.post("/api/v1/audio/stt", headers=bearer(key), files={"file": ("blob", data, kind)})
        assert answer.json()["format"] == fmt and answer.json()["duration_seconds"] is None


def test_stt_bad_uploads(client):
    key = theo_key()
    before = held(client, key)
    auth = bearer(key)
    theo_error(client.post("/api/v1/audio/stt", headers=auth, json={"file": "x"}), 400, "missing_file")
    theo_error(client.post("/api/v1/audio/stt", headers=auth, data={"language": "en"},
                           files={"other": ("a.wav", wav(), "audio/wav")}), 400, "missing_file")
    theo_error(client.post("/api/v1/audio/stt", headers=auth, files={"file": ("blob", b"", "audio/wav")}), 400,
               "missing_file")
    theo_error(client.post("/api/v1/audio/stt", headers=auth, files={"file": ("a.txt", b"hello", "text/plain")}),
               400, "invalid_format")
    theo_error(client.post("/api/v1/audio/stt", headers=auth, data={"language": "english!"},
                           files={"file": ("blob", wav(), "audio/wav")}), 400, "validation_error")
    theo_error(client.post("/api/v1/audio/stt", headers={**auth, "Content-Type": "multipart/form-data; boundary=zz"},
                           content=b"--zz\r\nbroken"), 400, "missing_file")  # a truncated body holds no part
    big = client.post("/api/v1/audio/stt", headers=auth,
                      files={"file": ("blob", b"RIFF" + bytes(25 * 1024 * 1024 + 300_000), "audio/wav")})
    theo_error(big, 413, "payload_too_large")
    assert held(client, key) == before


@pytest.mark.parametrize("data", [b"RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff", b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01",
                                  b"RIFF\0\0\0\0WAVEdata\xff\xff\xff\xff", b"ID3\x03\0\0\x7f\x7f\x7f\x7f",
                                  b"\xff\xfb\xf0\x00", b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0" + bytes(16) + b"data\x10\0\0\0"])
def test_stt_reads_cut_off_or_lying_headers_without_a_500(client, data):
    response = client.post("/api/v1/audio/stt", headers=bearer(theo_key()), files={"file": ("x", data, "audio/wav")})
    assert response.status_code == 200, response.text
    assert response.json()["duration_seconds"] is None or response.json()["duration_seconds"] >= 0


def test_fixtures_script_transcripts_and_their_errors(client):
    key = theo_key()
    client.post("/_emu/fixtures", json={"transcripts": [
        {"match": {"language": "de"}, "error": "stt_unavailable"},
        {"match": {"format": "wav", "filename": "meeting"}, "text": "Ship it on Friday.", "language": "en",
         "durationSeconds": 61}]})
    body = client.post("/api/v1/audio/stt", headers=bearer(key),
                       files={"file": ("meeting.wav", wav(), "audio/wav")}).json()
    assert body["text"] == "Ship it on Friday." and body["duration_seconds"] == 61
    assert body["usage"] == {"cost_cents": 1.2}  # two started minutes
    theo_error(client.post("/api/v1/audio/stt", headers=bearer(key), data={"language": "de"},
                           files={"file": ("blob", wav(), "audio/wav")}), 503, "stt_unavailable")


def test_media_needs_credits_when_billed(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "credits": 0})
    before = held(client, key)
    for path, body in (("/api/v1/images", {"prompt": "x"}), ("/api/v1/audio/tts", {"text": "x"}),
                       ("/api/v1/documents", {"prompt": "x"})):
        theo_error(client.post(path, headers=bearer(key), json=body), 402, "insufficient_credits")
    assert held(client, key) == before
    client.put("/_emu/theo/account", json={"key": key, "credits": 100})
    post(client, key, "/api/v1/images", prompt="x", count=2)
    assert client.get("/_emu/theo/account", params={"key": key}).json()["balanceCents"] == 92
