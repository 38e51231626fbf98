"""What deciding costs: features plus decision for 1k- and 100k-token chat requests, in process.

Cold means text the token cache has never seen (every request new); warm means a conversation whose
earlier turns were counted before, as multi-turn chats resend their history. A 1M-token request is
routed while a ticker measures how long the event loop goes without running other tasks.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
from starlette.datastructures import Headers

from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.json_body import parse_json_body
from gateway.routing.router import Router
from gateway.routing.setup import build_router, warm_tokenizers
from gateway.settings import load_config
from tests.bench.prose import summary_prompt
from tests.bench.stats import percentile
from tests.bench.suite import Check, SuiteResult
from tests.bench.targets import REPO_ROOT

ENV = {"AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:9", "AZURE_OPENAI_API_KEY": "bench"}
TARGET_1K_P50_MS = 0.2


def routing_cost(workdir: Path) -> SuiteResult:
    router = build_router(load_config(REPO_ROOT / "config" / "gateway.yaml", ENV))
    warm_tokenizers(router)
    data: dict[str, Any] = {}
    scenario = 0
    for label, sentences, rounds in (("1k", 100, 400), ("100k", 10_000, 20)):
        for headers_label, headers in (("auto", {}), ("hinted", {"x-route-task": "general"})):
            # Each scenario gets texts of its own: none may find another's counts in the cache.
            scenario += 1
            cold = asyncio.run(_time(router, sentences, rounds, headers, fresh=True, salt_base=scenario * 10_000))
            warm = asyncio.run(_time(router, sentences, rounds, headers, fresh=False, salt_base=scenario * 10_000))
            data[f"{label}/{headers_label}"] = {"cold": cold, "warm": warm}
    stall = asyncio.run(_loop_stall(router, sentences=75_000))  # ~0.9M tokens: still fits gpt-4.1
    data["1M-token loop stall"] = stall
    _print(data)
    warm_p50 = data["1k/auto"]["warm"]["p50_ms"]
    cold_p50 = data["1k/auto"]["cold"]["p50_ms"]
    checks = [
        Check(
            f"features + decision for a 1k-token chat, warm cache, p50 < {TARGET_1K_P50_MS} ms",
            warm_p50 < TARGET_1K_P50_MS,
            f"{warm_p50:.3f} ms (cold, text never seen before: {cold_p50:.3f} ms)",
        ),
        Check(
            "routing a 1M-token prompt never stalls the event loop for 10 ms",
            stall["max_gap_ms"] < 10,
            f"longest gap between ticks {stall['max_gap_ms']:.2f} ms while routing took {stall['route_ms']:.0f} ms",
        ),
    ]
    return SuiteResult("routing_cost", data, checks)


def _body(sentences: int, salt: int) -> Any:
    payload = {"model": "auto", "messages": [{"role": "user", "content": summary_prompt(sentences * 10, salt)}]}
    return parse_json_body(ENDPOINTS["chat/completions"], "application/json", orjson.dumps(payload))


async def _time(
    router: Router, sentences: int, rounds: int, headers: dict[str, str], *, fresh: bool, salt_base: int
) -> dict[str, float]:
    bodies = [_body(sentences, salt_base + (salt if fresh else 0)) for salt in range(rounds)]
    parsed_headers = Headers(headers)
    await router.route(bodies[0], parsed_headers)  # first use of each code path is not what we measure
    if fresh:
        bodies = [_body(sentences, salt_base + rounds + salt) for salt in range(rounds)]
    samples = []
    for body in bodies:
        started = time.perf_counter()
        await router.route(body, parsed_headers)
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99), "rounds": rounds}


async def _loop_stall(router: Router, sentences: int) -> dict[str, float]:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append((now - last) * 1000)
            last = now

    body = _body(sentences, salt=-1)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    routed = await router.route(body, Headers({}))
    route_ms = (time.perf_counter() - started) * 1000
    done.set()
    await task
    return {"max_gap_ms": max(gaps), "route_ms": route_ms, "ticks": len(gaps), "prompt_tokens": routed.prompt_tokens}


def _print(data: dict[str, Any]) -> None:
    print("  features + decision, in process            p50 ms    p99 ms")
    for name, result in data.items():
        if name.endswith("stall"):
            continue
        for kind in ("cold", "warm"):
            row = result[kind]
            print(f"  {name + ' ' + kind:<40} {row['p50_ms']:>8.3f}  {row['p99_ms']:>8.3f}")
    stall = data["1M-token loop stall"]
    print(
        f"  1M-token prompt ({stall['prompt_tokens']:,} tokens) routed in {stall['route_ms']:.0f} ms; "
        f"longest event-loop gap {stall['max_gap_ms']:.2f} ms over {stall['ticks']:,} ticks"
    )
