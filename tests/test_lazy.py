"""Families load on first use: the route table, what start-up imports, lazy timers and
the journal's redaction before a family has loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import START
from starlette.testclient import TestClient

from theazo_emu.app import create_app
from theazo_emu.core import lazy
from theazo_emu.registry import FAMILIES
from theazo_emu.settings import Settings


def test_no_generated_file_is_stale() -> None:
    # If this fails after adding or changing a route, a migration or a catalogue entry:
    # python -m theazo_emu.cli.regen
    done = subprocess.run([sys.executable, "-m", "theazo_emu.cli.regen", "--check"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _in_fresh_process(body: str) -> dict:
    """Run `body` (which sets `out`) in a new interpreter and return `out`."""
    script = textwrap.dedent("""
        import json, sys
        from starlette.testclient import TestClient
        from theazo_emu.app import create_app
        from theazo_emu.settings import Settings
        HEAVY = ("pydantic", "sqlite_utils", "cryptography", "croniter", "sse_starlette")
        SWITCH = "theazo_emu.record.tape"  # the record/replay switch: always there, imports nothing of record/
        def loaded():
            return sorted({m for m in sys.modules if m.split(".")[0] in HEAVY or
                           m.startswith(("theazo_emu.theazo.routes.", "theazo_emu.theazo.bodies", "theazo_emu.admin.routes.",
                                         "theazo_emu.theazo.domain.scheduler", "theazo_emu.theazo.domain.workflow",
                                         "theazo_emu.record.")) and m != SWITCH})
        app = create_app(Settings(clock="2025-05-01T00:00:00Z"))
        client = TestClient(app)
        out = {}
    """) + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_start_up_loads_no_family_and_a_request_loads_only_its_own() -> None:
    out = _in_fresh_process("""
        out["after_start"] = loaded()
        out["health"] = client.get("/_emu/health").status_code
        out["after_health"] = loaded()
        auth = {"Authorization": "Bearer th_test_lazy"}
        out["create"] = client.post("/v1/sessions", json={"userId": "u1"}, headers=auth).status_code
        out["after_sessions"] = loaded()
        out["bad"] = client.post("/v1/workflows", content=b"{", headers=auth).json()["error"]["code"]
    """)
    assert out["after_start"] == [] and out["after_health"] == []
    assert out["health"] == 200 and out["create"] == 201
    assert "theazo_emu.theazo.routes.sessions" in out["after_sessions"] and "pydantic" in out["after_sessions"]
    assert "theazo_emu.theazo.routes.workflows" not in out["after_sessions"]
    assert "croniter" not in out["after_sessions"]
    assert out["bad"] == "unprocessable_entity"  # the first request to a family gets the same envelope


def test_a_schedule_in_a_database_file_fires_before_its_family_is_used(tmp_path) -> None:
    db = str(tmp_path / "state.db")
    auth = {"Authorization": "Bearer th_test_lazy_timer"}
    first = create_app(Settings(db=db, clock=START))
    with TestClient(first) as client:
        created = client.post("/v1/schedules", headers=auth, json={
            "name": "hourly", "cron": "0 * * * *", "action": {"type": "agent-run", "config": {"task": "t"}}})
        assert created.status_code == 201, created.text
    first.state.emu.close()
    second = create_app(Settings(db=db, clock=START))
    with TestClient(second) as client:
        timer = second.state.emu.timers[0]
        assert isinstance(timer, lazy.LazyTimer)
        fired = client.post("/_emu/clock/advance", json={"seconds": 3 * 3600}).json()["fired"]
        assert [f["type"] for f in fired] == ["schedule"] * 3
    second.state.emu.close()


def test_an_empty_table_keeps_its_timer_unloaded() -> None:
    app = create_app(Settings(clock=START))
    with TestClient(app) as client:
        assert client.post("/_emu/clock/advance", json={"seconds": 86_400}).json()["fired"] == []
        assert all(timer._source is None for timer in app.state.emu.timers)
    app.state.emu.close()


def test_the_first_request_to_a_family_is_redacted_in_the_journal() -> None:
    out = _in_fresh_process("""
        auth = {"Authorization": "Bearer th_test_lazy_secret"}
        session = client.post("/v1/sessions", json={"userId": "u1"}, headers=auth).json()
        out["before"] = "theazo_emu.theazo.routes.secrets" in sys.modules
        out["status"] = client.post(f"/v1/sessions/{session['id']}/secrets", headers=auth,
                                    json={"OPENAI_KEY": "sk-LAZY-DISTINCTIVE-1234"}).status_code
        out["journal"] = client.get("/_emu/requests").text
    """)
    assert out["before"] is False and out["status"] in (200, 201)
    assert "/secrets" in out["journal"] and "OPENAI_KEY" in out["journal"]
    assert "sk-LAZY-DISTINCTIVE-1234" not in out["journal"]


def test_the_first_request_to_each_family_answers_like_any_other() -> None:
    # In reverse table order, so most families are loaded by a request of their own.
    out = _in_fresh_process("""
        from theazo_emu.app import api_routes
        auth = {"Authorization": "Bearer th_test_lazy_each"}
        seen, answers = set(), []
        for route in reversed(api_routes(app)):
            endless = "stream" in route.path and "{" not in route.path  # nothing to 404 on: it would stay open
            if route.module and route.module not in seen and not endless:
                seen.add(route.module)
                (method,) = route.methods - {"HEAD"}
                path = route.path.replace("{", "x").replace("}", "").replace(":path", "")
                response = client.request(method, path, headers={**auth, "Content-Type": "application/json"},
                                          content=b"{" if method != "GET" else None)
                answers.append([route.module, response.status_code, response.json().get("error", {}).get("code")])
        out["answers"] = answers
    """)
    families = {module for module, _, _ in out["answers"]}
    assert families == {family.module for family in FAMILIES}
    for module, status, code in out["answers"]:
        assert 200 <= status < 500 and (status < 400 or code), (module, status, code)


def test_recording_is_imported_only_once_it_starts(tmp_path) -> None:
    cassette = tmp_path / "c.jsonl"
    out = _in_fresh_process(f"""
        auth = {{"Authorization": "Bearer th_test_lazy_record"}}
        client.post("/v1/sessions", json={{"userId": "u1"}}, headers=auth)
        out["before"] = [m for m in loaded() if m.startswith("theazo_emu.record.")]
        out["start"] = client.post("/_emu/record", json={{"file": {str(cassette)!r}}}).status_code
        out["after"] = [m for m in loaded() if m.startswith("theazo_emu.record.")]
        client.post("/v1/sessions", json={{"userId": "u2"}}, headers=auth)
    """)
    assert out["before"] == [] and out["start"] == 201
    assert "theazo_emu.record.recording" in out["after"] and "theazo_emu.record.replay" not in out["after"]
    assert len(cassette.read_text().splitlines()) == 2  # the header and the second session
