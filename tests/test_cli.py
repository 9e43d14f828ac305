"""The command line: help on every command, `call`, `routes`, `openapi`, and the clock
and reset commands against a real server. (tests/test_docs.py checks
docs/cli.md names every command and option.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import START, serve_process

from theazo_emu.cli.main import main



def _commands(group=main, prefix=""):  # noqa: ANN001, ANN202
    for name, command in sorted(group.commands.items()):
        yield f"{prefix}{name}".strip(), command
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    top = name.split()[0]
    assert "Example" in result.output or top == "clock" and name != "clock" or name == "clock"


def test_call_prints_the_answer_and_exits_zero_on_2xx() -> None:
    result = CliRunner().invoke(main, ["call", "--in-process", "POST", "/v1/sessions", "--data", '{"userId": "cli"}',
                                       "--clock", START])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["userId"] == "cli" and body["createdAt"] == "2025-05-01T00:00:00.000Z"


def test_call_exits_one_on_an_error_and_prints_the_envelope() -> None:
    result = CliRunner().invoke(main, ["call", "--in-process", "GET", "/v1/sessions/ses_missing"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "not_found"


def test_options_come_from_environment_variables() -> None:
    runner = CliRunner(env={"THEAZO_EMU_SEED": "5", "THEAZO_EMU_CLOCK": START})
    five = runner.invoke(main, ["call", "--in-process", "POST", "/v1/sessions", "--data", '{"userId": "u"}'])
    zero = CliRunner().invoke(main, ["call", "--in-process", "POST", "/v1/sessions", "--data", '{"userId": "u"}',
                                     "--clock", START])
    assert json.loads(five.output)["createdAt"] == json.loads(zero.output)["createdAt"]
    assert json.loads(five.output)["id"] != json.loads(zero.output)["id"]


def test_bad_clock_option_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["call", "--in-process", "GET", "/_emu/health", "--clock", "yesterday"])
    assert result.exit_code == 2 and "--clock" in result.output


def test_routes_and_openapi_list_the_same_operations() -> None:
    routes = CliRunner().invoke(main, ["routes"]).output.splitlines()
    documents = {surface: json.loads(CliRunner().invoke(main, ["openapi", "--surface", surface]).output)
                 for surface in ("theazo", "theo", "admin")}
    operations = sum(len(methods) for document in documents.values() for methods in document["paths"].values())
    assert {document["openapi"] for document in documents.values()} == {"3.1.0"}
    assert len(routes) == operations > 20
    assert all(path.startswith("/v1/") for path in documents["theazo"]["paths"])
    schema = documents["theazo"]["components"]["schemas"]["CreateSession"]
    assert "userId" in schema["required"]


def test_clock_and_reset_commands_drive_a_running_server() -> None:
    with serve_process("--clock", START) as url:
        runner = CliRunner()
        shown = runner.invoke(main, ["clock", "show", "--url", url])
        assert json.loads(shown.output)["now"] == "2025-05-01T00:00:00.000Z"
        moved = runner.invoke(main, ["clock", "advance", "1h", "--url", url])
        assert json.loads(moved.output)["clock"]["now"] == "2025-05-01T01:00:00.000Z"
        jumped = runner.invoke(main, ["clock", "set", "2025-06-01T00:00:00Z", "--url", url])
        assert json.loads(jumped.output)["clock"]["now"] == "2025-06-01T00:00:00.000Z"
        back = runner.invoke(main, ["clock", "set", "2025-01-01T00:00:00Z", "--url", url])
        assert back.exit_code == 1 and "2025-01-01T00:00:00Z is before the emulator's current time" in back.output
        assert runner.invoke(main, ["clock", "advance", "soon", "--url", url]).exit_code == 2
        assert json.loads(runner.invoke(main, ["reset", "--url", url]).output) == {"ok": True, "scope": "all"}


def test_clock_command_without_a_server_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["clock", "show", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach the emulator" in result.output


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "theazo-emu" in result.stdout


def test_serve_refuses_a_port_in_use_without_a_traceback() -> None:
    with serve_process("--clock", START) as url:
        port = url.rsplit(":", 1)[1]
        result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", port],
                                capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert "cannot bind" in result.stderr and "Traceback" not in result.stderr


def test_fixtures_reload_command_reloads_a_running_servers_fixtures(tmp_path) -> None:
    (tmp_path / "keys.json").write_text('{"keys": [{"key": "th_test_reloaded", "scopes": ["*"]}]}')
    with serve_process("--clock", START, "--fixtures", str(tmp_path)) as url:
        (tmp_path / "broken.json").write_text("{oops")
        broken = CliRunner().invoke(main, ["fixtures", "reload", "--url", url])
        (tmp_path / "broken.json").unlink()
        fixed = CliRunner().invoke(main, ["fixtures", "reload", "--url", url])
    assert broken.exit_code == 1 and "broken.json" in broken.output
    assert fixed.exit_code == 0 and json.loads(fixed.output)["ok"] is True
