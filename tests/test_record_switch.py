"""Recording switched on a running server, the cassette header and the settings a replay
takes from it, `serve --replay` matching on key aliases and rewinding on reset, and the
errors a cassette can give (empty, a JSON document, a bad header)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, advance, serve_process
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.record.replay import stand_in
from theazo_emu.settings import Settings

AUTH = {"Authorization": "Bearer th_test_switch"}
OTHER = {"Authorization": "Bearer th_test_switch_other"}
THEO = {"Authorization": "Bearer theo_sk_test_switch"}


def _items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _replay(*args: str):
    return CliRunner().invoke(main, ["replay", *args])


def test_the_header_says_how_the_emulator_was_set_up(tmp_path: Path) -> None:
    fixtures = tmp_path / "fx"
    fixtures.mkdir()
    (fixtures / "a.json").write_text('{"description": "empty"}')
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock=START, seed=7, pace="instant", dialect="sdk", record=path,
                                        fixtures=fixtures))) as client:
        client.get("/v1/sessions", headers=AUTH)
    header, line = _items(path)
    assert header == {"cassette": "theazo-emu", "format": 1, "version": "0.1.0", "seed": 7,
                      "clock": {"mode": "frozen", "start": "2025-05-01T00:00:00.000Z"}, "pace": "instant",
                      "dialect": "sdk", "exec": "mock",
                      "fixtures": {"directory": str(fixtures), "digest": header["fixtures"]["digest"],
                                   "files": {"a.json": header["fixtures"]["files"]["a.json"]}}}
    assert header["fixtures"]["digest"].startswith("sha256:") and line["request"]["auth"] == "key1"


def test_replay_takes_its_settings_from_the_header_and_an_option_overrides_one(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock="2031-02-03T04:05:06Z", seed=7, pace="instant", record=path))) as client:
        session = client.post("/v1/sessions", json={"userId": "u"}, headers=AUTH).json()
        agent = client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=AUTH).json()
        client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=AUTH)
        assert client.get(f"/v1/agents/{agent['id']}", headers=AUTH).json()["status"] == "idle"  # instant
    assert session["createdAt"] == "2031-02-03T04:05:06.000Z"
    same = _replay(str(path), "--verify")
    assert same.exit_code == 0, same.output
    overridden = _replay(str(path), "--verify", "--pace", "realtime")
    assert overridden.exit_code == 1 and '$.status: expected "idle", got "running"' in overridden.stdout


def test_record_starts_and_stops_on_a_running_server(tmp_path: Path, client) -> None:
    path = tmp_path / "live.jsonl"
    client.post("/v1/sessions", json={"userId": "before"}, headers=AUTH)
    assert client.get("/_emu/record").json() == {"mode": "off"}
    started = client.post("/_emu/record", json={"file": str(path)})
    assert started.status_code == 201, started.text
    assert started.json()["mode"] == "recording" and started.json()["file"] == str(path.resolve())
    again = client.post("/_emu/record", json={"file": str(tmp_path / "other.jsonl")})
    assert again.status_code == 409 and "Already recording" in again.json()["error"]["message"]
    client.post("/v1/sessions", json={"userId": "during"}, headers=AUTH)
    advance(client, 60)
    state = client.get("/_emu/record").json()
    assert state["interactions"] == 2 and state["header"]["clock"]["start"] == "2025-05-01T00:00:00.000Z"
    stopped = client.delete("/_emu/record")
    assert stopped.status_code == 200 and stopped.json()["interactions"] == 2 and stopped.json()["mode"] == "off"
    client.post("/v1/sessions", json={"userId": "after"}, headers=AUTH)
    items = _items(path)
    assert items[0]["cassette"] == "theazo-emu"
    assert [(i["request"]["path"], i["request"].get("body")) for i in items[1:]] == [
        ("/v1/sessions", {"userId": "during"}), ("/_emu/clock/advance", {"seconds": 60})]
    assert client.delete("/_emu/record").status_code == 409


def test_record_refuses_a_directory_a_missing_directory_and_a_bad_upstream(tmp_path: Path, client) -> None:
    for body, field in (({"file": str(tmp_path)}, "file"), ({"file": str(tmp_path / "no" / "c.jsonl")}, "file"),
                        ({"file": str(tmp_path / "c.jsonl"), "upstream": "ftp://x"}, "upstream"), ({}, "file")):
        response = client.post("/_emu/record", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["fields"][0]["field"] == field
    assert client.get("/_emu/record").json() == {"mode": "off"}


def test_a_dry_run_never_touches_the_cassette(tmp_path: Path) -> None:
    fixtures = tmp_path / "fx"
    fixtures.mkdir()
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock=START, record=path, fixtures=fixtures))) as client:
        client.post("/v1/sessions", json={"userId": "u"}, headers=AUTH)
        assert client.post("/_emu/fixtures", json={"key": "th_test_doc", "sessions": [{"userId": "d"}]}).status_code == 201
        (fixtures / "k.json").write_text('{"keys": [{"key": "th_test_k", "sessions": [{"userId": "k"}]}]}')
        assert client.post("/_emu/fixtures/reload").status_code == 200
    paths = [i["request"]["path"] for i in _items(path)[1:]]
    assert paths == ["/v1/sessions", "/_emu/fixtures", "/_emu/fixtures/reload"]


def _record_two_keys(path: Path) -> None:
    with TestClient(create_app(Settings(clock=START, record=path))) as client:
        client.post("/v1/sessions", json={"userId": "u1"}, headers=AUTH)
        client.post("/v1/sessions", json={"userId": "u1"}, headers=OTHER)
        advance(client, 3600)
        client.get("/v1/sessions", headers=AUTH)


def test_serve_replay_matches_on_the_keys_alias_and_reset_rewinds(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    _record_two_keys(path)
    recorded = _items(path)[1:]
    first, second = recorded[0]["response"]["body"], recorded[1]["response"]["body"]
    app = create_app(Settings(clock=START, replay=path))
    with TestClient(app) as client:
        mine = {"Authorization": "Bearer th_test_anything_1"}
        theirs = {"Authorization": "Bearer th_test_anything_2"}
        assert client.post("/v1/sessions", json={"userId": "u1"}, headers=mine).json() == first  # key1
        assert client.post("/v1/sessions", json={"userId": "u1"}, headers=theirs).json() == second  # key2
        # The list was recorded for key1: key2 asking the same is a miss.
        miss = client.get("/v1/sessions", headers=theirs)
        assert miss.status_code == 404 and miss.json()["error"]["details"]["closest"]["auth"] == "key1"
        assert client.get("/v1/sessions", headers=mine).status_code == 200
        assert client.get("/_emu/clock").json()["now"] == "2025-05-01T01:00:00.000Z"  # driven to the recorded instant
        used = client.post("/v1/sessions", json={"userId": "u1"}, headers=mine)
        assert used.status_code == 404 and "POST /_emu/reset rewinds" in used.json()["error"]["message"]
        assert client.post("/_emu/reset", json={}).status_code == 200
        assert client.get("/_emu/record").json()["remaining"] == 3
        fresh = {"Authorization": "Bearer th_test_new_run"}
        assert client.post("/v1/sessions", json={"userId": "u1"}, headers=fresh).json() == first  # key1 again


def test_theo_keys_get_their_own_alias_and_replay_with_a_theo_key(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock=START, record=path))) as client:
        assert client.get("/api/v1/nothing-here", headers=THEO).status_code == 404
        assert client.get("/v1/sessions", headers=AUTH).status_code == 200
    assert [i["request"]["auth"] for i in _items(path)[1:]] == ["theo1", "key1"]
    result = _replay(str(path), "--verify")
    assert result.exit_code == 0, result.output
    assert stand_in("theo1", 200, "th_test_replay_") == "theo_sk_test_replay_theo1"
    assert stand_in("key2", 200, "th_test_x_") == "th_test_x_key2"
    assert stand_in("live1", 403, "th_test_x_").startswith("th_live_") and stand_in("bad1", 401, "x") == "not-a-key"


def test_an_empty_cassette_is_nothing_to_verify(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock=START, record=path))):
        pass
    result = _replay(str(path), "--verify")
    assert result.exit_code == 1 and "holds no interactions: there is nothing to verify" in result.output
    assert _replay(str(path)).exit_code == 0  # without --verify there is simply nothing to send


def test_a_json_document_is_not_a_cassette_and_says_what_is_expected(tmp_path: Path) -> None:
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps({"request": {"method": "GET", "path": "/v1/sessions"}, "response": {"status": 200}},
                                 indent=2))
    result = _replay(str(pretty), "--verify")
    assert result.exit_code == 1
    assert "is one JSON document spread over several lines, not JSON Lines" in result.output
    assert "one JSON object per line" in result.output
    array = tmp_path / "array.json"
    array.write_text('[{"request": {}}]')
    assert "holds a JSON array" in _replay(str(array)).output


def test_a_bad_header_names_line_one_and_a_cassette_without_one_still_replays(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"cassette": "theazo-emu", "format": 1, "seed": "x"}\n')
    assert "bad.jsonl:1: header: 'seed' must be an integer" in _replay(str(bad)).output
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"cassette": "theazo-emu", "format": 9}\n')
    assert "format 9 is newer" in _replay(str(newer)).output
    path = tmp_path / "c.jsonl"
    _record_two_keys(path)
    old = tmp_path / "old.jsonl"
    old.write_text("".join(line + "\n" for line in path.read_text().splitlines()[1:]))
    result = _replay(str(old), "--verify")
    assert result.exit_code == 0, result.output


def test_a_replay_under_another_version_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    _record_two_keys(path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0]) | {"version": "0.0.1"}
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    result = _replay(str(path), "--verify")
    assert result.exit_code == 0 and "warning: recorded with theazo-emu 0.0.1, replayed with 0.1.0" in result.stderr


@pytest.mark.server
def test_serve_replay_takes_the_headers_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock="2031-02-03T04:05:06Z", seed=5, pace="instant", dialect="sdk",
                                        record=path))) as client:
        client.get("/v1/sessions", headers=AUTH)
    with serve_process("--replay", str(path)) as url:
        health = httpx.get(f"{url}/_emu/health").json()
        listed = httpx.get(f"{url}/v1/sessions", headers={"Authorization": "Bearer th_test_whoever"})
    assert (health["clock"]["now"], health["clock"]["frozen"]) == ("2031-02-03T04:05:06.000Z", True)
    assert (health["pace"], health["dialect"]) == ("instant", "sdk")
    assert listed.status_code == 200
    with serve_process("--replay", str(path), "--pace", "realtime") as url:
        assert httpx.get(f"{url}/_emu/health").json()["pace"] == "realtime"  # an option given wins


def test_keys_named_in_admin_calls_become_alias_marks_and_replay_sends_the_stand_ins(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with TestClient(create_app(Settings(clock=START, record=path))) as client:
        client.post("/_emu/reset", json={"tenant": "th_test_admin_named"})  # before the key is ever used
        client.post("/v1/sessions", json={"userId": "u"}, headers={"Authorization": "Bearer th_test_admin_named"})
        client.post("/_emu/settle", json={"key": "th_test_admin_named"})
        client.delete("/_emu/fixtures", params={"key": "th_test_admin_named"})
    text = path.read_text()
    assert "th_test_admin_named" not in text
    items = _items(path)[1:]
    assert items[0]["request"]["body"] == {"tenant": "<key:key1>"} and items[1]["request"]["auth"] == "key1"
    assert items[3]["request"]["query"] == {"key": "<key:key1>"}
    assert items[1]["readAt"] == "2025-05-01T00:00:00.000Z"  # when the session's endpoint read the clock
    result = _replay(str(path), "--verify")
    assert result.exit_code == 0, result.output
