"""What admission costs: the gateway's requests/s with no limits, with in-memory limits and with Redis limits.

The limits are set so high that nothing is refused: this measures the bookkeeping, not the refusals.
Redis round trips per request are read from redis-server's own command counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
import yaml

from tests.bench.processes import ServerGroup
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import BASE_CONFIG, MODEL, chat_body, probe, start_gateway, start_simulator
from tests.bench.wrk import run_wrk
from tests.support.redis_server import redis_server

CONNECTIONS = 32
WARMUP_SECONDS = 2
SECONDS = 8
UNREACHABLE_LIMITS = {"tpm": 10**9, "rpm": 10**8}


def admission_cost(workdir: Path) -> SuiteResult:
    body = chat_body()
    results: dict[str, dict[str, float]] = {}
    with redis_server() as store, ServerGroup(workdir) as servers:
        simulator, _ = start_simulator(servers)
        counters = redis.Redis.from_url(store.url)
        for name, overrides in _variants(store.url).items():
            folder = workdir / name
            folder.mkdir()
            target = start_gateway(servers, folder, simulator, overrides)
            probe(target, body)
            run_wrk(target.url, body, target.headers, CONNECTIONS, WARMUP_SECONDS)
            before = _redis_calls(counters)
            measured = run_wrk(target.url, body, target.headers, CONNECTIONS, SECONDS)
            calls = _redis_calls(counters) - before
            results[name] = {
                "rps": measured.rps,
                "p50_ms": measured.p50_ms,
                "errors": measured.errors,
                "redis_calls_per_request": calls / measured.requests if measured.requests else 0.0,
            }
    _print(results)
    base = results["no-limits"]["rps"]
    checks = [
        Check(f"{name}: every request succeeded", row["errors"] == 0, f"{row['errors']:.0f} errors")
        for name, row in results.items()
    ]
    checks.append(
        Check(
            # Settling and Azure's remaining tokens go out as one pipeline: 3 commands, 2 round trips.
            "Redis commands per request <= 3: admit before; settle + observe pipelined in 1 round trip after",
            # wrk counts only the requests answered inside its run; the ones in flight at either edge
            # still sent their commands, hence the 5% allowance.
            results["redis"]["redis_calls_per_request"] <= 3.0 * 1.05,
            f"{results['redis']['redis_calls_per_request']:.2f} per request",
        )
    )
    data: dict[str, Any] = {name: dict(row, rps_vs_no_limits=row["rps"] / base) for name, row in results.items()}
    return SuiteResult("admission_cost", data, checks)


def _variants(redis_url: str) -> dict[str, dict[str, Any]]:
    deployments = yaml.safe_load(BASE_CONFIG.read_text())["deployments"]
    limited = [dict(item, **UNREACHABLE_LIMITS) if item["model"] == MODEL else item for item in deployments]
    limits = {"client_keys": {"limits": UNREACHABLE_LIMITS}, "deployments": limited}
    return {
        "no-limits": {},
        "memory": limits,
        "redis": {**limits, "rate_limits": {"redis_url": redis_url}},
    }


# Redis also counts the commands a Lua script runs; a round trip is one of these, sent by the gateway.
_CLIENT_COMMANDS = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_script")


def _redis_calls(client: redis.Redis) -> int:
    stats: dict[str, dict[str, int]] = client.info("commandstats")  # type: ignore[assignment]
    return sum(int(stats[name]["calls"]) for name in _CLIENT_COMMANDS if name in stats)


def _print(results: dict[str, dict[str, float]]) -> None:
    base = results["no-limits"]["rps"]
    print("  admission          req/s   vs none   p50 ms   Redis calls/request")
    for name, row in results.items():
        print(
            f"  {name:<14} {row['rps']:>9.0f} {row['rps'] / base:>8.0%} {row['p50_ms']:>8.2f}"
            f"   {row['redis_calls_per_request']:.2f}"
        )
