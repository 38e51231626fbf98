"""What the realtime proxy costs: added latency per event round trip, and idle sessions one worker holds.

A round trip is `session.update` out and `session.updated` back, which the simulator answers at once,
so the difference between the gateway and direct is the proxy's own cost per event, both ways.
Idle sessions are opened through one gateway worker and kept open while one more round trip is timed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import websockets

from tests.bench.processes import HOST, ServerGroup, rss_mib
from tests.bench.stats import percentile
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import CLIENT_KEY, SIMULATOR_KEY, start_gateway, start_simulator

MODEL = "gpt-4o-mini-realtime-preview"
ROUND_TRIPS = 2000
IDLE_SESSIONS = 2000
TARGET_ADDED_P50_MS = 1.0
TARGET_IDLE_SESSIONS = 2000
_UPDATE = orjson.dumps({"type": "session.update", "session": {"type": "realtime", "instructions": "bench"}}).decode()


def realtime_cost(workdir: Path) -> SuiteResult:
    with ServerGroup(workdir) as servers:
        simulator, _ = start_simulator(servers)
        # One client key opens every idle session: the per-key cap (100 by default) would refuse most of them.
        gateway_target = start_gateway(servers, workdir, simulator, {"realtime": {"max_sessions_per_key": None}})
        gateway_base = gateway_target.url.removesuffix("/v1/chat/completions").replace("http://", "ws://")
        direct = (f"ws://{HOST}:{simulator.port}/openai/v1/realtime?model={MODEL}", {"api-key": SIMULATOR_KEY})
        through = (f"{gateway_base}/v1/realtime?model={MODEL}", {"authorization": f"Bearer {CLIENT_KEY}"})
        gateway_pid = servers.pid_of("gateway")
        data: dict[str, Any] = {
            "direct": asyncio.run(_round_trips(*direct)),
            "gateway": asyncio.run(_round_trips(*through)),
        }
        data["idle"] = asyncio.run(_idle_sessions(*through, gateway_pid))
    added = data["gateway"]["p50_ms"] - data["direct"]["p50_ms"]
    data["added_p50_ms"] = added
    _print(data)
    idle = data["idle"]
    return SuiteResult(
        "realtime_cost",
        data,
        [
            Check(
                f"realtime event round trip: gateway adds < {TARGET_ADDED_P50_MS} ms at p50",
                added < TARGET_ADDED_P50_MS,
                f"{data['gateway']['p50_ms']:.3f} - {data['direct']['p50_ms']:.3f} = {added:.3f} ms",
            ),
            Check(
                f"one gateway worker holds >= {TARGET_IDLE_SESSIONS} idle sessions",
                idle["open"] >= TARGET_IDLE_SESSIONS and idle["round_trip_ms"] is not None,
                f"{idle['open']} open, {idle['rss_mib_per_1k']:.1f} MiB per 1,000; "
                f"a round trip meanwhile took {idle['round_trip_ms']} ms",
            ),
        ],
    )


async def _round_trips(url: str, headers: dict[str, str]) -> dict[str, float]:
    async with websockets.connect(url, additional_headers=headers, max_size=None) as socket:
        await _event(socket, "session.created")
        for _ in range(50):  # warm-up: first frames pay for buffers and code paths
            await _round_trip(socket)
        samples = [await _round_trip(socket) for _ in range(ROUND_TRIPS)]
    return {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99), "samples": len(samples)}


async def _round_trip(socket: Any) -> float:
    started = time.perf_counter()
    await socket.send(_UPDATE)
    await _event(socket, "session.updated")
    return (time.perf_counter() - started) * 1000


async def _event(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = orjson.loads(await socket.recv())
        if event.get("type") == kind:
            return event
        if event.get("type") == "error":
            raise RuntimeError(f"realtime error while waiting for {kind}: {event}")


async def _idle_sessions(url: str, headers: dict[str, str], gateway_pid: int) -> dict[str, Any]:
    rss_before = rss_mib(gateway_pid)
    sockets: list[Any] = []
    failures: list[str] = []

    async def open_one() -> None:
        try:
            socket = await websockets.connect(url, additional_headers=headers, open_timeout=60, max_size=None)
            await _event(socket, "session.created")
            sockets.append(socket)
        except Exception as error:  # counted and shown: the bench reports failures, it does not stop
            failures.append(type(error).__name__)

    try:
        for start in range(0, IDLE_SESSIONS, 100):  # batches, so the accept backlog is never the limit
            await asyncio.gather(*(open_one() for _ in range(min(100, IDLE_SESSIONS - start))))
        round_trip = await _round_trip(sockets[0]) if sockets else None
        rss_after = rss_mib(gateway_pid)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    per_thousand = (rss_after - rss_before) / max(1, len(sockets)) * 1000
    return {
        "open": len(sockets),
        "failed": len(failures),
        "failures": sorted(set(failures)),
        "rss_mib_before": rss_before,
        "rss_mib_after": rss_after,
        "rss_mib_per_1k": per_thousand,
        "round_trip_ms": round(round_trip, 3) if round_trip is not None else None,
    }


def _print(data: dict[str, Any]) -> None:
    print("  realtime event round trip            p50 ms    p99 ms")
    for name in ("direct", "gateway"):
        row = data[name]
        print(f"  {name:<34} {row['p50_ms']:>8.3f}  {row['p99_ms']:>8.3f}")
    print(f"  added by the gateway at p50: {data['added_p50_ms']:.3f} ms")
    idle = data["idle"]
    print(
        f"  idle sessions through one worker: {idle['open']} open, {idle['failed']} failed {idle['failures']}; "
        f"gateway RSS {idle['rss_mib_before']:.0f} -> {idle['rss_mib_after']:.0f} MiB "
        f"({idle['rss_mib_per_1k']:.1f} MiB per 1,000); a round trip meanwhile: {idle['round_trip_ms']} ms"
    )
