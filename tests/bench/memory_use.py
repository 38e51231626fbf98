"""Memory of one `gateway serve` process: idle after start-up, and whether it stays flat under load.

Idle is read once the gateway answers /healthz, before its first request. Then it serves non-streamed chats
on the headline config at 32 connections, and its RSS is read after 10k requests and again after 100k. wrk
runs for a time, not a count, so each stage runs as long as the rate seen so far says it needs; the counts
actually reached are reported with the readings.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tests.bench.processes import ServerGroup, rss_mib
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import HEADLINE, Target, chat_body, probe, start_gateway, start_simulator
from tests.bench.wrk import run_wrk

CONNECTIONS = 32
STAGES = (10_000, 100_000)
MAX_IDLE_MIB = 120
MAX_GROWTH = 0.05
_FIRST_RUN_SECONDS = 2
_MIN_RUN_SECONDS = 1


def memory_use(workdir: Path) -> SuiteResult:
    with ServerGroup(workdir) as servers:
        simulator, _ = start_simulator(servers)
        gateway = start_gateway(servers, workdir, simulator, HEADLINE)
        pid = servers.pid_of(gateway.name)
        idle = rss_mib(pid)
        body = chat_body()
        probe(gateway, body)
        after_first = rss_mib(pid)
        load = _Load(gateway, body)
        readings = []
        for stage in STAGES:
            print(f"  serving up to {stage:,} requests at {CONNECTIONS} connections", flush=True)
            load.serve_until(stage)
            readings.append({"requests": load.served, "rss_mib": rss_mib(pid)})
    first, last = readings[0], readings[-1]
    growth = last["rss_mib"] / first["rss_mib"] - 1
    print(f"  gateway RSS idle after start-up: {idle:.1f} MiB; after its first request: {after_first:.1f} MiB")
    for reading in readings:
        print(f"  after {reading['requests']:>7,} requests: {reading['rss_mib']:.1f} MiB")
    print(f"  growth from {first['requests']:,} to {last['requests']:,} requests: {growth:+.1%}")
    data: dict[str, Any] = {
        "idle_rss_mib": round(idle, 1),
        "rss_mib_after_first_request": round(after_first, 1),
        "under_load": readings,
        "growth": round(growth, 4),
        "errors": load.errors,
    }
    checks = [
        Check(
            f"idle RSS of `gateway serve` after start-up <= {MAX_IDLE_MIB} MiB",
            idle <= MAX_IDLE_MIB,
            f"{idle:.1f} MiB (after its first request: {after_first:.1f} MiB)",
        ),
        Check(
            f"RSS flat within {MAX_GROWTH:.0%} from {STAGES[0]:,} to {STAGES[-1]:,} requests",
            abs(growth) <= MAX_GROWTH,
            f"{first['rss_mib']:.1f} MiB at {first['requests']:,}, {last['rss_mib']:.1f} MiB at "
            f"{last['requests']:,}: {growth:+.1%}",
        ),
        Check("memory run: every request succeeded", load.errors == 0, f"{load.errors} errors"),
    ]
    return SuiteResult("memory_use", data, checks)


class _Load:
    """wrk runs against one target, counting the requests served across runs."""

    def __init__(self, target: Target, body: bytes) -> None:
        self._target, self._body = target, body
        self.served = 1  # the probe
        self.errors = 0
        self._rate: float | None = None

    def serve_until(self, count: int) -> None:
        while self.served < count:
            left = count - self.served
            # wrk takes whole seconds only.
            seconds = _FIRST_RUN_SECONDS if self._rate is None else max(_MIN_RUN_SECONDS, math.ceil(left / self._rate))
            run = run_wrk(self._target.url, self._body, self._target.headers, CONNECTIONS, seconds)
            self.served += run.requests
            self.errors += run.errors
            if run.rps:
                self._rate = run.rps
