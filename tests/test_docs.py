"""The docs stay true. The README is a front door (at most 200 lines, both quick starts in its
first 100) whose quick starts run as pasted against a fresh `theazo-emu serve` with no error
answer; every relative link of the README and docs/ resolves; every command and option of
the CLI is in docs/cli.md and every admin route in docs/.

Every bash and Python block of the README and docs/ says, in an HTML comment on the line
before it, whether it runs: `<!-- runs against serve -->` blocks run in order, as pasted
(bash by bash, Python by this interpreter), against a fresh `theazo-emu serve` per page with
only the port changed (a free one instead of 4010); `<!-- runs with pytest -->` blocks are
test files run by pytest with the plugin; `<!-- not run: why -->` says why not.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import serve_process

from theazo_emu.cli import regen
from theazo_emu.cli.main import main
from theazo_emu.core import lazy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
_CLAIM = re.compile(r"(?:<!-- (runs against serve|runs with pytest|not run: [^>]+) -->\n)?```(bash|python)\n(.*?)```",
                    re.S)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_is_a_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    first = "\n".join(lines[:100])
    assert "## Quick start: Theazo" in first and "## Quick start: Theo" in first


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    targets = [t for t in _LINK.findall(page.read_text()) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == []


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_every_command_and_option_is_in_the_cli_doc() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    missing = []
    for name, command in _commands(main):
        if f"theazo-emu {name}" not in text and f"theazo-emu {name.split()[0]}" not in text:
            missing.append(name)
        for param in command.params:
            for option in getattr(param, "opts", ()):
                if option.startswith("--") and option not in text:
                    missing.append(f"{name} {option}")
    assert missing == []


def test_every_admin_route_is_in_the_docs() -> None:
    text = "\n".join(page.read_text() for page in DOCS)
    paths = {e.path for e in lazy.entries() if e.surface == "admin"}
    missing = sorted(p for p in paths if re.sub(r"/\{[^}]+\}.*", "", p) not in text)
    assert paths and missing == []


def _claims(page: Path) -> list[tuple[str | None, str, str]]:
    """(claim, language, body) of each bash and Python block of the page, in order."""
    return _CLAIM.findall(page.read_text())


def test_every_shell_and_python_block_says_whether_it_runs() -> None:
    unsaid = [f"{page.name}: {body.splitlines()[0]}" for page in [README, *DOCS]
              for claim, _, body in _claims(page) if not claim]
    assert unsaid == []


def _run_against_serve(page: Path) -> list[str]:
    """Each block of the page that runs against serve, run in order against a fresh one; their outputs."""
    outputs = []
    with serve_process() as url:
        port = url.rsplit(":", 1)[1]
        for claim, language, body in _claims(page):
            if claim != "runs against serve":
                continue
            body = body.replace("127.0.0.1:4010", f"127.0.0.1:{port}")
            command = ["bash", "-euo", "pipefail", "-c", body] if language == "bash" else [sys.executable, "-c", body]
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, (page.name, body, done.stdout, done.stderr)
            assert '"error"' not in done.stdout, (page.name, body, done.stdout)
            outputs.append(done.stdout)
    return outputs


@pytest.mark.server
def test_the_quick_starts_run_as_pasted() -> None:
    readme = README.read_text()
    for heading in ("## Quick start: Theazo", "## Quick start: Theo"):  # the quick starts are what runs
        assert [c for c, _, _ in _CLAIM.findall(_section(readme, heading))] == ["runs against serve"] * (
            1 if "Theazo" in heading else 2)
    theazo, theo_curl, theo_python = _run_against_serve(README)
    assert '"type":"done"' in theazo and '"stdout":"4\\n"' in theazo
    assert "event: done" in theo_curl and '"object":"completion"' in theo_curl
    assert "ChatCompletion(" in theo_python and "theo-1" in theo_python


@pytest.mark.server
@pytest.mark.parametrize("page", [p for p in DOCS if any(c == "runs against serve" for c, _, _ in _claims(p))],
                         ids=lambda p: p.name)
def test_the_docs_blocks_that_run_against_serve_run_as_pasted(page: Path) -> None:
    assert _run_against_serve(page)


def test_the_blocks_that_run_with_pytest_pass(tmp_path: Path) -> None:
    """Each block a test file of its own in a fresh project directory, as a user would paste it."""
    names = []
    for page in [README, *DOCS]:
        for n, (claim, language, body) in enumerate(_claims(page)):
            if claim == "runs with pytest":
                name = f"test_{page.stem.replace('-', '_').lower()}_{n}.py"
                (tmp_path / name).write_text(body)
                names.append(name)
    assert len(names) >= 4
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *names], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(names)} passed" in done.stdout, done.stdout


def test_the_serve_options_table_is_generated_and_checked() -> None:
    """docs/cli.md's table is regen's: an option missing from it, or a help changed, makes it stale."""
    text = (ROOT / "docs" / "cli.md").read_text()
    assert regen.cli_page(text) == text
    serve = main.commands["serve"]
    assert all(f"| `{p.opts[0]}" in text and p.envvar in text for p in serve.params if isinstance(p, click.Option))
    stale = text.replace("| `--heartbeat` |", "| `--heartbeat-s` |")
    assert stale != text and regen.cli_page(stale) == text
