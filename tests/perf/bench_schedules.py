"""Hand-run benchmark: firing a year of an hourly schedule on the virtual clock.

Run from the repository root (pytest never collects tests/perf):

    python tests/perf/bench_schedules.py                  # in-process, 365 days, hourly
    python tests/perf/bench_schedules.py --serve          # against `theazo-emu serve` over loopback
    python tests/perf/bench_schedules.py --days 30 --cron '*/15 * * * *' --pace instant --json

One tenant creates the schedule (an agent-run), then one `POST /_emu/clock/advance` moves a
frozen clock (2025-05-01T00:00:00Z) forward by --days: every occurrence fires, each making
an agent, a run (run row, events, two ledger rows) and a history entry. Reported: firings,
wall seconds of the advance request, firings per second (wall, and per CPU second of the
emulator process when it is this one), and whether the target (>= 2,000/s) is met. The
counts are checked afterwards (fired list, history, runs, ledger rows), so a fast run that
skipped work fails (exit 1). A missed target does not fail the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # conftest.serve_process

START = "2025-05-01T00:00:00Z"
AUTH = {"Authorization": "Bearer th_test_bench_schedules"}
TARGET = 2000.0
ACTION = {"type": "agent-run", "config": {"task": "Generate the hourly metrics report"}}


def _history_count(get, schedule_id: str) -> int:
    count, cursor = 0, None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = get(f"/v1/schedules/{schedule_id}/history", params=params).json()
        count += len(page["data"])
        if not page["hasMore"]:
            return count
        cursor = page["nextCursor"]


def _scenario(post, get, args: argparse.Namespace) -> dict:
    schedule = post("/v1/schedules", json={"name": "bench", "cron": args.cron, "action": ACTION}).json()
    wall, cpu = time.perf_counter(), time.process_time()
    response = post("/_emu/clock/advance", json={"seconds": args.days * 86_400})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert response.status_code == 200, response.text
    fired = response.json()["fired"]
    mine = [f for f in fired if f.get("scheduleId") == schedule["id"]]
    failed = [f for f in mine if f["status"] != "started"]
    assert not failed, failed[:3]
    return {"schedule": schedule["id"], "fired": len(mine), "wall_s": wall, "cpu_s": cpu,
            "history": _history_count(get, schedule["id"])}


def run_in_process(args: argparse.Namespace) -> dict:
    from starlette.testclient import TestClient

    from theazo_emu import create_app
    from theazo_emu.settings import Settings

    app = create_app(Settings(clock=START, pace=args.pace))
    with TestClient(app) as client:
        result = _scenario(lambda path, **kw: client.post(path, headers=AUTH, **kw),
                           lambda path, **kw: client.get(path, headers=AUTH, **kw), args)
    store = app.state.emu.store
    result["runs"] = store.scalar("SELECT COUNT(*) FROM runs")
    result["ledger_rows"] = store.scalar("SELECT COUNT(*) FROM ledger")
    return result


def run_served(args: argparse.Namespace) -> dict:
    from conftest import serve_process

    with serve_process("--clock", START, "--pace", args.pace) as url, httpx.Client(base_url=url, headers=AUTH,
                                                                                     timeout=600) as client:
        result = _scenario(client.post, client.get, args)
        result["cpu_s"] = None  # the server's CPU is another process's
        result["runs"] = result["ledger_rows"] = None  # not visible from outside; history is checked
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=365, help="how far to advance the clock (default 365)")
    parser.add_argument("--cron", default="0 * * * *", help="the schedule's cron (default hourly)")
    parser.add_argument("--pace", choices=["realtime", "instant"], default="realtime", help="run timelines")
    parser.add_argument("--serve", action="store_true", help="measure a real `theazo-emu serve` over loopback")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = run_served(args) if args.serve else run_in_process(args)
    ok = result["fired"] == result["history"] and result["fired"] > 0
    if result.get("runs") is not None:
        ok = ok and result["runs"] == result["fired"] and result["ledger_rows"] == 2 * result["fired"]
    result["per_second"] = result["fired"] / result["wall_s"]
    result["per_cpu_second"] = result["fired"] / result["cpu_s"] if result["cpu_s"] else None
    result["target"], result["met"], result["counts_ok"] = TARGET, result["per_second"] >= TARGET, ok
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        mode = "serve (loopback)" if args.serve else "in-process"
        print(f"mode {mode}, cron {args.cron!r}, {args.days:g} days, pace {args.pace}")
        print(f"fired {result['fired']}, history {result['history']}, runs {result.get('runs')}, "
              f"ledger rows {result.get('ledger_rows')}")
        cpu = f", {result['per_cpu_second']:.0f}/CPU-s" if result["per_cpu_second"] else ""
        print(f"advance took {result['wall_s']:.2f} s: {result['per_second']:.0f} firings/s{cpu} "
              f"(target >= {TARGET:.0f}/s: {'PASS' if result['met'] else 'MISS'})")
        print("counts " + ("OK" if ok else "WRONG"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
