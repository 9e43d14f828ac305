"""No Theo secret at rest: a real `serve` on a file database, logging at debug and recording
a cassette, creates API keys and webhooks (a given secret and a generated one) and rotates a
signing secret, each with and without an Idempotency-Key and each keyed one replayed; then
every secret it was shown is searched for in the SQLite files (db, -wal, -shm, live and after
shutdown), the state export (whole and per tenant), the journal, the cassette and the
server's output. Each search first finds the keys' and webhooks' names in the same haystack,
so a search that cannot find anything cannot pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import START
from leak_support import assert_absent, db_files, serve_logged

pytestmark = pytest.mark.server

OWNER = "theo_sk_test_leak_owner"
AUTH = {"Authorization": f"Bearer {OWNER}"}
VISIBLE = "theo-visible-name-4c1d"  # not secret: must be found where the secrets must not
GIVEN = ["theo-given-signing-secret-7e2a90c1", "theo-given-signing-secret-keyed-3f81d5"]


@dataclass
class Evidence:
    db: Path
    shown: list[str] = field(default_factory=list)  # every secret an answer revealed
    replays: list[dict] = field(default_factory=list)
    live: bytes = b""
    after: bytes = b""
    export: bytes = b""
    tenant_export: bytes = b""
    journal: bytes = b""
    cassette: bytes = b""
    log: bytes = b""


def _scenario(url: str, found: Evidence) -> None:
    def post(path: str, body: dict | None, idem: str | None = None, status: int = 200) -> dict:
        headers = {**AUTH, **({"Idempotency-Key": idem} if idem else {})}
        answers = [httpx.post(url + path, json=body, headers=headers, timeout=30) for _ in range(2 if idem else 1)]
        for answer in answers:
            assert answer.status_code == status, (path, answer.text)
        if idem:
            assert answers[1].headers["x-idempotent-replay"] == "true"
            found.replays.append(answers[1].json())
        return answers[0].json()

    for idem in (None, "key-1"):
        made = post("/api/v1/keys", {"name": f"{VISIBLE}-key-{idem}"}, idem, 201)
        found.shown.append(made["secret"])
    hooks = []
    for given, idem in zip([*GIVEN, None, None], (None, "hook-1", None, "hook-2")):
        body = {"url": "https://hooks.example.com/theo", "event_types": ["completion.created"],
                "description": f"{VISIBLE}-hook", **({"secret": given} if given else {})}
        hook = post("/api/v1/webhooks", body, idem, 201)
        found.shown.append(hook["signing_secret"])
        hooks.append(hook["id"])
    for hook, idem in zip(hooks, (None, "rotate-1", None, "rotate-2")):
        found.shown.append(post(f"/api/v1/webhooks/{hook}/rotate-secret", None, idem)["signing_secret"])
    found.live = db_files(found.db)
    found.export = httpx.get(f"{url}/_emu/state/export", timeout=30).content
    found.tenant_export = httpx.get(f"{url}/_emu/state/export", params={"key": OWNER}, timeout=30).content
    found.journal = httpx.get(f"{url}/_emu/requests?limit=10000", timeout=30).content


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    root = tmp_path_factory.mktemp("theo-leaks")
    found = Evidence(db=root / "emu.db")
    log, cassette = root / "server.log", root / "cassette.jsonl"
    with serve_logged(log, "--db", str(found.db), "--log-level", "debug", "--clock", START,
                      "--record", str(cassette)) as url:
        _scenario(url, found)
    found.after = db_files(found.db)
    found.log, found.cassette = log.read_bytes(), cassette.read_bytes()
    return found


def test_every_secret_was_shown_once_and_no_replay_shows_it_again(evidence):
    assert len(set(evidence.shown)) == 10 and set(GIVEN) <= set(evidence.shown)
    assert len(evidence.replays) == 5
    for replay in evidence.replays:
        assert {replay.get(name) for name in ("secret", "signing_secret", "signingSecret")} == {None}
        assert "shown once" in replay["_note"]


@pytest.mark.parametrize("where", ["live", "after", "export", "tenant_export", "journal", "cassette", "log"])
def test_no_artifact_holds_a_secret(evidence, where):
    haystack = getattr(evidence, where)
    assert b"/api/v1/keys" in haystack or VISIBLE.encode() in haystack, where  # the search sees the requests
    if where != "log":
        assert VISIBLE.encode() in haystack, where
    assert_absent(haystack, evidence.shown, where)
