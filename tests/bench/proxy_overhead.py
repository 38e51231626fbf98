"""Proxy overhead: what the gateway costs over calling Azure directly and over a bare pass-through proxy.

Every target is measured the same way, in sequence, against the same simulator process:
throughput at 32 connections, latency on one connection, and streamed time-to-first-chunk.
Targets: gateway >= 60% of the bare proxy's requests/s, and < 1 ms added at p50 on one connection.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.processes import ServerGroup
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import Target, chat_body, probe, start_bare_proxy, start_gateway, start_simulator
from tests.bench.ttfc import TtfcResult, measure_ttfc
from tests.bench.wrk import WrkResult, run_wrk

CONNECTIONS = 32
WARMUP_SECONDS = 2
THROUGHPUT_SECONDS = 10
SINGLE_SECONDS = 5
TTFC_REQUESTS = 500
TTFC_WARMUP = 50

MIN_RPS_RATIO = 0.60
MAX_ADDED_P50_MS = 1.0


@dataclass(frozen=True)
class Measured:
    loaded: WrkResult  # CONNECTIONS connections
    single: WrkResult  # one connection
    ttfc: TtfcResult

    @property
    def errors(self) -> int:
        return self.loaded.errors + self.single.errors + self.ttfc.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "loaded": {**asdict(self.loaded), "rps": round(self.loaded.rps, 1)},
            "single": {**asdict(self.single), "rps": round(self.single.rps, 1)},
            "ttfc": asdict(self.ttfc),
        }


def proxy_overhead(workdir: Path) -> SuiteResult:
    with ServerGroup(workdir) as servers:
        simulator, direct = start_simulator(servers)
        targets = [direct, start_bare_proxy(servers, simulator), start_gateway(servers, workdir, simulator)]
        measured = {target.name: _measure(target) for target in targets}
    _print_table(measured)
    result = SuiteResult("proxy_overhead")
    comparisons = _compare(measured["direct"], measured["bare-proxy"], measured["gateway"])
    _print_comparisons(comparisons)
    log_lines = _count_lines(workdir / "routing.log")
    print(f"  gateway routing log: {log_lines} lines written")
    result.checks = _checks(measured, comparisons)
    result.data = {
        "settings": {
            "connections": CONNECTIONS,
            "throughput_seconds": THROUGHPUT_SECONDS,
            "single_connection_seconds": SINGLE_SECONDS,
            "ttfc_requests": TTFC_REQUESTS,
        },
        "targets": {name: m.as_json() for name, m in measured.items()},
        "comparisons": {key: round(value, 4) for key, value in comparisons.items()},
        "gateway_routing_log_lines": log_lines,
    }
    return result


def _measure(target: Target) -> Measured:
    plain, streamed = chat_body(), chat_body(stream=True)
    probe(target, plain)
    print(f"  {target.name}: warm-up, {THROUGHPUT_SECONDS}s at {CONNECTIONS} connections, ", end="", flush=True)
    run_wrk(target.url, plain, target.headers, CONNECTIONS, WARMUP_SECONDS)
    loaded = run_wrk(target.url, plain, target.headers, CONNECTIONS, THROUGHPUT_SECONDS)
    print(f"{SINGLE_SECONDS}s on one connection, ", end="", flush=True)
    single = run_wrk(target.url, plain, target.headers, 1, SINGLE_SECONDS)
    print(f"{TTFC_REQUESTS} streams", flush=True)
    ttfc = measure_ttfc(target.url, streamed, target.headers, TTFC_REQUESTS, TTFC_WARMUP)
    return Measured(loaded, single, ttfc)


def _print_table(measured: dict[str, Measured]) -> None:
    print()
    print(f"  {'':<11}{f'{CONNECTIONS} connections':^26}|{'1 connection':^18}|{'stream TTFC':^18}|")
    header = f"  {'target':<11}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}|{'p50 ms':>9}{'p99 ms':>9}|"
    print(f"{header}{'p50 ms':>9}{'p99 ms':>9}| errors")
    for name, m in measured.items():
        row = f"  {name:<11}{m.loaded.rps:>8.0f}{m.loaded.p50_ms:>9.2f}{m.loaded.p99_ms:>9.2f}|"
        row += f"{m.single.p50_ms:>9.3f}{m.single.p99_ms:>9.3f}|{m.ttfc.p50_ms:>9.3f}{m.ttfc.p99_ms:>9.3f}|"
        print(f"{row} {m.errors}")
    print()


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _compare(direct: Measured, bare: Measured, gateway: Measured) -> dict[str, float]:
    return {
        "rps_gateway_over_bare": _ratio(gateway.loaded.rps, bare.loaded.rps),
        "rps_gateway_over_direct": _ratio(gateway.loaded.rps, direct.loaded.rps),
        "rps_bare_over_direct": _ratio(bare.loaded.rps, direct.loaded.rps),
        "added_p50_ms_gateway_minus_bare": gateway.single.p50_ms - bare.single.p50_ms,
        "added_p50_ms_gateway_minus_direct": gateway.single.p50_ms - direct.single.p50_ms,
        "added_p50_ms_bare_minus_direct": bare.single.p50_ms - direct.single.p50_ms,
        "ttfc_p50_ms_gateway_minus_bare": gateway.ttfc.p50_ms - bare.ttfc.p50_ms,
        "ttfc_p50_ms_gateway_minus_direct": gateway.ttfc.p50_ms - direct.ttfc.p50_ms,
        "ttfc_p50_ms_bare_minus_direct": bare.ttfc.p50_ms - direct.ttfc.p50_ms,
    }


def _print_comparisons(c: dict[str, float]) -> None:
    print(
        f"  req/s ratios: gateway/bare {c['rps_gateway_over_bare']:.0%}, "
        f"gateway/direct {c['rps_gateway_over_direct']:.0%}, bare/direct {c['rps_bare_over_direct']:.0%}"
    )
    print(
        f"  added p50, one connection: gateway-bare {c['added_p50_ms_gateway_minus_bare']:+.3f} ms, "
        f"gateway-direct {c['added_p50_ms_gateway_minus_direct']:+.3f} ms, "
        f"bare-direct {c['added_p50_ms_bare_minus_direct']:+.3f} ms"
    )
    print(
        f"  stream TTFC p50: gateway-bare {c['ttfc_p50_ms_gateway_minus_bare']:+.3f} ms, "
        f"gateway-direct {c['ttfc_p50_ms_gateway_minus_direct']:+.3f} ms, "
        f"bare-direct {c['ttfc_p50_ms_bare_minus_direct']:+.3f} ms"
    )


def _checks(measured: dict[str, Measured], c: dict[str, float]) -> list[Check]:
    gateway, bare = measured["gateway"], measured["bare-proxy"]
    added = c["added_p50_ms_gateway_minus_bare"]
    checks = [
        Check(
            f"gateway req/s >= {MIN_RPS_RATIO:.0%} of the bare proxy's",
            c["rps_gateway_over_bare"] >= MIN_RPS_RATIO,
            f"{gateway.loaded.rps:.0f} / {bare.loaded.rps:.0f} req/s = {c['rps_gateway_over_bare']:.0%}",
        ),
        Check(
            f"gateway adds < {MAX_ADDED_P50_MS:g} ms at p50 on one connection vs the bare proxy",
            added < MAX_ADDED_P50_MS,
            f"{gateway.single.p50_ms:.3f} - {bare.single.p50_ms:.3f} = {added:+.3f} ms",
        ),
    ]
    for name, m in measured.items():
        failures = _failures(m)
        checks.append(Check(f"{name}: every request succeeded", not failures, "; ".join(failures) or "0 errors"))
    return checks


def _failures(m: Measured) -> list[str]:
    out = [
        f"{kind}: {run.non_2xx} non-2xx, {run.socket_errors} socket errors"
        for kind, run in ((f"{CONNECTIONS} connections", m.loaded), ("1 connection", m.single))
        if run.errors
    ]
    if m.ttfc.errors:
        out.append(f"streams: {m.ttfc.errors} failed (first: {m.ttfc.first_error})")
    return out


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except OSError:
        return 0
