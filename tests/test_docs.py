"""The docs stay true. The README is a front door (at most 200 lines, both quick starts in its
first 100) whose quick starts run as pasted against a fresh `theazo-emu serve` with no error
answer; every relative link of the README and docs/ resolves; every command and option of
the CLI is in docs/cli.md and every admin route in docs/.

The quick starts are run from the README itself, each block by bash (the Python one by this
interpreter), with only the port changed: a free one instead of 4010.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import serve_process

from theazo_emu.cli.main import main
from theazo_emu.core import lazy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
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


@pytest.mark.server
def test_the_quick_starts_run_as_pasted() -> None:
    readme = README.read_text()
    with serve_process() as url:
        port = url.rsplit(":", 1)[1]
        outputs = []
        for heading in ("## Quick start: Theazo", "## Quick start: Theo"):
            for language, body in _BLOCK.findall(_section(readme, heading)):
                body = body.replace("127.0.0.1:4010", f"127.0.0.1:{port}")
                if language == "bash":
                    done = subprocess.run(["bash", "-euo", "pipefail", "-c", body], capture_output=True, text=True,
                                          timeout=60)
                elif language == "python":
                    done = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=60)
                else:
                    continue
                assert done.returncode == 0, (heading, done.stdout, done.stderr)
                outputs.append(done.stdout)
    theazo, theo_curl, theo_python = outputs
    assert '"error"' not in theazo and '"type":"done"' in theazo and '"stdout":"4\\n"' in theazo
    assert '"error"' not in theo_curl and "event: done" in theo_curl and '"object":"completion"' in theo_curl
    assert "ChatCompletion(" in theo_python and "theo-1" in theo_python
