"""An agent's files (the SDK's agent.files): write, read back, list, and every bad path."""

from __future__ import annotations

import base64

import httpx
import pytest
from conftest import START, assert_error, make_agent, serve_process

SDK = {"X-SDK-Version": "0.1.0"}


def _write(client, auth, agent_id: str, path: str, data: str, encoding: str | None = None):
    body = {"path": path, "data": data, **({"encoding": encoding} if encoding else {})}
    return client.post(f"/v1/agents/{agent_id}/files", json=body, headers=auth)


def _read(client, auth, agent_id: str, path: str):
    return client.get(f"/v1/agents/{agent_id}/files/{path.lstrip('/')}", headers=auth)  # as the SDK sends it


def test_text_and_bytes_read_back_as_written(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    written = _write(client, auth, agent, "/data/notes.txt", "héllo\nwörld")
    assert written.status_code == 201
    assert written.json() == {"path": "/data/notes.txt", "size": len("héllo\nwörld".encode()), "encoding": "utf-8",
                              "modified": "2025-05-01T00:00:00.000Z"}
    raw = bytes(range(256))
    assert _write(client, auth, agent, "data/blob.bin", base64.b64encode(raw).decode(), "base64").status_code == 201
    text = _read(client, auth, agent, "/data/notes.txt").json()
    assert text == {"path": "/data/notes.txt", "data": "héllo\nwörld", "encoding": "utf-8"}
    blob = _read(client, auth, agent, "/data/blob.bin").json()
    assert blob["encoding"] == "base64" and base64.b64decode(blob["data"]) == raw


def test_a_write_replaces_the_file_at_its_path(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/a.txt", "first")
    client.post("/_emu/clock/advance", json={"seconds": 60})
    assert _write(client, auth, agent, "/data//a.txt", "second, longer").json()["size"] == 14
    assert _read(client, auth, agent, "data/a.txt").json()["data"] == "second, longer"
    listed = client.get(f"/v1/agents/{agent}/files", headers=auth).json()["data"]
    assert [(f["name"], f["size"], f["modified"]) for f in listed] == [("a.txt", 14, "2025-05-01T00:01:00.000Z")]


def test_listing_shows_files_then_subdirectories_and_the_sdk_gets_an_array(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    for path in ("/data/b.txt", "/data/a.txt", "/data/out/r1.json", "/data/out/deep/r2.json", "/tmp/x", "/database"):
        assert _write(client, auth, agent, path, "x").status_code == 201
    listed = client.get(f"/v1/agents/{agent}/files", headers=auth).json()
    assert listed["hasMore"] is False
    assert [(e["name"], e["type"]) for e in listed["data"]] == [("a.txt", "file"), ("b.txt", "file"),
                                                                 ("out", "directory")]
    sdk = client.get(f"/v1/agents/{agent}/files", params={"dir": "/data/out"}, headers={**auth, **SDK}).json()
    assert [(e["name"], e["path"], e["type"]) for e in sdk] == [("r1.json", "/data/out/r1.json", "file"),
                                                                 ("deep", "/data/out/deep", "directory")]
    assert client.get(f"/v1/agents/{agent}/files?dir=/nowhere", headers=auth).json()["data"] == []
    assert [e["name"] for e in client.get(f"/v1/agents/{agent}/files?dir=/", headers=auth).json()["data"]] == [
        "database", "data", "tmp"]


@pytest.mark.parametrize(("path", "encoding", "data", "field"), [
    ("/data/../etc/passwd", None, "x", "path"),
    ("/data/./a", None, "x", "path"),
    ("", None, "x", "path"),
    ("///", None, "x", "path"),
    ("/data/a\x00b", None, "x", "path"),
    ("/data/a\\b", None, "x", "path"),
    ("/data/" + "a" * 256, None, "x", "path"),
    ("/data/a", "base64", "not base64!", "data"),
    ("/data/a", "latin-1", "x", "encoding"),
    ("/data/a", None, 42, "data"),
])
def test_bad_writes_are_422_and_write_nothing(client, auth, path, encoding, data, field) -> None:
    agent = make_agent(client, auth)["id"]
    body = {"path": path, "data": data, **({"encoding": encoding} if encoding else {})}
    response = client.post(f"/v1/agents/{agent}/files", json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")
    assert field in {d["field"] for d in error["error"]["details"]["fields"]}
    assert client.get(f"/v1/agents/{agent}/files?dir=/", headers=auth).json()["data"] == []


def test_unknown_files_agents_and_other_tenants_are_404(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/a.txt", "mine")
    assert_error(_read(client, auth, agent, "/data/missing.txt"), 404, "not_found")
    other = {"Authorization": "Bearer th_test_files_other"}
    assert_error(_read(client, other, agent, "/data/a.txt"), 404, "not_found")
    assert_error(_write(client, other, agent, "/data/a.txt", "theirs"), 404, "not_found")
    assert_error(client.get("/v1/agents/agt_01JT4J9700000002BY55X4NNRD/files", headers=auth), 404, "not_found")
    assert _read(client, auth, agent, "/data/a.txt").json()["data"] == "mine"
    assert_error(client.get(f"/v1/agents/{agent}/files?dir=/a/../b", headers=auth), 422, "unprocessable_entity")


def test_a_terminated_agent_keeps_its_files_but_takes_no_more(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/kept.txt", "still here")
    assert client.post(f"/v1/agents/{agent}/terminate", headers=auth).status_code == 200
    assert_error(_write(client, auth, agent, "/data/new.txt", "x"), 409, "conflict")
    assert _read(client, auth, agent, "/data/kept.txt").json()["data"] == "still here"


def test_an_agent_holds_at_most_1000_files(client, auth, monkeypatch) -> None:
    from theazo_emu.theazo.routes import agent_files

    monkeypatch.setattr(agent_files, "MAX_FILES", 3)
    agent = make_agent(client, auth)["id"]
    for name in "abc":
        assert _write(client, auth, agent, f"/data/{name}", name).status_code == 201
    assert_error(_write(client, auth, agent, "/data/d", "d"), 409, "conflict")
    assert _write(client, auth, agent, "/data/a", "replacing is fine").status_code == 201


def test_an_agent_holds_at_most_16_mib_of_files(client, auth, monkeypatch) -> None:
    from theazo_emu.theazo.routes import agent_files

    monkeypatch.setattr(agent_files, "MAX_BYTES", 10)
    agent = make_agent(client, auth)["id"]
    assert _write(client, auth, agent, "/data/a", "123456").status_code == 201
    over = assert_error(_write(client, auth, agent, "/data/b", "12345"), 409, "conflict")
    assert over["error"]["details"] == {"limit": 10, "used": 6, "requested": 5}
    assert _write(client, auth, agent, "/data/b", "1234").status_code == 201
    assert _write(client, auth, agent, "/data/a", "123456").status_code == 201  # a rewrite counts once


def test_files_go_with_a_reset_and_travel_in_a_state_export(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    _write(client, auth, agent, "/data/bytes.bin", base64.b64encode(b"\x00\xff\x10").decode(), "base64")
    document = client.get("/_emu/state/export").json()
    assert [row["path"] for row in document["tables"]["agent_files"]] == ["/data/bytes.bin"]
    assert client.post("/_emu/reset", json={}).status_code == 200
    assert_error(_read(client, auth, agent, "/data/bytes.bin"), 404, "not_found")
    assert client.post("/_emu/state/import", json=document).status_code == 200
    assert base64.b64decode(_read(client, auth, agent, "/data/bytes.bin").json()["data"]) == b"\x00\xff\x10"


@pytest.mark.server
def test_files_over_loopback_as_the_sdk_sends_them() -> None:
    key = {"Authorization": "Bearer th_test_files_server", **SDK}
    with serve_process("--clock", START) as url, httpx.Client(base_url=url, headers=key, timeout=10) as http:
        session = http.post("/v1/sessions", json={"userId": "u"}).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={}).json()["id"]
        assert http.post(f"/v1/agents/{agent}/files", json={"path": "/data/report 1.md", "data": "# Hi",
                                                             "encoding": "utf-8"}).status_code == 201
        assert http.get(f"/v1/agents/{agent}/files/data/report 1.md").json()["data"] == "# Hi"
        assert [e["name"] for e in http.get(f"/v1/agents/{agent}/files", params={"dir": "/data"}).json()] == [
            "report 1.md"]
