"""Hand-run benchmark with wrk: per-request cost of the emulator beside the anchors, in one run.

Run from the repository root, with wrk installed (`apt-get install wrk`):

    python tests/perf/bench_wrk.py                       # about fifteen minutes
    python tests/perf/bench_wrk.py --seconds 3 --rounds 1 --cold-runs 3   # quick look
    python tests/perf/bench_wrk.py --other /path/to/venv/bin/python         # beside another build
    python tests/perf/bench_wrk.py --json

Run it with the python of a venv holding a regular install (`pip install .`, as the README's
set-up does): an editable install's import hook adds about 100 ms to every start. Servers
are separate processes on 127.0.0.1; the load is `wrk -t1 -c16 -d<seconds>s --latency` (a C
load generator: a Python one saturates before the server does). Windows of the different
servers are interleaved, round by round, in alternating order, so machine noise falls on all
of them alike; the best round of each is reported (noise only ever slows a window down).
Every figure is printed as a ratio to an anchor measured in the same run:
- `bare` (A1): a Starlette JSON GET/POST on uvicorn with the same server stack as `serve`;
- `sqlite` (A2): the same app inserting its POST's row with sqlite-utils into a WAL file
  with `synchronous=NORMAL`, reading its GET's by primary key (bench_sqlite.py);
- `mockllm`: the OpenAI-compatible mock server from PyPI, chat completions streamed and not,
  installed on first use in a venv of its own under `--anchors` (its JSON answer stalls on a
  keep-alive connection, so only its stream is an anchor);
- `prism`: Prism's mock server (npm `@stoplight/prism-cli`, `-v warn`) on an OpenAPI document
  of the same two Theazo routes, installed on first use under `--anchors` when npm is there
  (`--prism CMD`: a command of your own that takes `-p PORT FILE`; `--no-prism`: none);
- `other`: another build of the emulator (`--other PYTHON`: the interpreter of a venv it is
  installed in, run as `PYTHON -m theazo_emu` like this checkout), e.g. the previous commit's.
The emulator runs `serve --db FILE --clock 2025-05-01T00:00:00Z --pace instant` in an empty
directory, as a user who keeps state runs it. Measured: GET /_emu/health, GET /v1/sessions/:id,
POST /v1/sessions, POST /v1/agents/:id/run, Theo completions (POST /api/v1/completions and
/api/v1/chat/completions, JSON and streamed: the mock engine's answer, a conversation and its
messages, a ledger row, an audit entry and an event), p99 latency at 16 connections, cold
start (spawn -> first 200 on /_emu/health, median of --cold-runs) and idle RSS. Any non-2xx
answer fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
KEY = "th_test_bench"
THEO_KEY = "theo_sk_test_bench"
CLOCK = "2025-05-01T00:00:00Z"
PRISM_DOC = {
    "openapi": "3.0.3", "info": {"title": "bench", "version": "1"},
    "paths": {"/v1/sessions/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                            "schema": {"type": "string"}}],
                                            "responses": {"200": {"description": "ok", "content": {
                                                "application/json": {"example": {"id": "ses_1", "status": "active"}}}}}}},
              "/v1/sessions": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                                        "responses": {"201": {"description": "ok", "content": {
                                            "application/json": {"example": {"id": "ses_1", "status": "active"}}}}}}}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port: int, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        conn.close()


def wait_up(port: int, proc: subprocess.Popen, path: str = "/_emu/health", limit: float = 60) -> float:
    start = time.perf_counter()
    while True:
        try:
            if get(port, path)[0] < 500:
                return time.perf_counter() - start
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() - start > limit:
            raise RuntimeError(f"server on {port} did not come up (exit {proc.poll()})")
        time.sleep(0.002)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Server:
    name: str
    command: list[str]
    cwd: str
    health: str = "/_emu/health"
    port: int = 0
    proc: subprocess.Popen | None = None
    paths: dict[str, str] = field(default_factory=dict)  # measure name -> path
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> float:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        spawned = time.perf_counter()
        self.proc = subprocess.Popen(command, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **self.env})
        wait_up(self.port, self.proc, self.health)
        return time.perf_counter() - spawned

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def emulator(name: str, binary: list[str], cwd: str, db: str | None = None) -> Server:
    return Server(name, [*binary, "serve", "--port", "{port}", "--clock", CLOCK, "--pace", "instant",
                         "--log-level", "warning", *(["--db", db] if db else [])], cwd)


def prepare_emulator(server: Server) -> None:
    status, session = get(server.port, "/v1/sessions", "POST", {"userId": "bench"})
    assert status == 201, session
    status, agent = get(server.port, f"/v1/sessions/{session['id']}/agents", "POST", {})
    assert status == 201, agent
    server.paths = {"health": "/_emu/health", "get": f"/v1/sessions/{session['id']}", "post": "/v1/sessions",
                    "run": f"/v1/agents/{agent['id']}/run", "theo": "/api/v1/completions",
                    "theo_stream": "/api/v1/completions", "chat": "/api/v1/chat/completions",
                    "chat_stream": "/api/v1/chat/completions"}


LUA = {
    "get": 'wrk.headers["Authorization"] = "Bearer {key}"\n',
    "health": "",
    "post": 'wrk.method = "POST"\nwrk.body = \'{{"userId": "bench"}}\'\nwrk.headers["Content-Type"] = '
            '"application/json"\nwrk.headers["Authorization"] = "Bearer {key}"\n',
    "run": 'wrk.method = "POST"\nwrk.body = \'{{"task": "bench"}}\'\nwrk.headers["Content-Type"] = '
           '"application/json"\nwrk.headers["Authorization"] = "Bearer {key}"\n',
}
_THEO = ('wrk.method = "POST"\nwrk.body = \'{body}\'\nwrk.headers["Content-Type"] = "application/json"\n'
         'wrk.headers["Authorization"] = "Bearer ' + THEO_KEY + '"\n')
_CHAT = '{{"model": "gpt-4o-mini", "messages": [{{"role": "user", "content": "Explain a hash map"}}]'
LUA |= {"theo": _THEO.format(body='{{"prompt": "Explain a hash map"}}'),
        "theo_stream": _THEO.format(body='{{"prompt": "Explain a hash map", "stream": true}}'),
        "chat": _THEO.format(body=_CHAT + "}}"), "chat_stream": _THEO.format(body=_CHAT + ', "stream": true}}')}
MEASURES = ("health", "get", "post", "run", "theo", "theo_stream", "chat", "chat_stream")
# The anchor of each measure's ratio: (server, its measure). Writes are held to the app that
# writes a row (A2); a stream to the mock LLM server's stream.
ANCHOR = {"health": ("bare", "health"), "get": ("bare", "get"), "post": ("sqlite", "post"),
          "run": ("sqlite", "post"), "theo": ("sqlite", "post"), "chat": ("sqlite", "post"),
          "theo_stream": ("mockllm", "chat_stream"), "chat_stream": ("mockllm", "chat_stream")}
# mockllm answers every prompt it has no entry for with this default, a character an event.
MOCKLLM_RESPONSES = "responses: {}\ndefaults:\n  unknown_response: \"I don't know the answer to that.\"\n"
# Counting non-2xx answers: wrk reports them on a line of their own.
_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def wrk(port: int, path: str, measure: str, seconds: float, conns: int, scripts: Path,
        lua: str | None = None) -> tuple[float, float]:
    """(requests per second, p99 in ms) for one window; `lua`: a script other than LUA[measure]'s."""
    script = scripts / f"{measure}.lua"
    script.write_text(LUA[measure].format(key=KEY) if lua is None else lua)
    done = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
                           f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout, f"{HOST}:{port}{path}")


def parse_wrk(out: str, where: str) -> tuple[float, float]:
    """(requests per second, p99 in ms) from wrk's report; non-2xx answers end the run."""
    bad = _NON2XX.search(out)
    if bad:
        raise SystemExit(f"{bad.group(1)} non-2xx answers from {where}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return rate, float(p99.group(1)) * scale


def bare_server(cwd: str) -> Server:
    # uvicorn's defaults, as `serve` uses them (the event loop and HTTP parser it finds installed).
    server = Server("bare", [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bench_bare:app", "--host", HOST,
                             "--port", "{port}", "--log-level", "warning"], cwd)
    server.paths = {"health": "/_emu/health", "get": "/v1/sessions/ses_1", "post": "/v1/sessions"}
    return server


def sqlite_server(cwd: str, db: Path) -> Server:
    server = Server("sqlite", [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bench_sqlite:app", "--host",
                               HOST, "--port", "{port}", "--log-level", "warning"], cwd, env={"BENCH_DB": str(db)})
    server.paths = {"get": "/v1/sessions/ses_1", "post": "/v1/sessions"}
    return server


def mockllm_server(anchors: Path, work: Path) -> Server | None:
    """mockllm from PyPI in a venv of its own (made on first use), or None if it cannot be installed."""
    venv = anchors / "mockllm-venv"
    binary = venv / "bin" / "mockllm"
    if not binary.exists():
        print(f"installing mockllm into {venv} ...", file=sys.stderr)
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode == 0 and subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "mockllm"]).returncode == 0
        if not made:
            print("mockllm could not be installed: its rows are left out", file=sys.stderr)
            return None
    (work / "responses.yml").write_text(MOCKLLM_RESPONSES)
    server = Server("mockllm", [str(binary), "start", "-h", HOST, "-p", "{port}"], str(work), health="/models",
                    env={"MOCKLLM_RESPONSES_FILE": str(work / "responses.yml")})
    server.paths = {"chat": "/v1/chat/completions", "chat_stream": "/v1/chat/completions"}
    return server


def prism_server(command: str | None, anchors: Path, work: Path) -> Server | None:
    """Prism's mock server on PRISM_DOC: `command`, or npm's package installed under `anchors` on first use."""
    if command is None:
        binary = anchors / "prism" / "node_modules" / ".bin" / "prism"
        if not binary.exists():
            if shutil.which("npm") is None:
                print("no npm: the Prism rows are left out", file=sys.stderr)
                return None
            print(f"installing @stoplight/prism-cli into {binary.parents[2]} ...", file=sys.stderr)
            binary.parents[2].mkdir(parents=True, exist_ok=True)
            if subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                               "@stoplight/prism-cli"], cwd=binary.parents[2]).returncode != 0:
                print("Prism could not be installed: its rows are left out", file=sys.stderr)
                return None
        command = f"{binary} mock -v warn"
    doc = work / "prism.json"
    doc.write_text(json.dumps(PRISM_DOC))
    server = Server("prism", [*command.split(), "-p", "{port}", str(doc)], str(work), health="/v1/sessions/ses_1")
    server.paths = {"get": "/v1/sessions/ses_1", "post": "/v1/sessions"}
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--other", help="the python of another venv with theazo-emu installed, to measure beside")
    parser.add_argument("--anchors", type=Path, default=Path.home() / ".cache" / "theazo-emu-bench",
                        help="where mockllm's venv and Prism are installed on first use")
    parser.add_argument("--prism", help="command that starts Prism's mock server, given '-p PORT FILE'")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--no-mockllm", action="store_true", help="leave mockllm out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    empty = tempfile.mkdtemp(prefix="bench-empty-")
    servers = [bare_server(empty), sqlite_server(empty, work / "sqlite.db"),
               emulator("emulator", [sys.executable, "-m", "theazo_emu"], empty, db=str(work / "emulator.db"))]
    if args.other:
        servers.append(emulator("other", [args.other, "-m", "theazo_emu"], empty, db=str(work / "other.db")))
    anchors = [None if args.no_mockllm else mockllm_server(args.anchors, work),
               None if args.no_prism else prism_server(args.prism, args.anchors, work)]
    servers += [server for server in anchors if server is not None]
    results: dict[str, dict[str, list[tuple[float, float]]]] = {s.name: {} for s in servers}
    cold: dict[str, list[float]] = {s.name: [] for s in servers if s.name in ("bare", "emulator", "other")}
    rss: dict[str, float] = {}
    try:
        for server in servers:
            server.start()
            if server.name in ("emulator", "other"):
                prepare_emulator(server)
                rss[server.name] = rss_mib(server.proc.pid)
        for round_ in range(args.rounds):
            order = servers if round_ % 2 == 0 else list(reversed(servers))
            for measure in MEASURES:
                for server in order:
                    if measure in server.paths:
                        results[server.name].setdefault(measure, []).append(
                            wrk(server.port, server.paths[measure], measure, args.seconds, args.conns, work))
    finally:
        for server in servers:
            server.stop()
    for _ in range(args.cold_runs):
        for server in servers:
            if server.name in cold:
                cold[server.name].append(server.start())
                server.stop()
    report = {"rps": {n: {m: max(r for r, _ in w) for m, w in ms.items()} for n, ms in results.items()},
              "p99_ms": {n: {m: min(p for _, p in w) for m, w in ms.items()} for n, ms in results.items()},
              "cold_start_ms": {n: statistics.median(v) * 1000 for n, v in cold.items()},
              "rss_mib": rss, "rounds": args.rounds, "seconds": args.seconds, "conns": args.conns}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def print_report(report: dict) -> None:
    """One table: req/s of every server per measure, the emulator's ratio to its anchor, to
    Prism and to the other build, and the p99 of the emulator beside its anchor's."""
    rps, p99 = report["rps"], report["p99_ms"]
    names = list(rps)
    emu = rps["emulator"]
    print(f"wrk -t1 -c{report['conns']} -d{report['seconds']:g}s, best of {report['rounds']} interleaved rounds; "
          f"req/s, then the emulator's ratios and p99 (ms)")
    extra = [anchor for anchor in ("prism", "other") if anchor in rps]
    print(f"{'measure':<12}" + "".join(f"{n:>10}" for n in names) + f"   {'emu / anchor':<30}"
          + "".join(f"{'emu / ' + a:>13}" for a in extra) + f"{'p99 emu':>10}{'p99 anchor':>12}")
    for measure in MEASURES:
        if measure not in emu:
            continue
        row = f"{measure:<12}" + "".join(f"{rps[n][measure]:>10.0f}" if measure in rps[n] else f"{'':>10}"
                                         for n in names)
        anchor, anchor_measure = ANCHOR[measure]
        ref = rps.get(anchor, {}).get(anchor_measure)
        row += f"   {emu[measure] / ref:>5.2f} x {anchor} {anchor_measure}".ljust(33) if ref else " " * 33
        for other in extra:
            ref_other = rps[other].get(measure)
            row += f"{emu[measure] / ref_other:>13.2f}" if ref_other else f"{'':>13}"
        row += f"{p99['emulator'][measure]:>10.2f}"
        row += f"{p99[anchor][anchor_measure]:>12.2f}" if ref else ""
        print(row)
    cold = report["cold_start_ms"]
    print("cold start ms (spawn -> first 200): " + ", ".join(f"{n} {v:.0f}" for n, v in cold.items())
          + f"; emulator / bare {cold['emulator'] / cold['bare']:.2f}"
          + (f"; emulator / other {cold['emulator'] / cold['other']:.2f}" if "other" in cold else ""))
    print("idle RSS MiB: " + ", ".join(f"{n} {v:.1f}" for n, v in report["rss_mib"].items()))


if __name__ == "__main__":
    sys.exit(main())
