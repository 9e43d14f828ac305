"""Hand-run performance benchmark: the emulator against a minimal Starlette app.

Run from the repository root (takes about a minute with the defaults):

    python tests/perf/bench.py                 # table + targets
    python tests/perf/bench.py --json          # machine-readable results
    python tests/perf/bench.py --seconds 2 --rounds 1 --cold-runs 3   # quick look

What it measures, all in one run, servers as separate processes on 127.0.0.1:

1. Throughput (req/s) and latency p50/p99 at --conns (16) keep-alive connections for
   GET /v1/sessions/:id, POST /v1/sessions and POST /v1/agents/:id/run on
   `theazo-emu serve --port 0 --clock 2025-05-01T00:00:00Z --pace instant`, and for GET
   and POST on the minimal app below, served by uvicorn with the same settings. Baseline
   and emulator windows are interleaved over --rounds rounds (order reversed every other
   round); each window gets --warmup seconds of unrecorded traffic first. The load
   generator speaks HTTP/1.1 over raw asyncio streams (little client CPU: it shares the
   cores with the server). Any non-2xx answer or transport error fails the run (exit 1).
   Columns: srv us/req = server CPU per request (from /proc); srv busy = server CPU /
   wall time (far below 100% at high latency: the server is waiting, not computing);
   cli us/req = load-generator CPU per request.
2. Cold start: spawn -> first 200 on /_emu/health, emulator vs `python -m uvicorn
   bench:app`, median of --cold-runs runs each (after one discarded warm-up spawn). Then,
   in the same spawns, spawn -> the answer to the first API call (POST /v1/sessions, which
   loads the sessions family and pydantic on the emulator; POST /min on the minimal app).
3. RSS (VmRSS) of the emulator after start and a few requests; after the load, too.

This file is not collected by pytest (norecursedirs = tests/perf); uvicorn imports it
as `bench:app` for the baseline, so keep its top level light.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import http.client
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
CLOCK = "2025-05-01T00:00:00Z"
AUTH = "Bearer th_test_bench"
TICK = os.sysconf("SC_CLK_TCK")


# --- the baseline: one small JSON route (GET and POST) and a health route --------------
async def _minimal(request: Request) -> JSONResponse:
    if request.method == "POST":
        body = await request.json()
        return JSONResponse({"id": "ses_min", "userId": body.get("userId"), "status": "active"})
    return JSONResponse({"id": "ses_min", "userId": "bench", "status": "active"})


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/min", _minimal, methods=["GET", "POST"]), Route("/_emu/health", _health)])


# --- processes ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@functools.cache
def _empty_dir() -> str:
    path = tempfile.mkdtemp(prefix="bench-emu-")
    atexit.register(os.rmdir, path)
    return path


def spawn_emulator(*extra: str) -> tuple[subprocess.Popen, int]:
    # In an empty directory: `serve` loads ./fixtures when there is one (pass --fixtures to time that).
    proc = subprocess.Popen([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--clock", CLOCK,
                             "--log-level", "warning", *extra], stdout=subprocess.PIPE, text=True,
                            cwd=_empty_dir())
    line = proc.stdout.readline()
    match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if not match:
        stop(proc)
        raise RuntimeError(f"emulator did not print its URL; first line: {line!r}")
    return proc, int(match.group(1))


def spawn_minimal(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bench:app",
                             "--host", HOST, "--port", str(port), "--log-level", "warning",
                             "--lifespan", "on", "--timeout-graceful-shutdown", "1"])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def call(port: int, method: str, path: str, body: dict | None = None, timeout: float = 5) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {})
    finally:
        conn.close()


def wait_healthy(port: int, proc: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.perf_counter() + limit
    while True:
        try:
            if call(port, "GET", "/_emu/health")[0] == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"server on port {port} never became healthy (exit={proc.poll()})")
        time.sleep(0.002)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


# --- load generator: N keep-alive connections, raw HTTP/1.1 ------------------------------
def raw_request(method: str, path: str, port: int, body: dict | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: {AUTH}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    data = json.dumps(body).encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


async def _connection(port: int, request: bytes, until: float, budget: list[int], out: dict,
                      interval: float | None = None, offset: float = 0.0) -> None:
    """Closed loop (interval None: next request as soon as the answer is in) or paced (one
    request every `interval` s; latency counts from the scheduled send time, so a slow
    answer that delays the next send is not hidden)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    lat, clock = out["lat"], time.perf_counter
    scheduled = clock() + offset
    try:
        while budget[0] > 0 and clock() < until:
            budget[0] -= 1
            if interval is None:
                t0 = clock()
            else:
                await asyncio.sleep(max(0.0, scheduled - clock()))
                t0, scheduled = scheduled, scheduled + interval
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                low = head.lower()
                at = low.index(b"content-length:") + 15
                body = await reader.readexactly(int(low[at:low.index(b"\r\n", at)]))
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                out["errors"].append(repr(exc))
                return
            lat.append(clock() - t0)
            status = int(head[9:12])
            if not 200 <= status < 300:
                out["bad"][status] = out["bad"].get(status, 0) + 1
                if len(out["samples"]) < 3:
                    out["samples"].append(f"{status} {body[:200].decode(errors='replace')}")
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], seconds: float, max_requests: int,
                rate: float | None = None) -> dict:
    """All connections at once; `rate` (total req/s) paces them, else they run flat out."""
    out: dict = {"lat": [], "bad": {}, "samples": [], "errors": []}
    until, budget = time.perf_counter() + seconds, [max_requests]
    start = time.perf_counter()
    n = len(requests)
    interval = n / rate if rate else None
    await asyncio.gather(*(_connection(port, requests[i], until, budget, out, interval,
                                       (interval or 0) * i / n) for i in range(n)))
    out["elapsed"] = time.perf_counter() - start
    return out


def measure(port: int, pid: int, requests: list[bytes], args: argparse.Namespace, rate: float | None = None) -> dict:
    if args.warmup > 0:
        asyncio.run(_load(port, requests, args.warmup, args.max_requests, rate))
    cpu0, client0 = cpu_seconds(pid), time.process_time()
    out = asyncio.run(_load(port, requests, args.seconds / args.rounds, args.max_requests, rate))
    out["server_cpu"], out["client_cpu"] = cpu_seconds(pid) - cpu0, time.process_time() - client0
    return out


def summarize(windows: list[dict]) -> dict:
    lat = sorted(x for w in windows for x in w["lat"])
    n, elapsed = len(lat), sum(w["elapsed"] for w in windows)
    pct = lambda p: lat[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))] * 1000 if n else float("nan")
    bad: dict[int, int] = {}
    for w in windows:
        for status, count in w["bad"].items():
            bad[status] = bad.get(status, 0) + count
    return {"requests": n, "rps": n / elapsed if elapsed else 0.0, "p50_ms": pct(50), "p99_ms": pct(99),
            "server_cpu_us_per_req": sum(w["server_cpu"] for w in windows) / n * 1e6 if n else float("nan"),
            "client_cpu_us_per_req": sum(w["client_cpu"] for w in windows) / n * 1e6 if n else float("nan"),
            "server_cpu_busy": sum(w["server_cpu"] for w in windows) / elapsed if elapsed else 0.0,
            "per_window_rps": [round(len(w["lat"]) / w["elapsed"], 1) for w in windows],
            "non_2xx": {str(k): v for k, v in bad.items()},
            "samples": [s for w in windows for s in w["samples"]][:3],
            "errors": [e for w in windows for e in w["errors"]][:3]}


# --- the three measurements ---------------------------------------------------------------
def cold_starts(runs: int) -> dict:
    def once(spawn: Callable[[], tuple[subprocess.Popen, int]], path: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        proc, port = spawn()
        try:
            wait_healthy(port, proc)
            healthy = time.perf_counter() - t0
            status, _ = call(port, "POST", path, {"userId": "cold"})
            assert status in (200, 201), status
            return healthy, time.perf_counter() - t0
        finally:
            stop(proc)

    def minimal() -> tuple[subprocess.Popen, int]:
        port = free_port()
        return spawn_minimal(port), port

    def emulator_once() -> tuple[float, float]:
        return once(spawn_emulator, "/v1/sessions")

    def minimal_once() -> tuple[float, float]:
        return once(minimal, "/min")

    emulator_once(), minimal_once()  # warm the page cache and __pycache__; discarded
    emu, mini = [], []
    for _ in range(runs):  # interleaved
        emu.append(emulator_once())
        mini.append(minimal_once())
    out: dict = {}
    for i, name in enumerate(("health", "first_call")):
        e, m = statistics.median(x[i] for x in emu), statistics.median(x[i] for x in mini)
        out[name] = {"emulator_ms": [round(x[i] * 1000, 1) for x in emu],
                     "minimal_ms": [round(x[i] * 1000, 1) for x in mini],
                     "emulator_median_ms": e * 1000, "minimal_median_ms": m * 1000, "ratio": e / m}
    return out


def setup_emulator(port: int, conns: int) -> tuple[str, list[str]]:
    status, session = call(port, "POST", "/v1/sessions", {"userId": "bench"})
    assert status == 201, (status, session)
    agents = []
    for _ in range(conns):  # one agent per connection: no agent is ever asked to run twice at once
        status, agent = call(port, "POST", f"/v1/sessions/{session['id']}/agents", {})
        assert status == 201, (status, agent)
        agents.append(agent["id"])
    assert call(port, "POST", f"/v1/agents/{agents[0]}/run", {"task": "bench"})[0] == 202
    assert call(port, "GET", f"/v1/sessions/{session['id']}")[0] == 200
    return session["id"], agents


def run(args: argparse.Namespace) -> dict:
    results: dict = {"config": {k: v for k, v in vars(args).items() if k != "json"}}
    results["cold_start"] = cold_starts(args.cold_runs)
    procs: list[subprocess.Popen] = []
    try:
        emu, eport = spawn_emulator("--pace", "instant")
        procs.append(emu)
        wait_healthy(eport, emu)
        session_id, agents = setup_emulator(eport, args.conns)
        time.sleep(0.5)
        results["rss_mib"] = {"idle": rss_mib(emu.pid)}
        mport = free_port()
        mini = spawn_minimal(mport)
        procs.append(mini)
        wait_healthy(mport, mini)
        c = args.conns
        scenarios = {  # name -> (port, pid, one request per connection)
            "minimal GET": (mport, mini.pid, [raw_request("GET", "/min", mport)] * c),
            "emulator GET session": (eport, emu.pid, [raw_request("GET", f"/v1/sessions/{session_id}", eport)] * c),
            "minimal POST": (mport, mini.pid, [raw_request("POST", "/min", mport, {"userId": "bench"})] * c),
            "emulator POST session": (eport, emu.pid, [raw_request("POST", "/v1/sessions", eport, {"userId": "bench"})] * c),
            "emulator POST run": (eport, emu.pid, [raw_request("POST", f"/v1/agents/{a}/run", eport, {"task": "bench"})
                                                   for a in agents]),
        }
        windows: dict[str, list[dict]] = {name: [] for name in scenarios}
        paced: dict[str, list[dict]] = {name: [] for name in scenarios}
        for r in range(args.rounds):
            for name in (list(scenarios) if r % 2 == 0 else list(reversed(scenarios))):
                windows[name].append(measure(*scenarios[name], args))
                paced[name].append(measure(*scenarios[name], args, rate=args.rate))
        results["rss_mib"]["after_load"] = rss_mib(emu.pid)
    finally:
        for proc in procs:
            stop(proc)
    results["throughput"] = {name: summarize(w) for name, w in windows.items()}
    results["paced"] = {name: summarize(w) for name, w in paced.items()}
    t, p = results["throughput"], results["paced"]
    results["ratios"] = {
        "GET emulator/minimal": t["emulator GET session"]["rps"] / t["minimal GET"]["rps"],
        "POST session emulator/minimal": t["emulator POST session"]["rps"] / t["minimal POST"]["rps"],
        "POST run emulator/minimal": t["emulator POST run"]["rps"] / t["minimal POST"]["rps"]}
    ratio, cold = results["ratios"], results["cold_start"]
    targets = [("GET emulator/minimal >= 0.5", ratio["GET emulator/minimal"] >= 0.5),
               ("POST session emulator/minimal >= 0.35", ratio["POST session emulator/minimal"] >= 0.35)]
    targets += [(f"p99 {name} < 5 ms at {args.rate:g} req/s", p[name]["p99_ms"] < 5)
                for name in p if name.startswith("emulator")]
    targets += [("cold start emulator/minimal <= 1.5", cold["health"]["ratio"] <= 1.5),
                ("idle RSS < 60 MiB", results["rss_mib"]["idle"] < 60)]
    results["targets"] = {name: ok for name, ok in targets}
    results["failures"] = {name: {"non_2xx": s["non_2xx"], "samples": s["samples"], "errors": s["errors"]}
                           for name, s in [*t.items(), *p.items()] if s["non_2xx"] or s["errors"]}
    return results


def report(res: dict) -> None:
    conns = res["config"]["conns"]
    print(f"\nThroughput at {conns} connections ({res['config']['seconds']} s per scenario "
          f"over {res['config']['rounds']} interleaved rounds)")
    print(f"{'scenario':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv us/req':>12}{'srv busy':>10}"
          f"{'cli us/req':>12}{'non-2xx':>9}  per-round req/s")
    for name, s in res["throughput"].items():
        bad = sum(s["non_2xx"].values()) + len(s["errors"])
        print(f"{name:<24}{s['rps']:>9.0f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['server_cpu_us_per_req']:>12.0f}"
              f"{s['server_cpu_busy']:>10.0%}{s['client_cpu_us_per_req']:>12.0f}{bad:>9}  {s['per_window_rps']}")
    print(f"\nLatency at a fixed offered load: {res['config']['rate']:g} req/s in all over {conns} connections")
    print(f"{'scenario':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, s in res["paced"].items():
        print(f"{name:<24}{s['rps']:>9.0f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}")
    print("\nRatios (emulator / minimal req/s)")
    for name, value in res["ratios"].items():
        print(f"  {name:<32}{value:6.2f}")
    for name, title in (("health", "first 200 on /_emu/health"), ("first_call", "answer to the first POST")):
        c = res["cold_start"][name]
        print(f"\nCold start (spawn -> {title}), median of {len(c['emulator_ms'])}")
        print(f"  emulator {c['emulator_median_ms']:7.0f} ms   {c['emulator_ms']}")
        print(f"  minimal  {c['minimal_median_ms']:7.0f} ms   {c['minimal_ms']}")
        print(f"  ratio    {c['ratio']:7.2f}")
    print(f"\nEmulator RSS: idle {res['rss_mib']['idle']:.1f} MiB, after load {res['rss_mib']['after_load']:.1f} MiB")
    print("\nTargets")
    for name, ok in res["targets"].items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    for name, f in res["failures"].items():
        print(f"\nFAILED {name}: non-2xx {f['non_2xx']} errors {f['errors']} samples {f['samples']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conns", type=int, default=16, help="concurrent keep-alive connections (16)")
    parser.add_argument("--rate", type=float, default=400.0,
                        help="total req/s for the fixed-load latency measurement (400); p99 targets use it, "
                             "since at saturation latency is only 16 / throughput")
    parser.add_argument("--seconds", type=float, default=5, help="measured seconds per scenario (5)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds the seconds are split over (2)")
    parser.add_argument("--warmup", type=float, default=1, help="unrecorded seconds before each window (1)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap on requests per window")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts per server, median taken (5)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        report(res)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
