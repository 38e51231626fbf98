"""`make bench`: run every suite in SUITES, print pass/fail, and save the numbers to .bench/results.json.

Exits 1 when a check fails, so CI can gate on it; the numbers are written either way.
`python -m tests.bench.run --suite NAME` runs only the suites named (repeatable).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from tests.bench.memory_use import memory_use
from tests.bench.proxy_overhead import proxy_overhead
from tests.bench.realtime_cost import realtime_cost
from tests.bench.routing_cost import routing_cost
from tests.bench.suite import Suite, SuiteResult
from tests.bench.targets import REPO_ROOT
from tests.bench.wrk import ensure_wrk

SUITES: list[Suite] = [proxy_overhead, memory_use, routing_cost, realtime_cost]
RESULTS_PATH = REPO_ROOT / ".bench" / "results.json"


def main(argv: list[str] | None = None) -> int:
    suites = _chosen_suites(argv)
    # `kill` or make's own termination must still reach ServerGroup.__exit__ and stop the servers.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    wrk = ensure_wrk()
    machine = _machine(wrk)
    print("machine: " + ", ".join(f"{key} {value}" for key, value in machine.items()), flush=True)
    started = time.monotonic()
    results: list[SuiteResult] = []
    for suite in suites:
        print(f"\n== {suite.__name__}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{suite.__name__}-") as workdir:
            results.append(suite(Path(workdir)))
    print("\n== checks")
    for result in results:
        for check in result.checks:
            print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    _write(machine, results, time.monotonic() - started)
    passed = all(check.passed for result in results for check in result.checks)
    print(f"\n{'all checks passed' if passed else 'SOME CHECKS FAILED'}; results in {RESULTS_PATH}")
    return 0 if passed else 1


def _chosen_suites(argv: list[str] | None) -> list[Suite]:
    by_name = {suite.__name__: suite for suite in SUITES}
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suite", action="append", choices=list(by_name), help="run only this suite (repeatable; default: all)"
    )
    chosen = parser.parse_args(argv).suite
    return [by_name[name] for name in chosen] if chosen else list(SUITES)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _machine(wrk: str) -> dict[str, str]:
    return {
        "cpus": str(os.cpu_count()),
        "usable cpus": str(len(os.sched_getaffinity(0))),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "wrk": _wrk_version(wrk),
        # Anything else busy on the machine skews every number below; this makes it visible.
        "load average (1 min)": f"{os.getloadavg()[0]:.2f}",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version(wrk: str) -> str:
    # `wrk -v` prints its banner and then a usage error; only the first line matters.
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" [")[0] if (done.stdout or done.stderr) else "?"


def _write(machine: dict[str, str], results: list[SuiteResult], seconds: float) -> None:
    document = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 1),
        "machine": machine,
        "suites": {
            result.name: {**result.data, "checks": [check.__dict__ for check in result.checks]} for result in results
        },
    }
    RESULTS_PATH.parent.mkdir(exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(_finite(document), indent=2) + "\n")


def _finite(value: Any) -> Any:
    # NaN (a target with no successful sample) is not JSON: write null instead.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _main_reporting_failures() -> int:
    # The suites have stopped their servers by the time these reach here (ServerGroup.__exit__).
    try:
        return main()
    except KeyboardInterrupt:
        print("\nbench interrupted; its servers are stopped", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"\nbench failed: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main_reporting_failures())
