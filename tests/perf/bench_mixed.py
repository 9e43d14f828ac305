"""Hand-run benchmark with wrk: a GET's latency while POSTs write, on a `--db` file.

    python tests/perf/bench_mixed.py                         # about a minute
    python tests/perf/bench_mixed.py --other /path/to/venv/bin/python   # beside another build

One emulator (`serve --db FILE`, as a user who keeps state runs it) takes two wrk processes
at once: `POST /v1/sessions` on `--conns` connections and `GET /v1/sessions/:id` on as many
others. A commit that stalls the event loop (an fsync, a checkpoint copying the log back)
stalls every GET waiting behind it, so the GET's p99 under writes, beside its p99 alone,
shows whether anything blocks the loop. Rounds of the builds alternate; the best round of
each figure is kept (noise only ever slows a window down). Any non-2xx answer fails the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_wrk import HOST, KEY, LUA, emulator, parse_wrk, prepare_emulator


def wrk_start(port: int, path: str, measure: str, seconds: int, conns: int, scripts: Path) -> subprocess.Popen:
    script = scripts / f"{measure}.lua"
    script.write_text(LUA[measure].format(key=KEY))
    return subprocess.Popen(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script),
                             f"http://{HOST}:{port}{path}"], stdout=subprocess.PIPE, text=True)


def window(server, seconds: int, conns: int, scripts: Path, mixed: bool) -> dict[str, tuple[float, float]]:
    """{measure: (req/s, p99 ms)} for one window: the GET alone, or the GET and the POST at once."""
    runs = {"get": wrk_start(server.port, server.paths["get"], "get", seconds, conns, scripts)}
    if mixed:
        runs["post"] = wrk_start(server.port, server.paths["post"], "post", seconds, conns, scripts)
    return {measure: parse_wrk(proc.communicate()[0], f"{HOST}:{server.port}") for measure, proc in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conns", type=int, default=8, help="connections for each of the two loads")
    parser.add_argument("--other", help="the python of another venv with theazo-emu installed, to measure beside")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-mixed-"))
    servers = [emulator("emulator", [sys.executable, "-m", "theazo_emu"], str(work), db=str(work / "emulator.db"))]
    if args.other:
        servers.append(emulator("other", [args.other, "-m", "theazo_emu"], str(work), db=str(work / "other.db")))
    best: dict[str, dict[str, tuple[float, float]]] = {s.name: {} for s in servers}
    try:
        for server in servers:
            server.start()
            prepare_emulator(server)
        for round_ in range(args.rounds):
            for server in servers if round_ % 2 == 0 else list(reversed(servers)):
                for mixed in (False, True):
                    for measure, (rate, p99) in window(server, args.seconds, args.conns, work, mixed).items():
                        name = f"{measure} {'with posts' if mixed else 'alone'}"
                        old = best[server.name].get(name)
                        best[server.name][name] = (max(rate, old[0]), min(p99, old[1])) if old else (rate, p99)
    finally:
        for server in servers:
            server.stop()
    if args.json:
        print(json.dumps(best, indent=2))
        return 0
    print(f"wrk -t1 -c{args.conns} -d{args.seconds}s per load, best of {args.rounds} rounds, `serve --db FILE`")
    for name, rows in best.items():
        for measure, (rate, p99) in rows.items():
            print(f"{name:<10} {measure:<18} {rate:>9.0f} req/s   p99 {p99:>7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
