"""Hand-run benchmark of the Theo surface with wrk, beside the Theazo GET, in one run.

Run from the repository root (wrk must be installed: `apt-get install wrk`):

    python tests/perf/bench_theo.py                          # about a minute
    python tests/perf/bench_theo.py --seconds 5 --rounds 1   # quick look
    python tests/perf/bench_theo.py --json

One emulator process (`serve --clock 2025-05-01T00:00:00Z --pace instant`, in an empty
directory) on 127.0.0.1, loaded by `wrk -t1 -c<conns> -d<seconds>s --latency`, windows
interleaved round by round in alternating order, the best round of each reported:
- `theazo GET`: GET /v1/sessions/:id, the anchor every other figure is a ratio to;
- `completions`: non-streamed POST /api/v1/completions (a full completion each: the mock
  engine's answer, a conversation, its two messages, a ledger row, an audit entry and an
  event, in one transaction);
- `chat`: non-streamed POST /api/v1/chat/completions (stateless: no conversation);
- `stream`: POST /api/v1/completions with `stream: true`. wrk reads each stream to its
  end (the server closes it after `done`), so streams per second times the events of one
  stream (counted from a sample, comments aside) is events per second.
Any non-2xx answer fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench_wrk import HOST, KEY, Server, emulator, get, wrk

THEO_KEY = "theo_sk_test_bench"
PROMPT = "Explain how a hash map works in a few sentences"
LUA = {
    "theazo_get": 'wrk.headers["Authorization"] = "Bearer {theazo}"\n',
    "completions": ('wrk.method = "POST"\nwrk.body = \'{{"prompt": "{prompt}"}}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {theo}"\n'),
    "chat": ('wrk.method = "POST"\nwrk.body = \'{{"messages": [{{"role": "user", "content": "{prompt}"}}]}}\'\n'
             'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {theo}"\n'),
    "stream": ('wrk.method = "POST"\nwrk.body = \'{{"prompt": "{prompt}", "stream": true}}\'\n'
               'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {theo}"\n'),
}
MEASURES = tuple(LUA)


def stream_events(port: int) -> int:
    """The events of one stream of the benchmark's request (comments aside)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", "/api/v1/completions", json.dumps({"prompt": PROMPT, "stream": True}),
                     {"Authorization": f"Bearer {THEO_KEY}", "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, response.status
        text = response.read().decode()
    finally:
        conn.close()
    return sum(1 for block in text.split("\n\n") if block.strip() and not block.startswith(":"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-theo-"))
    server: Server = emulator("emulator", [sys.executable, "-m", "theazo_emu"], tempfile.mkdtemp(prefix="bench-empty-"))
    results: dict[str, list[tuple[float, float]]] = {m: [] for m in MEASURES}
    try:
        server.start()
        status, session = get(server.port, "/v1/sessions", "POST", {"userId": "bench"})
        assert status == 201, session
        paths = {"theazo_get": f"/v1/sessions/{session['id']}", "completions": "/api/v1/completions",
                 "chat": "/api/v1/chat/completions", "stream": "/api/v1/completions"}
        events = stream_events(server.port)
        for round_ in range(args.rounds):
            order = MEASURES if round_ % 2 == 0 else tuple(reversed(MEASURES))
            for measure in order:
                results[measure].append(_wrk(server.port, paths[measure], measure, args, work))
    finally:
        server.stop()
    best = {m: max(r for r, _ in w) for m, w in results.items()}
    report = {"rps": best, "p99_ms": {m: min(p for _, p in w) for m, w in results.items()},
              "stream_events": events, "events_per_second": best["stream"] * events,
              "seconds": args.seconds, "rounds": args.rounds, "conns": args.conns}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        anchor = best["theazo_get"]
        print(f"wrk -t1 -c{args.conns} -d{args.seconds}s, best of {args.rounds} interleaved rounds, one emulator")
        print(f"{'measure':<14}{'req/s':>10}{'p99 ms':>10}{'/ theazo GET':>14}")
        for measure in MEASURES:
            print(f"{measure:<14}{best[measure]:>10.0f}{report['p99_ms'][measure]:>10.2f}"
                  f"{best[measure] / anchor:>14.2f}")
        print(f"stream: {events} events a stream (thinking, meta, tool, tokens, done): "
              f"{report['events_per_second']:.0f} events/s, {best['stream']:.0f} streams/s")
    return 0


def _wrk(port: int, path: str, measure: str, args: argparse.Namespace, work: Path) -> tuple[float, float]:
    """One window of bench_wrk.wrk, with this measure's script and keys."""
    lua = LUA[measure].format(theazo=KEY, theo=THEO_KEY, prompt=PROMPT)
    return wrk(port, path, measure, args.seconds, args.conns, work, lua=lua)


if __name__ == "__main__":
    sys.exit(main())
