"""No secret value leaks: a real `serve` on a file database, logging every request (info),
recording a cassette, runs every route that touches secrets and providers; then the
plaintext of every value and credential is searched for in every answer, the SQLite
files (db, -wal, -shm), the server's output, the cassette, the journal and the state
export. It is also restarted on the same database with the wrong key (refused, clearly)
and with the right one (the secret still reaches exec).

Each search first finds something that is not secret (a user id, a path) in the same
haystack, so a search that cannot find anything cannot pass. The server's output goes to
a file we own (leak_support.serve_logged).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import START
from leak_support import assert_absent, db_files, serve_logged

pytestmark = pytest.mark.server

KEY = "3a" * 32
WRONG_KEY = "c5" * 32
AUTH = {"Authorization": "Bearer th_test_leak_hunt"}
SDK = {**AUTH, "X-SDK-Version": "0.1.0"}
USER = "user-visible-marker-0d9e"  # not secret: must be found where the secrets must not
# Every plaintext that must never come back out (distinctive, so a hit is a real leak).
ORG_FIRST = "leak-canary-org-first-5f0c1a"
ORG_VALUE = "leak-canary-org-second-93be77"
SESSION_VALUE = "leak-canary-session-2d7e41"
MAP_VALUE = "leak-canary-sdk-map-b8c3f0"
MAP_REJECTED = "leak-canary-sdk-map-rejected-77d1e0"
REF_VALUE = "leak-canary-credential-ref-1a2b3c"
REJECTED_VALUE = "leak-canary-rejected-c6f2e8"
CRED_FIRST = "leak-canary-cred-e2b-71aa0d"
CRED_ROTATED = "leak-canary-cred-rotated-4e19c2"
CRED_FLY = "leak-canary-cred-fly-0b5d93"
# Secrets in requests the API refuses before it can read them, or reads only in part.
UNTERMINATED = "leak-canary-unterminated-3c9d51"
TRAILING_COMMA = "leak-canary-trailing-comma-8e2f07"
BAD_UTF8 = "leak-canary-bad-utf8-5a61b2"
TOO_DEEP = "leak-canary-too-deep-d0417e"
DEEP_CREDENTIAL = "leak-canary-deep-credential-26fa9c"
OVER_LONG = "leak-canary-over-long-f18b33"
MAP_OVER_LONG = "leak-canary-map-over-long-9b0c4d"
HOSTILE_NUMBER = "leak-canary-with-nan-61e0aa"
FIXTURE_MAP = "leak-canary-fixture-map-7c2e95"
QUERY_VALUE = "leak-canary-query-value-0f3a8d"
QUERY_TOKEN = "leak-canary-query-token-b45e12"
REFUSED = [UNTERMINATED, TRAILING_COMMA, BAD_UTF8, TOO_DEEP, DEEP_CREDENTIAL, OVER_LONG, MAP_OVER_LONG,
           HOSTILE_NUMBER, FIXTURE_MAP, QUERY_VALUE, QUERY_TOKEN]
EVERY_VALUE = [ORG_FIRST, ORG_VALUE, SESSION_VALUE, MAP_VALUE, MAP_REJECTED, REF_VALUE, REJECTED_VALUE, CRED_FIRST,
               CRED_ROTATED, CRED_FLY, *REFUSED]
DEEP = "[" * 70 + "]" * 70
# Exec compares digests, so that not even the exec request carries a plaintext value.
DIGESTS = ("import hashlib, os; "
           "print(*(hashlib.sha256(os.environ.get(n, '').encode()).hexdigest()[:12] for n in {names}))")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass
class Evidence:
    db: Path
    agent_id: str = ""
    answers: list[bytes] = field(default_factory=list)
    db_bytes_live: bytes = b""
    db_bytes_after: bytes = b""
    log: bytes = b""
    cassette: bytes = b""
    journal: bytes = b""
    export_status: int = 0
    export: bytes = b""


def _scenario(url: str, evidence: Evidence) -> None:
    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None,
             status: int | None = None, raw: bytes | None = None) -> httpx.Response:
        if raw is not None:
            headers = {**(headers or AUTH), "Content-Type": "application/json"}
        response = httpx.request(method, url + path, json=body, content=raw, headers=headers or AUTH, timeout=30)
        evidence.answers.append(b"%d %s\n%s" % (response.status_code, str(response.headers).encode(),
                                                response.content))
        if status is not None:
            assert response.status_code == status, (method, path, response.text)
        return response

    # A fixture document seeding a secret in the SDK's {NAME: value} form; the dry run has no
    # such session, so it is refused, and must not leak either.
    call("POST", "/_emu/fixtures", {"key": AUTH["Authorization"].removeprefix("Bearer "), "requests": [
        {"method": "POST", "path": "/v1/sessions/ses_01JT4J97000000012Y7ZM38QJT/secrets",
         "body": {"FIXTURE_MAP": FIXTURE_MAP}}]}, headers={}, status=422)
    session = call("POST", "/v1/sessions", {"userId": USER}, status=201).json()
    sid = session["id"]
    call("POST", "/v1/secrets", {"name": "ORG_TOKEN", "value": ORG_FIRST}, status=201)
    call("POST", "/v1/secrets", {"name": "ORG_TOKEN", "value": ORG_VALUE}, status=200)
    call("POST", "/v1/secrets", {"name": "DB_PASSWORD", "value": SESSION_VALUE, "sessionId": sid}, status=201)
    call("POST", f"/v1/sessions/{sid}/secrets", {"MAP_SECRET": MAP_VALUE}, headers=SDK, status=201)
    call("POST", "/v1/secrets", {"name": "e2b_key", "value": REF_VALUE}, status=201)
    call("POST", "/v1/secrets", {"name": "bad name!", "value": REJECTED_VALUE}, status=422)
    call("POST", "/v1/secrets", {"name": "BIG", "value": REJECTED_VALUE * 3000}, status=422)
    call("POST", f"/v1/sessions/{sid}/secrets", {"bad name!": MAP_REJECTED}, status=422)
    call("GET", "/v1/secrets", status=200)
    call("GET", f"/v1/secrets?sessionId={sid}", status=200)
    call("GET", f"/v1/sessions/{sid}/secrets", headers=SDK, status=200)
    call("GET", f"/v1/sessions/{sid}/secrets", status=200)
    call("POST", "/v1/providers", {"provider": "e2b", "credentials": {"apiKey": CRED_FIRST}}, status=201)
    call("POST", "/v1/providers", {"provider": "e2b", "credentials": {"apiKey": CRED_ROTATED}}, status=200)
    call("PUT", "/v1/providers/fly", {"credentials": {"token": CRED_FLY}, "isDefault": True}, status=201)
    call("PUT", "/v1/providers/webhook", {"credentialRef": "e2b_key", "config": {"url": "https://hooks.test"}},
         status=201)
    call("POST", "/v1/providers", {"provider": "docker", "credentials": {"apiKey": CRED_FIRST}}, status=422)
    call("GET", "/v1/providers", status=200)
    agent = call("POST", f"/v1/sessions/{sid}/agents",
                 {"secrets": ["ORG_TOKEN", "DB_PASSWORD", "MAP_SECRET"], "provider": "e2b"}, status=201).json()
    evidence.agent_id = agent["id"]
    call("POST", f"/v1/sessions/{sid}/agents", {"secrets": ["NOT_THERE"]}, status=422)
    code = DIGESTS.format(names=("ORG_TOKEN", "DB_PASSWORD", "MAP_SECRET"))
    seen = call("POST", f"/v1/agents/{agent['id']}/exec", {"lang": "python", "code": code}, status=200)
    assert seen.json()["stdout"] == f"{_digest(ORG_VALUE)} {_digest(SESSION_VALUE)} {_digest(MAP_VALUE)}\n"
    printed = call("POST", f"/v1/agents/{agent['id']}/exec",
                   {"lang": "bash", "code": 'echo "$ORG_TOKEN $DB_PASSWORD $MAP_SECRET"; env >&2'}, status=200)
    assert printed.json()["stdout"] == "*** *** ***\n"
    call("POST", f"/v1/agents/{agent['id']}/run", {"task": "use the secrets"}, status=202)
    call("GET", f"/v1/agents/{agent['id']}", status=200)
    call("DELETE", "/v1/providers/e2b", status=409)
    call("DELETE", "/v1/providers/webhook", status=200)
    call("DELETE", f"/v1/sessions/{sid}/secrets/MAP_SECRET", status=200)
    call("POST", "/v1/secrets", {"name": "TEMP", "value": ORG_FIRST}, status=201)
    call("DELETE", "/v1/secrets/TEMP", status=200)
    _refused(call, sid)
    evidence.db_bytes_live = db_files(evidence.db)
    export = httpx.get(f"{url}/_emu/state/export", timeout=30)
    evidence.export_status, evidence.export = export.status_code, export.content
    evidence.journal = httpx.get(f"{url}/_emu/requests?limit=10000", timeout=30).content


def _refused(call, sid: str) -> None:
    """Secret-carrying requests that cannot be read whole: each is refused, and its secret
    must still reach no answer, journal, cassette or log line."""
    call("POST", "/v1/secrets", raw=f'{{"name": "U1", "value": "{UNTERMINATED}'.encode(), status=422)
    call("POST", "/v1/secrets", raw=f'{{"name": "U2", "value": "{TRAILING_COMMA}",}}'.encode(), status=422)
    call("POST", "/v1/secrets", raw=b'{"name": "U3", "value": "' + BAD_UTF8.encode() + b'\xff"}', status=422)
    call("POST", "/v1/secrets", raw=f'{{"name": "U4", "value": "{TOO_DEEP}", "x": {DEEP}}}'.encode(), status=422)
    call("POST", "/v1/providers", status=422, raw=f'{{"provider": "fly", "credentials": {{"region_key": '
                                                   f'"{DEEP_CREDENTIAL}"}}, "x": {DEEP}}}'.encode())
    call("POST", "/v1/secrets", {"name": "U5", "value": OVER_LONG + "x" * 70_000}, status=422)
    call("POST", f"/v1/sessions/{sid}/secrets", {"BIG": MAP_OVER_LONG + "x" * 70_000}, headers=SDK, status=422)
    call("POST", "/v1/providers", status=422,
         raw=f'{{"provider": "fly", "credentials": {{"token": "{HOSTILE_NUMBER}", "n": NaN}}}}'.encode())
    call("GET", f"/v1/secrets?value={QUERY_VALUE}&token={QUERY_TOKEN}&sessionId={sid}", status=200)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    root = tmp_path_factory.mktemp("leaks")
    found = Evidence(db=root / "emu.db")
    log, cassette = root / "server.log", root / "cassette.jsonl"
    with serve_logged(log, "--db", str(found.db), "--log-level", "debug", "--exec", "local", "--clock", START,
                "--master-key", KEY, "--record", str(cassette)) as url:
        _scenario(url, found)
    found.db_bytes_after = db_files(found.db)
    found.log = log.read_bytes()
    found.cassette = cassette.read_bytes() if cassette.exists() else b""
    return found


def test_no_answer_contains_a_secret_value(evidence):
    everything = b"\n".join(evidence.answers)
    assert USER.encode() in everything and b"ORG_TOKEN" in everything
    assert_absent(everything, EVERY_VALUE, "an answer")


def test_the_database_files_hold_no_secret_value(evidence):
    for label, data in (("live", evidence.db_bytes_live), ("after shutdown", evidence.db_bytes_after)):
        assert USER.encode() in data, label  # the search does see plaintext rows
        assert_absent(data, EVERY_VALUE, f"the database files ({label})")


def test_the_server_log_holds_no_secret_value(evidence):
    assert b"POST /v1/secrets" in evidence.log and b"/v1/providers" in evidence.log  # info logs each request
    assert b"/v1/secrets?value=" in evidence.log and b"sessionId=ses_" in evidence.log  # with its query
    assert_absent(evidence.log, EVERY_VALUE, "the server's stdout/stderr")


def test_the_journal_holds_no_secret_value(evidence):
    assert b"/v1/secrets" in evidence.journal and USER.encode() in evidence.journal
    assert b"MAP_SECRET" in evidence.journal  # the SDK's map body is journaled, its values blanked
    assert_absent(evidence.journal, EVERY_VALUE, "the request journal")


def test_the_cassette_holds_no_secret_value(evidence):
    assert b"/v1/secrets" in evidence.cassette and USER.encode() in evidence.cassette
    assert b"MAP_SECRET" in evidence.cassette
    assert_absent(evidence.cassette, EVERY_VALUE, "the recorded cassette")


def test_the_state_export_holds_no_secret_value(evidence):
    if evidence.export_status in (404, 405, 501):
        pytest.skip(f"/_emu/state/export answers {evidence.export_status}: not built yet")
    assert evidence.export_status == 200
    assert USER.encode() in evidence.export and b'"secrets"' in evidence.export
    assert_absent(evidence.export, EVERY_VALUE, "the state export")


def test_restart_with_the_wrong_master_key_exits_with_a_clear_message(evidence):
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--db", str(evidence.db)],
                            env={**os.environ, "THEAZO_EMU_MASTER_KEY": WRONG_KEY}, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1
    assert "wrong master key for the database" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert WRONG_KEY not in result.stderr + result.stdout and KEY not in result.stderr + result.stdout


def test_restart_with_the_right_master_key_still_hands_secrets_to_exec(evidence, tmp_path):
    with serve_logged(tmp_path / "again.log", "--db", str(evidence.db), "--exec", "local", "--master-key", KEY) as url:
        code = DIGESTS.format(names=("ORG_TOKEN", "MAP_SECRET"))
        response = httpx.post(f"{url}/v1/agents/{evidence.agent_id}/exec", json={"lang": "python", "code": code},
                              headers=AUTH, timeout=60)
        names = httpx.get(f"{url}/v1/secrets", headers=AUTH, timeout=10).json()["data"]
    assert response.status_code == 200, response.text
    assert response.json()["stdout"] == f"{_digest(ORG_VALUE)} {_digest('')}\n"  # MAP_SECRET was deleted
    assert sorted(s["name"] for s in names) == ["DB_PASSWORD", "ORG_TOKEN", "e2b_key"]
