"""Hand-run benchmark: answering a 10,000-interaction cassette vs the live emulator.

Run from the repository root (about a minute):

    python tests/perf/bench_replay.py               # table, ratio, PASS/MISS
    python tests/perf/bench_replay.py --lanes 8 --interactions 2000   # quick look

1. Record: `theazo-emu serve --record FILE --clock ... --pace instant` is driven lane by
   lane (one tenant key per lane: a session, an agent, then runs, reads, exec and usage),
   giving a cassette of --interactions lines.
2. Live: a fresh `serve` (same seed and clock) gets the same requests, each lane's in
   order on its own keep-alive connection, all lanes at once; per-tenant determinism makes
   every id in them valid again. req/s over the whole set.
3. Replay: `serve --replay FILE` gets the same requests the same way. req/s, and the
   ratio replay/live (target: at least 0.5). Any non-2xx answer fails the run (exit 1).
4. Verify: `theazo-emu replay FILE --verify` in process, interactions/s (reported only).

Not collected by pytest (norecursedirs = tests/perf). Uses bench.py's process helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CLOCK, HOST, spawn_emulator, stop, wait_healthy  # noqa: E402

TARGET = 0.5


def lane_key(lane: int) -> str:
    return f"th_test_bench_lane{lane}"


def record(port: int, lanes: int, total: int) -> list[tuple[int, str, str, bytes | None]]:
    """Drive the recorder; returns (lane, method, path, body) in the order sent."""
    sent: list[tuple[int, str, str, bytes | None]] = []
    per_lane = total // lanes
    conn = http.client.HTTPConnection(HOST, port, timeout=10)

    def call(lane: int, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {lane_key(lane)}", "Content-Type": "application/json"}
        conn.request(method, path, data, headers)
        response = conn.getresponse()
        payload = response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {payload[:200]!r}")
        sent.append((lane, method, path, data))
        return json.loads(payload)

    for lane in range(lanes):
        session = call(lane, "POST", "/v1/sessions", {"userId": f"lane{lane}"})
        agent = call(lane, "POST", f"/v1/sessions/{session['id']}/agents", {"tools": ["web_search"]})
        steps = [
            lambda n: ("POST", f"/v1/agents/{agent['id']}/run", {"task": f"task {n}"}),
            lambda n: ("GET", f"/v1/agents/{agent['id']}", None),
            lambda n: ("GET", f"/v1/sessions/{session['id']}", None),
            lambda n: ("POST", f"/v1/agents/{agent['id']}/exec", {"lang": "python", "code": f"print({n})"}),
            lambda n: ("GET", f"/v1/agents/{agent['id']}/status", None),
            lambda n: ("GET", f"/v1/sessions/{session['id']}/usage", None),
        ]
        for n in range(per_lane - 2):
            call(lane, *steps[n % len(steps)](n))
    conn.close()
    return sent


def raw(method: str, path: str, port: int, key: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {key}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _lane(port: int, requests: list[bytes], bad: list[str]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            low = head.lower()
            at = low.index(b"content-length:") + 15
            body = await reader.readexactly(int(low[at:low.index(b"\r\n", at)]))
            status = int(head[9:12])
            if not 200 <= status < 300 and len(bad) < 5:
                bad.append(f"{status} {body[:200].decode(errors='replace')}")
    finally:
        writer.close()


def drive(port: int, sent: list[tuple[int, str, str, bytes | None]]) -> tuple[float, list[str]]:
    """Every lane's requests in order on its own connection, all lanes at once: req/s."""
    lanes: dict[int, list[bytes]] = {}
    for lane, method, path, body in sent:
        lanes.setdefault(lane, []).append(raw(method, path, port, lane_key(lane), body))
    bad: list[str] = []

    async def everything() -> None:
        await asyncio.gather(*(_lane(port, requests, bad) for requests in lanes.values()))

    start = time.perf_counter()
    asyncio.run(everything())
    return len(sent) / (time.perf_counter() - start), bad


def measure(extra: list[str], sent: list, rounds: int) -> tuple[float, list[str]]:
    """The best of `rounds` runs, each on a fresh server (a replay can be answered once)."""
    best, problems = 0.0, []
    for _ in range(rounds):
        proc, port = spawn_emulator(*extra)
        try:
            wait_healthy(port, proc)
            rate, bad = drive(port, sent)
        finally:
            stop(proc)
        best, problems = max(best, rate), problems + bad
    return best, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=10_000, help="cassette size (10000)")
    parser.add_argument("--lanes", type=int, default=16, help="tenants = concurrent connections (16)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh-server runs per side, best taken (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cassette = Path(tmp) / "bench.jsonl"
        proc, port = spawn_emulator("--pace", "instant", "--record", str(cassette))
        try:
            wait_healthy(port, proc)
            started = time.perf_counter()
            sent = record(port, args.lanes, args.interactions)
            recording = time.perf_counter() - started
        finally:
            stop(proc)
        lines = sum(1 for _ in cassette.open())
        assert lines == len(sent), (lines, len(sent))
        live, live_bad = measure(["--pace", "instant"], sent, args.rounds)
        replay, replay_bad = measure(["--replay", str(cassette)], sent, args.rounds)
        started = time.perf_counter()
        verify = subprocess.run([sys.executable, "-m", "theazo_emu", "replay", str(cassette), "--verify",
                                 "--clock", CLOCK, "--pace", "instant"], capture_output=True, text=True)
        verify_s = time.perf_counter() - started
    ratio = replay / live
    print(f"\nCassette: {lines} interactions over {args.lanes} tenants (recorded in {recording:.1f} s, "
          f"{lines / recording:.0f} req/s through --record, one connection)")
    print(f"{'live emulator':<32}{live:>10.0f} req/s   ({args.lanes} connections, best of {args.rounds})")
    print(f"{'serve --replay':<32}{replay:>10.0f} req/s")
    print(f"{'ratio replay / live':<32}{ratio:>10.2f}     target >= {TARGET}: {'PASS' if ratio >= TARGET else 'MISS'}")
    print(f"{'replay --verify (in process)':<32}{lines / verify_s:>10.0f} interactions/s "
          f"({verify_s:.1f} s, exit {verify.returncode}: {verify.stdout.strip().splitlines()[-1]})")
    failures = live_bad + replay_bad
    for problem in failures:
        print(f"FAILED: non-2xx answer: {problem}")
    return 1 if failures or verify.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
