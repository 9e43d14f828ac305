"""Theo's async jobs over HTTP: POST /video and /research answer 202 with a job that moves
queued -> active -> completed (or failed) as the virtual clock advances; fixtures script
the timeline and the outcome; job.completed / job.failed are published when a job ends."""

from __future__ import annotations

import pytest
from conftest import START, advance
from theo_support import bearer, held, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings


def job(client, key, ident):  # noqa: ANN001, ANN201
    response = client.get(f"/api/v1/jobs/{ident}", headers=bearer(key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "job"} == body["job"]  # the SDK's wrap and the docs' bare object
    return body["job"]


def events(client, key, kind):  # noqa: ANN001, ANN201
    return client.get("/_emu/theo/events", params={"key": key, "type": kind}).json()["data"]


def test_a_video_job_moves_with_the_clock(client):
    key = theo_key()
    response = client.post("/api/v1/video", headers=bearer(key), json={"prompt": "waves at dusk", "duration": "10s",
                                                                     "style": "cinematic"})
    assert response.status_code == 202, response.text
    made = response.json()
    assert made["id"].startswith("vid_") and made["job_id"].startswith("job_") and made["status"] == "queued"
    assert made["poll_url"] == f"/api/v1/jobs/{made['job_id']}" and made["created"] == "2025-05-01T00:00:00.000Z"
    first = job(client, key, made["job_id"])
    assert (first["status"], first["progress"], first["result"], first["completed_at"]) == ("queued", 0, None, None)
    assert first["type"] == "video" and first["created_at"] == made["created"]
    advance(client, 2)
    assert (job(client, key, made["job_id"])["status"], job(client, key, made["job_id"])["progress"]) == ("active", 0)
    advance(client, 5)
    assert job(client, key, made["job_id"])["progress"] == 25
    assert events(client, key, "job.completed") == []
    advance(client, 15)
    done = job(client, key, made["job_id"])
    assert done["status"] == "completed" and done["progress"] == 100 and done["error"] is None
    assert done["completed_at"] == "2025-05-01T00:00:22.000Z"
    assert done["result"]["video_url"].endswith(f"{made['id']}.mp4") and done["result"]["duration_seconds"] == 10
    assert job(client, key, made["id"]) == done  # the vid_ id finds it too
    (event,) = events(client, key, "job.completed")
    assert event["data"]["job_id"] == made["job_id"] and event["created"] == done["completed_at"]


def test_a_research_job_completes_with_a_report_and_sources(client):
    key = theo_key()
    made = client.post("/api/v1/research", headers=bearer(key),
                       json={"prompt": "How DNS resolvers cache", "depth": "basic", "max_sources": 3}).json()
    assert made["id"].startswith("res_")
    advance(client, 11)
    result = job(client, key, made["job_id"])["result"]
    assert result["depth"] == "basic" and len(result["sources"]) == 3 and "DNS" in result["report"]
    assert client.get("/api/v1/usage", headers=bearer(key)).json()["by_mode"]["research"]["requests"] == 1


def test_fixtures_script_a_failed_job(client):
    key = theo_key()
    client.post("/_emu/fixtures", json={"jobs": [
        {"match": {"type": "video", "prompt": "explode"}, "queuedSeconds": 1, "durationSeconds": 4,
         "status": "failed", "error": "The render farm caught fire.", "failProgress": 40},
        {"match": {"type": "research"}, "durationSeconds": 1, "result": {"report": "scripted"}}]})
    made = client.post("/api/v1/video", headers=bearer(key), json={"prompt": "explode the castle"}).json()
    advance(client, 3)
    assert job(client, key, made["job_id"])["progress"] == 50
    advance(client, 2)
    failed = job(client, key, made["job_id"])
    assert failed["status"] == "failed" and failed["error"] == "The render farm caught fire."
    assert failed["progress"] == 40 and failed["result"] is None and failed["completed_at"]
    (event,) = events(client, key, "job.failed")
    assert event["data"]["error"] == "The render farm caught fire."
    research = client.post("/api/v1/research", headers=bearer(key), json={"prompt": "anything"}).json()
    advance(client, 1)
    assert job(client, key, research["job_id"])["result"] == {"report": "scripted"}


def test_pace_instant_ends_jobs_at_once():
    from starlette.testclient import TestClient

    with TestClient(create_app(Settings(clock=START, pace="instant"))) as instant:
        key = theo_key()
        made = instant.post("/api/v1/video", headers=bearer(key), json={"prompt": "x"}).json()
        assert job(instant, key, made["job_id"])["status"] == "completed"
        assert len(events(instant, key, "job.completed")) == 1


@pytest.mark.parametrize("path,body", [("/api/v1/video", {"prompt": "x", "duration": "7s"}),
                                       ("/api/v1/video", {"prompt": "x", "style": 4}),
                                       ("/api/v1/research", {"prompt": "x", "depth": "deep"}),
                                       ("/api/v1/research", {"prompt": "x", "max_sources": 0}),
                                       ("/api/v1/research", {"prompt": "x", "max_sources": 51})])
def test_bad_job_bodies_are_400_and_queue_nothing(client, path, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post(path, headers=bearer(key), json=body), 400, "validation_error")
    assert held(client, key) == before


def test_unknown_and_other_tenants_jobs_are_404(client):
    owner = theo_key()
    made = client.post("/api/v1/video", headers=bearer(owner), json={"prompt": "x"}).json()
    theo_error(client.get(f"/api/v1/jobs/{made['job_id']}", headers=bearer(theo_key())), 404, "not_found")
    theo_error(client.get(f"/api/v1/jobs/{made['id']}", headers=bearer(theo_key())), 404, "not_found")
    theo_error(client.get("/api/v1/jobs/job_nothing", headers=bearer(owner)), 404, "not_found")


def test_a_job_needs_credits_and_is_charged_when_queued(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "credits": 0})
    theo_error(client.post("/api/v1/video", headers=bearer(key), json={"prompt": "x"}), 402, "insufficient_credits")
    client.put("/_emu/theo/account", json={"key": key, "credits": 100})
    client.post("/api/v1/video", headers=bearer(key), json={"prompt": "x"})
    assert client.get("/_emu/theo/account", params={"key": key}).json()["balanceCents"] == 50


def test_jobs_respect_the_video_mode_cap(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "rateLimit": 12})  # video: 12 // 6 = 2 a minute
    for _ in range(2):
        assert client.post("/api/v1/video", headers=bearer(key), json={"prompt": "x"}).status_code == 202
    theo_error(client.post("/api/v1/video", headers=bearer(key), json={"prompt": "x"}), 429,
               "mode_rate_limit_exceeded")
