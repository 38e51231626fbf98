"""Proxy overhead: the gateway against the floor (a bare raw-aiohttp pass-through), every figure in one run.

One simulator process stands in for Azure for every target. Each target (direct, floor, bare-httpx, gateway)
is measured the same way, in turn: non-streamed throughput at 32 connections, latency on one connection, a
short stream's time to first chunk, and a long stream's chunks per second. Then the gateway's other cases,
each beside the floor: `model: auto` with a ~1k-token prompt (the floor sending the same body), limits kept
in Redis (with the Redis round trips each request costs), and 2 worker processes of each.

The checks are issue 14's: the gateway serves >= 60% of the floor's requests/s; on one connection it adds at
most 0.3 ms at p50 and 1 ms at p99; limits in Redis cost at most 2 round trips per request.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.overhead_tables import Row, print_ratio_table, print_target_table
from tests.bench.processes import ServerGroup
from tests.bench.prose import WORDS_PER_1K_TOKENS, summary_prompt
from tests.bench.redis_trips import RedisCounters
from tests.bench.streams import StreamResult, measure_streams
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import (
    HEADLINE,
    Target,
    chat_body,
    probe,
    start_bare_httpx,
    start_floor,
    start_gateway,
    start_simulator,
)
from tests.bench.wrk import WrkResult, run_wrk
from tests.support.redis_server import redis_server

CONNECTIONS = 32
WARMUP_SECONDS = 2
THROUGHPUT_SECONDS = 10
CASE_SECONDS = 8  # the other cases: their req/s settles as fast, and there are more of them
SINGLE_SECONDS = 5
FIRST_CHUNK_STREAMS = 500
LONG_STREAMS = 60
STREAM_WARMUP = 20
# Choices per long stream: the simulator writes each token of each choice as its own chunk (~560 in all).
LONG_STREAM_CHOICES = 32

MIN_RPS_RATIO = 0.60
MAX_ADDED_P50_MS = 0.3
MAX_ADDED_P99_MS = 1.0
MAX_REDIS_ROUND_TRIPS = 2
# wrk counts only the requests answered inside its run; those in flight at either edge still went to Redis.
_EDGE_ALLOWANCE = 1.05


@dataclass(frozen=True)
class Measured:
    loaded: WrkResult  # CONNECTIONS connections, non-streamed
    single: WrkResult  # one connection, non-streamed
    first_chunk: StreamResult  # a short stream: time to its first chunk
    long_stream: StreamResult  # a stream of many chunks: chunks per second

    @property
    def errors(self) -> int:
        return self.loaded.errors + self.single.errors + self.first_chunk.errors + self.long_stream.errors

    def failures(self) -> list[str]:
        out = [
            f"{kind}: {run.non_2xx} non-2xx, {run.socket_errors} socket errors"
            for kind, run in ((f"{CONNECTIONS} connections", self.loaded), ("1 connection", self.single))
            if run.errors
        ]
        out += [
            f"{kind}: {run.errors} failed (first: {run.first_error})"
            for kind, run in (("short streams", self.first_chunk), ("long streams", self.long_stream))
            if run.errors
        ]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "loaded": _wrk_json(self.loaded),
            "single": _wrk_json(self.single),
            "first_chunk": asdict(self.first_chunk),
            "long_stream": asdict(self.long_stream),
        }


def proxy_overhead(workdir: Path) -> SuiteResult:
    plain = chat_body()
    with redis_server() as store, ServerGroup(workdir) as servers:
        simulator, direct = start_simulator(servers)
        floor = start_floor(servers, simulator)
        bare = start_bare_httpx(servers, simulator)
        gateway = start_gateway(servers, workdir / "gateway", simulator, HEADLINE)
        measured: dict[str, Measured] = {}
        for target in (direct, floor, bare, gateway):
            if target is not None:
                measured[target.name] = _measure(target)
        if bare is not None:
            servers.stop(bare.name)

        print("  model auto, ~1k-token prompt: floor, gateway", flush=True)
        auto_body = chat_body(model="auto", content=summary_prompt(WORDS_PER_1K_TOKENS, salt=1))
        auto = {target.name: _throughput(target, auto_body) for target in (floor, gateway)}
        servers.stop(gateway.name)  # first: the routing log is complete once it has stopped
        log_lines = _count_lines(workdir / "gateway" / "routing.log")

        print("  limits in Redis: gateway", flush=True)
        with_redis = {**HEADLINE, "rate_limits": {"redis_url": store.url}}
        redis_gateway = start_gateway(servers, workdir / "gateway-redis", simulator, with_redis, name="gateway-redis")
        counters = RedisCounters(store.url)
        _warm(redis_gateway, plain)
        before = counters.read()
        redis_run = run_wrk(redis_gateway.url, plain, redis_gateway.headers, CONNECTIONS, CASE_SECONDS)
        traffic = counters.since(before)
        counters.close()
        servers.stop(redis_gateway.name)

        print("  2 worker processes: gateway, floor", flush=True)
        gateway_2 = start_gateway(servers, workdir / "gateway-2", simulator, HEADLINE, workers=2, name="gateway-2")
        two = {"gateway": _throughput(gateway_2, plain)}
        servers.stop(gateway_2.name)
        two["floor"] = _throughput(start_floor(servers, simulator, workers=2, name="floor-2"), plain)

    per_request = 1 / redis_run.requests if redis_run.requests else math.nan
    round_trips = traffic.round_trips * per_request
    commands = {name: round(calls * per_request, 3) for name, calls in traffic.commands.items()}
    redis: dict[str, Any] = {
        "gateway": _wrk_json(redis_run),
        "round_trips_per_request": round_trips,
        "script_calls_per_request": traffic.script_calls * per_request,
        "commands_per_request": commands,
    }
    rows = _rows(measured, auto, redis_run, round_trips, two)
    print_target_table(measured, floor.name)
    print_ratio_table(rows)
    listed = ", ".join(f"{name} {calls:.2f}" for name, calls in sorted(commands.items()) if calls >= 0.01)
    print(f"  limits in Redis, per request: {round_trips:.2f} round trips; commands (scripts' own too): {listed}")
    print(f"  gateway routing log: {log_lines} lines written")
    data: dict[str, Any] = {
        "settings": {
            "connections": CONNECTIONS,
            "throughput_seconds": THROUGHPUT_SECONDS,
            "case_seconds": CASE_SECONDS,
            "single_connection_seconds": SINGLE_SECONDS,
            "first_chunk_streams": FIRST_CHUNK_STREAMS,
            "long_streams": LONG_STREAMS,
            "long_stream_choices": LONG_STREAM_CHOICES,
            "auto_prompt_words": WORDS_PER_1K_TOKENS,
        },
        "targets": {name: m.as_json() for name, m in measured.items()},
        "auto_1k": {name: _wrk_json(run) for name, run in auto.items()},
        "redis_limits": redis,
        "workers_2": {name: _wrk_json(run) for name, run in two.items()},
        "vs_floor": {row.key: row.as_json() for row in rows},
        "gateway_routing_log_lines": log_lines,
    }
    checks = _checks(measured, rows, round_trips)
    checks += _no_errors({"model auto, 1k prompt": auto, "limits in Redis": {"gateway": redis_run}, "2 workers": two})
    return SuiteResult("proxy_overhead", data, checks)


def _measure(target: Target) -> Measured:
    plain = chat_body()
    probe(target, plain)
    print(f"  {target.name}: warm-up, {THROUGHPUT_SECONDS}s at {CONNECTIONS} connections, ", end="", flush=True)
    run_wrk(target.url, plain, target.headers, CONNECTIONS, WARMUP_SECONDS)
    loaded = run_wrk(target.url, plain, target.headers, CONNECTIONS, THROUGHPUT_SECONDS)
    print(f"{SINGLE_SECONDS}s on one connection, ", end="", flush=True)
    single = run_wrk(target.url, plain, target.headers, 1, SINGLE_SECONDS)
    print(f"{FIRST_CHUNK_STREAMS} short and {LONG_STREAMS} long streams", flush=True)
    short = chat_body(stream=True)
    first_chunk = measure_streams(target.url, short, target.headers, FIRST_CHUNK_STREAMS, STREAM_WARMUP)
    long = chat_body(stream=True, n=LONG_STREAM_CHOICES)
    long_stream = measure_streams(target.url, long, target.headers, LONG_STREAMS, STREAM_WARMUP)
    return Measured(loaded, single, first_chunk, long_stream)


def _warm(target: Target, body: bytes) -> None:
    probe(target, body)
    run_wrk(target.url, body, target.headers, CONNECTIONS, WARMUP_SECONDS)


def _throughput(target: Target, body: bytes) -> WrkResult:
    _warm(target, body)
    return run_wrk(target.url, body, target.headers, CONNECTIONS, CASE_SECONDS)


def _rows(
    measured: dict[str, Measured],
    auto: dict[str, WrkResult],
    redis: WrkResult,
    round_trips: float,
    two: dict[str, WrkResult],
) -> list[Row]:
    gateway, floor = measured["gateway"], measured["floor"]
    chunks = floor.long_stream.chunks
    return [
        Row(
            "rps",
            f"req/s, {CONNECTIONS} connections",
            gateway.loaded.rps,
            floor.loaded.rps,
            "req/s",
            f"ratio >= {MIN_RPS_RATIO:.2f}",
        ),
        Row(
            "p50_single",
            "p50 ms, 1 connection",
            gateway.single.p50_ms,
            floor.single.p50_ms,
            "ms",
            f"added <= {MAX_ADDED_P50_MS:g} ms",
        ),
        Row(
            "p99_single",
            "p99 ms, 1 connection",
            gateway.single.p99_ms,
            floor.single.p99_ms,
            "ms",
            f"added <= {MAX_ADDED_P99_MS:g} ms",
        ),
        Row(
            "first_chunk_p50", "stream: first chunk p50 ms", gateway.first_chunk.p50_ms, floor.first_chunk.p50_ms, "ms"
        ),
        Row(
            "chunks_per_s",
            f"stream: chunks/s ({chunks} chunks)",
            gateway.long_stream.chunks_per_s_p50,
            floor.long_stream.chunks_per_s_p50,
            "chunks/s",
        ),
        Row("auto_1k_rps", "model auto, 1k-token prompt: req/s", auto["gateway"].rps, auto["floor"].rps, "req/s"),
        Row(
            "redis_rps",
            "limits in Redis: req/s",
            redis.rps,
            floor.loaded.rps,
            "req/s",
            f"round trips {round_trips:.2f} <= {MAX_REDIS_ROUND_TRIPS}",
        ),
        Row("workers_1_rps", "--workers 1: req/s", gateway.loaded.rps, floor.loaded.rps, "req/s"),
        Row("workers_2_rps", "--workers 2: req/s", two["gateway"].rps, two["floor"].rps, "req/s"),
    ]


def _checks(measured: dict[str, Measured], rows: list[Row], round_trips: float) -> list[Check]:
    by_key = {row.key: row for row in rows}
    rps, p50, p99 = by_key["rps"], by_key["p50_single"], by_key["p99_single"]
    checks = [
        Check(
            f"gateway req/s >= {MIN_RPS_RATIO:.0%} of the floor's ({CONNECTIONS} connections)",
            rps.ratio >= MIN_RPS_RATIO,
            f"{rps.gateway:.0f} / {rps.floor:.0f} req/s = {rps.ratio:.2f}",
        ),
        Check(
            f"gateway adds <= {MAX_ADDED_P50_MS:g} ms at p50 on one connection over the floor",
            p50.difference <= MAX_ADDED_P50_MS,
            f"{p50.gateway:.3f} - {p50.floor:.3f} = {p50.difference:+.3f} ms",
        ),
        Check(
            f"gateway adds <= {MAX_ADDED_P99_MS:g} ms at p99 on one connection over the floor",
            p99.difference <= MAX_ADDED_P99_MS,
            f"{p99.gateway:.3f} - {p99.floor:.3f} = {p99.difference:+.3f} ms",
        ),
        Check(
            f"limits in Redis: <= {MAX_REDIS_ROUND_TRIPS} Redis round trips per request",
            round_trips <= MAX_REDIS_ROUND_TRIPS * _EDGE_ALLOWANCE,
            f"{round_trips:.2f} per request",
        ),
    ]
    for name, m in measured.items():
        failures = m.failures()
        checks.append(Check(f"{name}: every request succeeded", not failures, "; ".join(failures) or "0 errors"))
    return checks


def _no_errors(cases: dict[str, dict[str, WrkResult]]) -> list[Check]:
    return [
        Check(
            f"{case}: every request succeeded",
            all(run.errors == 0 for run in runs.values()),
            "; ".join(
                f"{name}: {run.non_2xx} non-2xx, {run.socket_errors} socket errors" for name, run in runs.items()
            ),
        )
        for case, runs in cases.items()
    ]


def _wrk_json(run: WrkResult) -> dict[str, Any]:
    return {**asdict(run), "rps": round(run.rps, 1)}


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except OSError:
        return 0
