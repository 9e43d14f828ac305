"""Exec results: mocked by default, real python, bash and node subprocesses under `--exec local`.

The mock answers what a reader of the code would expect for the simplest programs:
lines that print a literal or an arithmetic expression (`print(2 + 2)`, `console.log(1+1)`,
`echo hi`, `fmt.Println(3*3)`) are evaluated by a tiny AST walker (never `eval`);
anything else produces no output and exit code 0. The duration is a digest of the
code, so the same request always gives the same bytes.
"""

from __future__ import annotations

import ast
import asyncio
import operator
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from theazo_emu.core.mock import digest

_PRINT = {
    "python": re.compile(r"^\s*print\((.*)\)\s*;?\s*$"),
    "node": re.compile(r"^\s*console\.log\((.*)\)\s*;?\s*$"),
    "go": re.compile(r"^\s*fmt\.Println\((.*)\)\s*;?\s*$"),
}
_ECHO = re.compile(r"^\s*echo\s+(.*?)\s*$")
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
# node reads the code as an ES module when it has import/export or top-level await, as
# CommonJS otherwise (the flag is the default from node 22.7 and accepted by node 20.10+).
_NODE = ["node", "--experimental-detect-module", "-e"]
LOCAL_LANGUAGES = {"python": ["python3", "-c"], "bash": ["bash", "-c"], "node": _NODE, "javascript": _NODE}


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    exitCode: int
    durationMs: int

    def to_api(self) -> dict:
        return asdict(self)


def mock_exec(seed: int, language: str, code: str) -> ExecResult:
    family = {"typescript": "node", "javascript": "node"}.get(language, language)
    lines = [_render_line(family, line) for line in code.splitlines()]
    stdout = "".join(f"{text}\n" for text in lines if text is not None)
    return ExecResult(stdout, "", 0, 50 + digest(seed, language, code, size=4) % 450)


def _render_line(family: str, line: str) -> str | None:
    if family == "bash":
        match = _ECHO.match(line)
        return match.group(1).strip("'\"") if match else None
    pattern = _PRINT.get(family)
    match = pattern.match(line) if pattern else None
    if not match:
        return None
    args = match.group(1).strip()
    if not args:
        return ""
    try:
        tree = ast.parse(f"({args},)", mode="eval").body
        values = [_evaluate(node) for node in tree.elts]  # type: ignore[attr-defined]
    except (SyntaxError, ValueError, ArithmeticError, TypeError, RecursionError, OverflowError):
        return None
    return " ".join(_format(family, value) for value in values)


def _evaluate(node: ast.AST) -> int | float | str | bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 10**6):  # type: ignore[arg-type]
            raise ValueError("exponent too large for the mock")
        if isinstance(left, str) and isinstance(node.op, ast.Mult) and abs(right) > 10_000:  # type: ignore[arg-type]
            raise ValueError("string too large for the mock")
        return _BINARY[type(node.op)](left, right)
    raise ValueError("not a literal expression")


def _format(family: str, value: int | float | str | bool) -> str:
    if isinstance(value, bool):
        return ("True" if value else "False") if family == "python" else ("true" if value else "false")
    if isinstance(value, float) and family != "python" and value.is_integer():
        return str(int(value))
    return str(value)


async def local_exec(language: str, code: str, workdir: Path, env: dict[str, str], timeout_s: float) -> ExecResult | None:
    """Run python, bash or node (javascript) for real in `workdir`, with `env` added to the
    server's environment; None for languages that only mock (typescript, go). The child
    runs while the event loop serves other requests, its own calls back included.

    Raises TimeoutError after `timeout_s`; the process group is killed first.
    """
    argv = LOCAL_LANGUAGES.get(language)
    if argv is None:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv, code, cwd=workdir, env={**_inherited_env(), **env}, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        _kill_group(proc)
        await proc.wait()
        raise TimeoutError from None
    duration = int((time.monotonic() - started) * 1000)
    return ExecResult(stdout.decode(errors="replace"), stderr.decode(errors="replace"), proc.returncode or 0, duration)


def _inherited_env() -> dict[str, str]:
    """The server's environment minus its own settings (the master key may be among them)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("THEAZO_EMU_")}


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
