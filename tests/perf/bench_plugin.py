"""Hand-run benchmark: the per-test overhead of the pytest plugin's `theazo_emu` fixture.

    python tests/perf/bench_plugin.py [--small 200] [--large 1200] [--repeat 3]

Runs pytest (in subprocesses) on generated files of trivial tests, with and without the
fixture, at two sizes. The slope (time per extra test) cancels start-up costs, including
the once-per-session emulator start; overhead = slope(with) - slope(without). Target:
under 5 ms per test. Each configuration is run --repeat times and the median taken.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WITH = "def test_{i}(theazo_emu):\n    assert theazo_emu.api_key\n\n"
WITHOUT = "def test_{i}():\n    pass\n\n"
TOUCH = "def test_start(theazo_emu):\n    assert theazo_emu.base_url\n\n"  # start the server in both


def timed_run(template: str, count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test_generated.py"
        path.write_text(TOUCH + "".join(template.format(i=i) for i in range(count)))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                       cwd=folder, check=True, capture_output=True)
        return time.perf_counter() - started


def slope(template: str, small: int, large: int, repeat: int) -> float:
    small_t = statistics.median(timed_run(template, small) for _ in range(repeat))
    large_t = statistics.median(timed_run(template, large) for _ in range(repeat))
    return (large_t - small_t) / (large - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with_fixture = slope(WITH, args.small, args.large, args.repeat)
    without = slope(WITHOUT, args.small, args.large, args.repeat)
    overhead_ms = (with_fixture - without) * 1000
    print(f"per test without the fixture {without * 1000:.3f} ms, with it {with_fixture * 1000:.3f} ms")
    print(f"fixture overhead {overhead_ms:.3f} ms per test (target < 5 ms): {'PASS' if overhead_ms < 5 else 'MISS'}")


if __name__ == "__main__":
    main()
