"""Theo's media, jobs, webhooks and browser sessions over a real `serve` process: webhook
deliveries reach a receiver on loopback signed with the secret shown once, a job moves
under POST /_emu/clock/advance and its job.completed is delivered, tts answers MP3 bytes
on the wire, stt reads a real multipart upload, and a browser session expires on the
virtual clock."""

from __future__ import annotations

import hashlib
import hmac
import io
import struct
import wave

import httpx
import pytest
from conftest import START, serve_process
from receiver import receiver
from theo_support import bearer, settled_deliveries

pytestmark = pytest.mark.server
KEY = "theo_sk_test_serve_part2"


def _signed(secret: str, request) -> dict:  # noqa: ANN001
    headers = request["headers"]
    signed = headers["theo-webhook-timestamp"].encode() + b"." + request["body"]
    assert hmac.compare_digest(headers["theo-webhook-signature"],
                               "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    return request.json()


def _advance(url: str, seconds: float) -> None:
    assert httpx.post(f"{url}/_emu/clock/advance", json={"seconds": seconds}, timeout=30).status_code == 200


def _wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(struct.pack("<h", 0) * int(16000 * seconds))
    return out.getvalue()


def test_webhooks_jobs_and_audio_over_the_wire():
    with serve_process("--clock", START, "--allow-private-webhooks") as url, receiver() as hook, \
            httpx.Client(base_url=url, headers=bearer(KEY), timeout=30) as http:
        made = http.post("/api/v1/webhooks", json={"url": hook.url, "event_types": ["completion.created",
                                                                                    "job.completed"]})
        assert made.status_code == 201, made.text
        secret = made.json()["signing_secret"]
        assert secret not in http.get("/api/v1/webhooks").text
        done = http.post("/api/v1/completions", json={"prompt": "hello over a socket"}).json()
        (first,) = hook.wait_for(1)
        body = _signed(secret, first)
        assert body["type"] == "completion.created" and body["data"]["completion_id"] == done["id"]

        queued = http.post("/api/v1/video", json={"prompt": "waves", "duration": "5s"})
        assert queued.status_code == 202
        job_id = queued.json()["job_id"]
        assert http.get(f"/api/v1/jobs/{job_id}").json()["job"]["status"] == "queued"
        _advance(url, 600)
        job = http.get(f"/api/v1/jobs/{job_id}").json()["job"]
        assert job["status"] == "completed" and job["progress"] == 100 and job["result"]
        second = hook.wait_for(2)[1]
        event = _signed(secret, second)
        assert event["type"] == "job.completed" and event["data"]["job_id"] == job_id
        # the log holds settled attempts: the receiver has the request a moment before the server has its answer
        rows = settled_deliveries(http.get, made.json()["id"], 2)
        assert [r["event_type"] for r in rows] == ["job.completed", "completion.created"]

        speech = http.post("/api/v1/audio/tts", json={"text": "Hello from a real socket."})
        assert speech.status_code == 200 and speech.headers["content-type"] == "audio/mpeg"
        assert int(speech.headers["content-length"]) == len(speech.content) > 0
        assert speech.content[:3] == b"ID3" and b"theo-voice-classic" in speech.content[:64]
        heard = http.post("/api/v1/audio/stt", files={"file": ("note.wav", _wav(1.5), "audio/wav")},
                          data={"language": "de"})
        assert heard.status_code == 200, heard.text
        assert heard.json()["duration_seconds"] == 1.5 and heard.json()["language"] == "de"
        empty = http.post("/api/v1/audio/stt", files={"other": ("x.wav", b"", "audio/wav")})
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "missing_file"


def test_a_browser_session_expires_on_the_virtual_clock_over_the_wire():
    with serve_process("--clock", START) as url, httpx.Client(base_url=url, headers=bearer(KEY), timeout=30) as http:
        made = [http.post("/api/v1/browser/sessions", json={}).json()["session_id"] for _ in range(3)]
        refused = http.post("/api/v1/browser/sessions", json={})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "browser_session_limit"
        page = httpx.get(http.get(f"/api/v1/browser/sessions/{made[0]}").json()["embed_url"])
        assert page.status_code == 200 and made[0] in page.text
        _advance(url, 20 * 60)
        assert http.get(f"/api/v1/browser/sessions/{made[0]}").status_code == 404
        assert http.post("/api/v1/browser/sessions", json={}).status_code == 201
