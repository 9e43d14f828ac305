"""Fixtures in process: matching order, scripted runs and exec, seeding and reset, scopes,
validation messages (file, line, field, problem), reload on demand, documents added by
API, `fixtures check`, and the repository's example set.

Each test writes its own fixture directory under tmp_path and builds an emulator on it
(frozen clock, seed 0); run timelines are finished by advancing the clock, never sleeping.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, make_agent
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.fixtures.loader import FixtureError
from theazo_emu.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDED = {"Authorization": "Bearer th_test_seeded"}


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def fixture_client(tmp_path: Path):
    """A factory: a TestClient on an emulator loading the given fixture files."""
    clients: list[TestClient] = []

    def make(files: dict[str, str], **settings) -> TestClient:
        directory = _write(tmp_path / "fx", files)
        client = TestClient(create_app(Settings(clock=START, seed=0, fixtures=directory, **settings)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    with pytest.raises(FixtureError) as caught:
        create_app(Settings(clock=START, fixtures=_write(tmp_path / "bad", files)))
    return [str(p) for p in caught.value.problems]


def _run(client, auth, agent_id: str, task: str) -> dict:
    response = client.post(f"/v1/agents/{agent_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _exec(client, auth, agent_id: str, code: str, language: str = "python") -> dict:
    response = client.post(f"/v1/agents/{agent_id}/exec", json={"lang": language, "code": code}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _stream(client, auth, agent_id: str) -> list[tuple[str, dict]]:
    text = client.get(f"/v1/agents/{agent_id}/stream", headers=auth).text
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "event" in fields:
            frames.append((fields["event"], json.loads(fields["data"])))
    return frames


# ---- matching order ----

def test_files_are_matched_in_name_order(fixture_client, auth):
    client = fixture_client({
        "b.json": json.dumps({"runs": [{"match": {"task": "report"}, "output": "from b"}]}),
        "a.toml": '[[runs]]\nmatch = { task = "report" }\noutput = "from a"\n',
    })
    agent = make_agent(client, auth)
    assert _run(client, auth, agent["id"], "the weekly report")["output"] == "from a"


def test_within_a_file_the_first_declared_entry_wins(fixture_client, auth):
    client = fixture_client({"runs.toml": '''
[[runs]]
match = { task = { regex = "^weekly" } }
output = "first"
[[runs]]
match = { task = "weekly" }
output = "second"
'''})
    agent = make_agent(client, auth)
    assert _run(client, auth, agent["id"], "weekly digest")["output"] == "first"
    assert _run_later(client, auth, agent["id"], "the weekly digest")["output"] == "second"


def _run_later(client, auth, agent_id: str, task: str) -> dict:
    advance(client, 3600)
    return _run(client, auth, agent_id, task)


def test_a_run_no_fixture_matches_comes_from_the_default_generator(fixture_client, auth):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = { task = "report" }\noutput = "scripted"\n'})
    agent = make_agent(client, auth)
    assert _run(client, auth, agent["id"], "write a haiku")["output"].startswith("Done: write a haiku.")


@pytest.mark.parametrize(("match", "task", "matched"), [
    ('{ task = { exact = "Hello" } }', "Hello", True),
    ('{ task = { exact = "Hello" } }', "Hello there", False),
    ('{ task = { contains = "HELLO", ignoreCase = true } }', "say hello", True),
    ('{ task = "HELLO" }', "say hello", False),
    ('{ task = { regex = "^say \\\\w+$" } }', "say hello", True),
    ('{ instructions = "concise" }', "anything", True),
    ('{ instructions = "verbose" }', "anything", False),
    ('{ tools = ["web_search"] }', "anything", True),
    ('{ tools = ["web_search", "http_request"] }', "anything", False),
    ('{ model = "gpt-4o" }', "anything", False),
    ('{ key = "th_test_someone_else" }', "anything", False),
    ("{}", "anything", True),
])
def test_run_match_fields(fixture_client, auth, match, task, matched):
    client = fixture_client({"runs.toml": f'[[runs]]\nmatch = {match}\noutput = "scripted"\n'})
    agent = make_agent(client, auth, tools=["web_search", "write_file"], instructions="Be concise.")
    assert (_run(client, auth, agent["id"], task)["output"] == "scripted") is matched


def test_a_run_matches_on_its_definition_name(fixture_client, auth):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = { definition = { exact = "researcher" } }\n'
                                          'output = "by definition"\n'})
    definition = client.post("/v1/agent-definitions", json={"name": "researcher"}, headers=auth).json()
    agent = make_agent(client, auth, definition=definition["id"])
    plain = make_agent(client, auth)
    assert _run(client, auth, agent["id"], "go")["output"] == "by definition"
    assert _run(client, auth, plain["id"], "go")["output"] != "by definition"


# ---- scripted runs ----

RESEARCH = '''
[[runs]]
match = { task = "papers" }
output = "Here are the top 5..."
usage = { inputTokens = 1000, outputTokens = 400 }
cost = 12
duration = "9s"
[[runs.events]]
offset = 0
type = "thinking"
text = "Searching..."
[[runs.events]]
offset = "800ms"
type = "tool_call"
tool = "web_search"
input = { query = "AI papers" }
[[runs.events]]
offset = "2.4s"
type = "tool_result"
tool = "web_search"
output = "10 results"
'''


def test_a_scripted_run_answers_its_output_tool_calls_usage_cost_and_duration(fixture_client, auth):
    client = fixture_client({"runs.toml": RESEARCH})
    agent = make_agent(client, auth)
    run = _run(client, auth, agent["id"], "top papers")
    assert run["output"] == "Here are the top 5..."
    assert run["toolCalls"] == [{"tool": "web_search", "input": {"query": "AI papers"}, "output": "10 results"}]
    assert run["usage"] == {"inputTokens": 1000, "outputTokens": 400}
    assert run["cost"] == {"amount": 12, "currency": "usd"}
    assert (run["durationMs"], run["duration"]) == (9000, "9s")


def test_a_scripted_run_releases_its_events_on_the_virtual_timeline(fixture_client, auth):
    client = fixture_client({"runs.toml": RESEARCH})
    agent = make_agent(client, auth)
    _run(client, auth, agent["id"], "top papers")
    advance(client, 1)
    assert client.get(f"/v1/agents/{agent['id']}", headers=auth).json()["status"] == "running"
    advance(client, 8)
    frames = _stream(client, auth, agent["id"])
    assert [event for event, _ in frames] == ["thinking", "tool_call", "tool_result", "output"]
    assert frames[1][1] == {"type": "tool_call", "tool": "web_search", "input": {"query": "AI papers"}}
    assert frames[-1][1]["cost"] == {"amount": 12, "currency": "usd"} and frames[-1][1]["durationMs"] == 9000


def test_a_scripted_cost_is_what_the_usage_endpoints_report(fixture_client, auth):
    client = fixture_client({"runs.toml": RESEARCH})
    agent = make_agent(client, auth)
    _run(client, auth, agent["id"], "top papers")
    usage = client.get(f"/v1/sessions/{agent['sessionId']}/usage", headers=auth).json()
    assert usage["cost"] == {"amount": 12, "currency": "usd"}
    assert usage["compute"]["cost"]["amount"] + usage["models"]["cost"]["amount"] == 12
    assert (usage["models"]["inputTokens"], usage["models"]["outputTokens"]) == (1000, 400)


def test_a_scripted_error_fails_the_run_with_that_code(fixture_client, auth):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = { task = "boom" }\nerror = "provider_error"\n'
                                          'duration = "1.5s"\n'})
    agent = make_agent(client, auth)
    run = _run(client, auth, agent["id"], "boom")
    assert run["error"]["code"] == "provider_error" and run["output"] == ""
    advance(client, 2)
    frames = _stream(client, auth, agent["id"])
    assert frames[-1] == ("error", {"type": "error", "code": "provider_error",
                                    "message": "Upstream compute provider returned an error."})


def test_the_agent_timeout_still_cuts_a_scripted_run(fixture_client, auth):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = {}\noutput = "late"\nduration = "90s"\n'})
    agent = make_agent(client, auth, timeout=60)
    run = _run(client, auth, agent["id"], "anything")
    assert run["error"]["code"] == "timeout" and run["durationMs"] == 60_000


# ---- exec ----

def test_an_exec_fixture_answers_before_the_default_mock(fixture_client, auth):
    client = fixture_client({"exec.json": json.dumps({"exec": [
        {"match": {"language": "python", "code": {"exact": "import os"}}, "stdout": "scripted\n", "exitCode": 3,
         "durationMs": 77}]})})
    agent = make_agent(client, auth)
    assert _exec(client, auth, agent["id"], "import os\n") == {"stdout": "scripted\n", "stderr": "", "exitCode": 3,
                                                               "durationMs": 77}
    assert _exec(client, auth, agent["id"], "import os", "bash")["stdout"] == ""  # language differs: default mock


def test_exec_fixtures_match_code_by_regex_and_take_the_first_match(fixture_client, auth):
    client = fixture_client({"exec.toml": '''
[[exec]]
match = { code = { regex = "^print\\\\(" } }
stdout = "first\\n"
[[exec]]
match = { code = "print" }
stdout = "second\\n"
'''})
    agent = make_agent(client, auth)
    assert _exec(client, auth, agent["id"], "print(1)")["stdout"] == "first\n"
    assert _exec(client, auth, agent["id"], "x = 1; print(x)")["stdout"] == "second\n"


# ---- seeding, reset ----

SEEDS = '''
[[keys]]
key = "th_test_seeded"
[[keys.sessions]]
userId = "user_123"
metadata = { plan = "pro" }
[[keys.sessions.agents]]
tools = ["web_search"]
[[keys.sessions.agents]]
definition = "researcher"
secrets = ["OPENAI_API_KEY"]
[[keys.definitions]]
name = "researcher"
tools = ["write_file"]
[[keys.secrets]]
name = "OPENAI_API_KEY"
value = "sk-test"
[[keys.providers]]
provider = "e2b"
credentials = { apiKey = "e2b_test" }
'''


def _user_ids(client, auth) -> list[str]:
    return [s["userId"] for s in client.get("/v1/sessions", headers=auth).json()["data"]]


def test_seed_data_is_written_through_the_api_at_start(fixture_client):
    client = fixture_client({"keys.toml": SEEDS})
    sessions = client.get("/v1/sessions", headers=SEEDED).json()["data"]
    assert [(s["userId"], s["metadata"]) for s in sessions] == [("user_123", {"plan": "pro"})]
    agents = client.get(f"/v1/sessions/{sessions[0]['id']}/agents", headers=SEEDED).json()["data"]
    definitions = client.get("/v1/agent-definitions", headers=SEEDED).json()["data"]
    assert [d["name"] for d in definitions] == ["researcher"]
    assert sorted((a["tools"], a["definitionId"]) for a in agents) == [
        (["web_search"], None), (["write_file"], definitions[0]["id"])]  # named definition, known secret
    assert [s["name"] for s in client.get("/v1/secrets", headers=SEEDED).json()["data"]] == ["OPENAI_API_KEY"]
    assert [p["provider"] for p in client.get("/v1/providers", headers=SEEDED).json()["data"]] == ["e2b"]


def test_seeding_is_not_journaled(fixture_client):
    client = fixture_client({"keys.toml": SEEDS})
    assert client.get("/_emu/requests").json()["data"] == []


def test_reset_returns_to_the_seeded_state_not_to_empty(fixture_client):
    client = fixture_client({"keys.toml": SEEDS})
    client.post("/v1/sessions", json={"userId": "added_later"}, headers=SEEDED)
    assert sorted(_user_ids(client, SEEDED)) == ["added_later", "user_123"]
    assert client.post("/_emu/reset", json={}).json() == {"ok": True, "scope": "all", "seededKeys": 1}
    assert _user_ids(client, SEEDED) == ["user_123"]


def test_a_tenant_reset_reseeds_only_that_key(fixture_client, auth):
    client = fixture_client({"keys.toml": SEEDS})
    client.post("/v1/sessions", json={"userId": "mine"}, headers=auth)
    client.post("/v1/sessions", json={"userId": "extra"}, headers=SEEDED)
    client.post("/_emu/reset", json={"tenant": "th_test_seeded"})
    assert _user_ids(client, SEEDED) == ["user_123"]
    assert _user_ids(client, auth) == ["mine"]


def test_a_persisted_database_is_not_seeded_twice(tmp_path):
    directory, db = _write(tmp_path / "fx", {"keys.toml": SEEDS}), str(tmp_path / "state.db")
    for _ in range(2):
        app = create_app(Settings(clock=START, fixtures=directory, db=db))
        with TestClient(app) as client:
            assert _user_ids(client, SEEDED) == ["user_123"]
        app.state.emu.close()


def test_a_seed_the_api_refuses_is_a_problem_at_its_location(tmp_path):
    problems = _problems(tmp_path, {"keys.toml": '[[keys]]\nkey = "th_test_x"\n\n[[keys.sessions]]\n'
                                                 'userId = 42\n'})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'bad' / 'keys.toml'}:5: keys[0].sessions[0].userId: "
                                  "the API refused this seed: POST /v1/sessions answered 422 unprocessable_entity")


# ---- scopes ----

SCOPED = '''
[[keys]]
key = "th_test_readonly"
scopes = ["sessions:read"]
[[keys.sessions]]
userId = "viewer"
[[keys]]
key = "th_test_writer"
scopes = ["sessions:write"]
[[keys]]
key = "th_test_reader"
scopes = ["*:read"]
'''


def _key(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer th_test_{name}"}


def test_a_read_scope_allows_reads_of_its_family(fixture_client):
    client = fixture_client({"keys.toml": SCOPED})
    assert _user_ids(client, _key("readonly")) == ["viewer"]


def test_a_write_outside_the_scopes_is_403_forbidden_and_stores_nothing(fixture_client):
    client = fixture_client({"keys.toml": SCOPED})
    body = assert_error(client.post("/v1/sessions", json={"userId": "x"}, headers=_key("readonly")), 403, "forbidden")
    assert body["error"]["message"] == ("This API key lacks the 'sessions:write' scope needed for POST /v1/sessions "
                                        "(it has: sessions:read).")
    assert body["error"]["details"] == {"required": "sessions:write", "granted": ["sessions:read"]}
    assert _user_ids(client, _key("readonly")) == ["viewer"]


def test_another_family_is_403(fixture_client):
    client = fixture_client({"keys.toml": SCOPED})
    response = client.get("/v1/agents", headers=_key("readonly"))
    assert "'agents:read'" in assert_error(response, 403, "forbidden")["error"]["message"]


def test_write_implies_read(fixture_client):
    client = fixture_client({"keys.toml": SCOPED})
    assert client.post("/v1/sessions", json={"userId": "w"}, headers=_key("writer")).status_code == 201
    assert _user_ids(client, _key("writer")) == ["w"]


def test_star_read_reads_every_family_and_writes_none(fixture_client):
    client = fixture_client({"keys.toml": SCOPED})
    assert client.get("/v1/agents", headers=_key("reader")).status_code == 200
    assert_error(client.post("/v1/secrets", json={"name": "A", "value": "b"}, headers=_key("reader")), 403, "forbidden")


def test_keys_not_declared_are_unrestricted(fixture_client, auth):
    client = fixture_client({"keys.toml": SCOPED})
    assert client.post("/v1/sessions", json={"userId": "free"}, headers=auth).status_code == 201


def test_a_fixture_rate_limit_applies_to_its_key(fixture_client):
    client = fixture_client({"keys.toml": '[[keys]]\nkey = "th_test_limited"\nrateLimit = 2\n'
                                          '[[keys.sessions]]\nuserId = "a"\n[[keys.sessions]]\nuserId = "b"\n'
                                          '[[keys.sessions]]\nuserId = "c"\n'})
    statuses = [client.get("/v1/sessions", headers=_key("limited")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # seeding three sessions did not use the key's quota


# ---- validation messages ----

def test_a_json_syntax_error_names_file_line_and_column(tmp_path):
    problems = _problems(tmp_path, {"runs.json": '{\n  "runs": [\n    {"match": {}, }\n  ]\n}\n'})
    assert len(problems) == 1  # the decoder's wording varies across Python versions; its position does not
    assert problems[0].startswith(f"{tmp_path / 'bad' / 'runs.json'}:3: invalid JSON: ")
    assert problems[0].endswith("(column 19)")


def test_a_toml_syntax_error_names_file_and_line(tmp_path):
    problems = _problems(tmp_path, {"runs.toml": '[[runs]]\nmatch = {}\noutput = \n'})
    assert problems == [f"{tmp_path / 'bad' / 'runs.toml'}:3: invalid TOML: Invalid value (column 10)"]


def test_a_schema_error_in_toml_names_the_json_path_and_line(tmp_path):
    problems = _problems(tmp_path, {"runs.toml": '''[[runs]]
match = {}
output = "x"

[[runs.events]]
offset = "2s"
type = "thinking"
text = "a"

[[runs.events]]
offset = "1s"
type = "thinking"
text = "b"
'''})
    assert problems == [f"{tmp_path / 'bad' / 'runs.toml'}:5: runs[0].events: offsets must not decrease: "
                        "events[1] at 1000 ms comes after events[0] at 2000 ms"]


def test_a_bad_field_in_json_names_its_path_and_line(tmp_path):
    text = json.dumps({"runs": [{"match": {}, "output": "ok"},
                                {"match": {}, "events": [{"offset": "soon", "type": "thinking", "text": "t"}]}]},
                      indent=2)
    problems = _problems(tmp_path, {"runs.json": text})
    line = text.splitlines().index('          "offset": "soon",') + 1
    assert problems == [f"{tmp_path / 'bad' / 'runs.json'}:{line}: runs[1].events[0].offset: "
                        "expected milliseconds or a duration such as '250ms' or '2s', got 'soon'"]


def test_an_unknown_field_names_the_expected_ones(tmp_path):
    problems = _problems(tmp_path, {"exec.json": json.dumps({"exec": [{"match": {"lang": "python"}}]}, indent=1)})
    assert problems == [f"{tmp_path / 'bad' / 'exec.json'}:4: exec[0].match: unknown field 'lang' "
                        "(expected: language, code, key)"]


@pytest.mark.parametrize(("text", "expected"), [
    ('[[runs]]\nmatch = { task = { regex = "(" } }\n', "runs[0].match.task: invalid regular expression"),
    ('[[runs]]\nmatch = {}\noutput = "x"\nerror = "timeout"\n', "runs[0]: give 'output' or 'error', not both"),
    ('[[runs]]\nmatch = {}\nerror = "teapot"\n', "runs[0].error.code: Input should be"),
    ('[[runs]]\nmatch = {}\ncost = 1\nduration = "2m"\n', "runs[0]: cost 1 is below the compute charge of 10 cents"),
    ('[[keys]]\nkey = "th_live_x"\n', "keys[0].key: must be a test key"),
    ('[[keys]]\nkey = "th_test_x"\nscopes = ["session:read"]\n', "keys[0].scopes: unknown family 'session'"),
    ('[[keys]]\nkey = "th_test_x"\nscopes = ["sessions:delete"]\n', "keys[0].scopes: invalid scope"),
    ('[[faults]]\nfault = "latency"\n', "faults[0]: a 'latency' fault needs 'latencyMs'"),
    ('[[faults]]\nfault = "boom"\n', "faults[0].fault: Input should be"),
    ('[[faults]]\nfault = "timeout"\nmatch = { path = "v1/x" }\n', "faults[0].match.path: must start with"),
    ('[[run]]\nmatch = {}\n', "unknown field 'run' (expected: description, keys, runs, exec, chat, faults, "
                               "completions, theoKeys, jobs, transcripts)"),
    ('[[chat]]\nmatch = {}\n', "chat[0].reply: Field required"),
    ('[[chat]]\nmatch = { text = "hi" }\nreply = "x"\n', "chat[0].match: unknown field 'text'"),
])
def test_schema_problems_name_the_field_and_the_problem(tmp_path, text, expected):
    problems = _problems(tmp_path, {"f.toml": text})
    assert len(problems) == 1 and expected in problems[0], problems
    assert problems[0].startswith(str(tmp_path / "bad" / "f.toml"))


def test_a_key_declared_in_two_files_is_a_problem(tmp_path):
    problems = _problems(tmp_path, {"a.toml": '[[keys]]\nkey = "th_test_twice"\n',
                                    "b.toml": '\n[[keys]]\nkey = "th_test_twice"\n'})
    assert problems == [f"{tmp_path / 'bad' / 'b.toml'}:3: keys[0].key: key declared twice (first in a.toml keys[0])"]


def test_every_broken_file_is_reported_at_once(tmp_path):
    problems = _problems(tmp_path, {"a.toml": "x = \n", "b.json": "[", "c.toml": "[[runs]]\n"})
    assert [p.split(":")[0].rsplit("/", 1)[-1] for p in problems] == ["a.toml", "b.json", "c.toml"]


def test_a_missing_directory_is_a_problem(tmp_path):
    with pytest.raises(FixtureError, match="fixture directory not found"):
        create_app(Settings(fixtures=tmp_path / "nowhere"))


# ---- reload on demand ----

def test_reload_applies_a_changed_file_from_the_next_request(fixture_client, auth, tmp_path):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = {}\noutput = "old"\n'})
    agent = make_agent(client, auth)
    (tmp_path / "fx" / "runs.toml").write_text('[[runs]]\nmatch = {}\noutput = "new"\n')
    response = client.post("/_emu/fixtures/reload")
    assert response.status_code == 200 and response.json()["counts"]["runs"] == 1
    assert _run(client, auth, agent["id"], "go")["output"] == "new"


def test_a_broken_reload_is_422_and_keeps_the_last_good_set(fixture_client, auth, tmp_path):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = {}\noutput = "good"\n'})
    agent = make_agent(client, auth)
    (tmp_path / "fx" / "runs.toml").write_text('[[runs]]\nmatch = {}\noutput = \n')
    body = assert_error(client.post("/_emu/fixtures/reload"), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"] == [{"file": str(tmp_path / "fx" / "runs.toml"), "line": 3, "field": "",
                                         "message": "invalid TOML: Invalid value (column 10)", "type": "value_error"}]
    assert "the last good set stays in force" in body["error"]["message"]
    assert _run(client, auth, agent["id"], "go")["output"] == "good"
    assert client.get("/_emu/fixtures").json()["problems"][0]["line"] == 3


def test_a_reload_whose_seeds_the_api_refuses_changes_nothing(fixture_client, tmp_path):
    client = fixture_client({"keys.toml": SEEDS})
    (tmp_path / "fx" / "keys.toml").write_text('[[keys]]\nkey = "th_test_seeded"\n[[keys.secrets]]\nname = "A"\n')
    body = assert_error(client.post("/_emu/fixtures/reload"), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"].startswith("keys[0].secrets[0]")
    assert client.get("/_emu/fixtures").json()["version"] == 1


def test_reload_without_a_fixture_directory_is_409(client):
    body = assert_error(client.post("/_emu/fixtures/reload"), 409, "conflict")
    assert "--fixtures" in body["error"]["message"]


# ---- documents added by API ----

def test_a_document_for_one_key_scripts_only_that_keys_runs(client, auth, key):
    response = client.post("/_emu/fixtures", json={"key": key, "runs": [{"match": {}, "output": "mine"}]})
    assert response.status_code == 201 and response.json()["id"] == "doc_1"
    other = {"Authorization": "Bearer th_test_not_the_documents_key"}
    assert _run(client, auth, make_agent(client, auth)["id"], "go")["output"] == "mine"
    assert _run(client, other, make_agent(client, other)["id"], "go")["output"] != "mine"


def test_a_document_seeds_its_key_at_once(client, auth, key):
    client.post("/_emu/fixtures", json={"key": key, "sessions": [{"userId": "doc_user"}]})
    assert _user_ids(client, auth) == ["doc_user"]


def test_a_documents_secret_values_never_reach_the_journal(client, key):
    response = client.post("/_emu/fixtures", json={"key": key, "secrets": [{"name": "TOKEN", "value": "s3cr3t-v4lue"}]})
    assert response.status_code == 201
    journal = client.get("/_emu/requests").text
    assert "/_emu/fixtures" in journal and "s3cr3t-v4lue" not in journal


def test_a_document_can_restrict_its_keys_scopes(client, auth, key):
    client.post("/_emu/fixtures", json={"key": key, "scopes": ["sessions:read"]})
    assert client.get("/v1/sessions", headers=auth).status_code == 200
    assert_error(client.post("/v1/sessions", json={"userId": "u"}, headers=auth), 403, "forbidden")
    client.delete("/_emu/fixtures", params={"key": key})
    assert client.post("/v1/sessions", json={"userId": "u"}, headers=auth).status_code == 201


def test_documents_come_before_the_files(fixture_client, auth, key):
    client = fixture_client({"runs.toml": '[[runs]]\nmatch = {}\noutput = "file"\n'})
    client.post("/_emu/fixtures", json={"runs": [{"match": {"task": "doc"}, "output": "document"}]})
    agent = make_agent(client, auth)
    assert _run(client, auth, agent["id"], "doc")["output"] == "document"
    assert _run_later(client, auth, agent["id"], "other")["output"] == "file"


def test_a_documents_faults_are_limited_to_its_key(client, auth, key):
    rule = {"fault": "timeout", "match": {"path": "/v1/usage/**"}}
    client.post("/_emu/fixtures", json={"key": key, "faults": [rule]})
    assert_error(client.get("/v1/usage/summary", headers=auth), 504, "timeout")
    assert client.get("/v1/usage/summary", headers={"Authorization": "Bearer th_test_x"}).status_code == 200


def test_a_tenant_reset_forgets_that_keys_documents(client, auth, key):
    client.post("/_emu/fixtures", json={"key": key, "runs": [{"match": {}, "output": "mine"}]})
    client.post("/_emu/reset", json={"tenant": key})
    assert client.get("/_emu/fixtures").json()["documents"] == []


@pytest.mark.parametrize(("body", "expected"), [
    ({"sessions": [{"userId": "u"}]}, "'sessions' seeds a key: give 'key' too"),
    ({"key": "th_test_d", "sessions": [{"userId": 7}]}, "sessions[0].userId: the API refused this seed"),
    ({"runs": [{"match": {}, "events": [{"offset": 1, "type": "tool_call"}]}]}, "a 'tool_call' event needs 'tool'"),
    ({"runs": [{"match": {}, "cost": -1}], "chat": [{"duration": None, "cost": None}]}, "runs.0.cost"),
    ({"theoKeys": [{"key": {"a": 1}}]}, "theoKeys.0.key"),
])
def test_a_bad_document_is_422_and_changes_nothing(client, body, expected):
    response = client.post("/_emu/fixtures", json=body)
    assert expected in json.dumps(assert_error(response, 422, "unprocessable_entity")["error"])
    assert client.get("/_emu/fixtures").json()["documents"] == []


# ---- the CLI and the example set ----

def test_fixtures_check_prints_ok_with_counts() -> None:
    result = CliRunner().invoke(main, ["fixtures", "check", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert result.output == (f"OK {EXAMPLES}: 6 files, 2 keys, 2 runs, 2 exec, 1 chat, 2 faults, 5 completions, "
                             "3 theoKeys, 0 jobs, 0 transcripts\n")


def test_fixtures_check_prints_every_problem_and_exits_1(tmp_path) -> None:
    _write(tmp_path, {"a.toml": "[[runs]]\n", "b.json": '{"exec": [{"match": {"cod": "x"}}]}'})
    result = CliRunner().invoke(main, ["fixtures", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (f"2 problem(s) in {tmp_path}:\n"
                             f"  {tmp_path / 'a.toml'}:1: runs[0].match: Field required\n"
                             f"  {tmp_path / 'b.json'}:1: exec[0].match: unknown field 'cod' "
                             "(expected: language, code, key)\n")


@pytest.fixture
def examples(tmp_path: Path) -> Iterator[TestClient]:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    with TestClient(create_app(Settings(clock=START, fixtures=tmp_path / "examples"))) as client:
        yield client


def test_the_example_set_scripts_the_references_research_run(examples):
    session = examples.get("/v1/sessions", headers=SEEDED).json()["data"][0]
    agent = examples.get(f"/v1/sessions/{session['id']}/agents", headers=SEEDED).json()["data"][0]
    run = _run(examples, SEEDED, agent["id"], "Summarize the top 5 AI research papers from this week")
    assert run["output"].startswith("Here are the top 5 AI research papers from this week:")
    assert [c["tool"] for c in run["toolCalls"]] == ["web_search", "web_search"]
    assert run["cost"] == {"amount": 12, "currency": "usd"}


def test_the_example_set_answers_print_2_plus_2_with_4(examples, auth):
    agent = make_agent(examples, auth)
    assert _exec(examples, auth, agent["id"], "print(2 + 2)") == {"stdout": "4\n", "stderr": "", "exitCode": 0,
                                                                  "durationMs": 312}


def test_the_example_set_fails_the_flaky_keys_first_run_with_provider_error(examples):
    flaky = _key("flaky")
    agent = make_agent(examples, flaky)
    assert_error(examples.post(f"/v1/agents/{agent['id']}/run", json={"task": "go"}, headers=flaky), 502,
                 "provider_error")
    assert _run(examples, flaky, agent["id"], "go")["taskId"].startswith("task_")
