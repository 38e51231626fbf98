"""Four gateway processes share one deployment's TPM through one redis-server, or through a Redis Cluster of three
masters and their replicas, under three times the load it takes.

The replicas judge the window by a clock running SCALE times faster than the wall clock (see
tests/support/replica.py), so 80 simulated seconds of steady overload take 16 seconds. Tokens are counted as
the simulator's usage reports them, by when each request was sent, over every 60-second window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.redis_cluster import redis_cluster
from tests.support.replica import ScaledClock
from tests.support.replica_processes import replica_processes

REPLICAS = 4
TPM = 30_000
SCALE = 5.0  # simulated seconds per real second; more makes the test sensitive to a busy machine
RUN_SECONDS = 80.0  # simulated: a full window of steady state after the first minute
DEMAND = 3.0  # times the TPM
MAX_TOKENS = 30
# ~1,000 characters: the simulator bills ~250 prompt tokens for it, plus a reply of 8 to 24 tokens.
PROMPT = " ".join(f"line {i}: the quarterly numbers for the northern region look steady" for i in range(16))
TOKENS_PER_REQUEST_GUESS = 270


@dataclass(frozen=True)
class Sent:
    at: float  # simulated seconds
    tokens: int | None  # usage.total_tokens when admitted; None when refused with 429


@pytest.fixture(params=["one server", "cluster"])
def shared_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the Redis the replicas share: the session's redis-server, or a Cluster of its own."""
    if request.param == "one server":
        yield request.getfixturevalue("redis_url")
        return
    with redis_cluster() as cluster:
        yield cluster.url


@pytest.fixture
async def replica_urls(simulator: Simulator, shared_store: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    redis_url = shared_store
    config = write_config(
        tmp_path,
        f"""
rate_limits: {{redis_url: "{redis_url}"}}
resources:
  sim: {{endpoint: "{simulator.url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: {TPM}, rpm: 1000}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim}}  # unlimited: warms each replica up
log: {{routing_log: {tmp_path / "routing.log"}}}
""",
    )
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    async with replica_processes(config, REPLICAS, environ, clock_scale=SCALE) as urls:
        yield urls


async def test_four_replicas_never_admit_more_than_the_tpm_and_use_nearly_all_of_it(
    replica_urls: list[str],
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(openai.AsyncOpenAI(base_url=url, api_key=CLIENT_KEYS[0], max_retries=0))
            for url in replica_urls
        ]
        # A first request pays for connections and first-use set-up; were it timed, the load would bunch up behind it.
        for client in clients:
            await client.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}])
        clock = ScaledClock(time.time(), SCALE)
        # Requests leave at a steady pace (in real time) that asks for DEMAND times the TPM.
        per_real_second = DEMAND * TPM / 60 / TOKENS_PER_REQUEST_GUESS * SCALE
        started_real, started = time.monotonic(), clock()
        tasks: list[asyncio.Task[Sent]] = []
        index = 0
        while clock() - started < RUN_SECONDS:
            due = started_real + index / per_real_second
            if (ahead := due - time.monotonic()) > 0:
                await asyncio.sleep(ahead)  # pacing the load, not waiting for anything
            tasks.append(asyncio.create_task(_send(clients[index % REPLICAS], clock)))
            index += 1
        sent = await asyncio.gather(*tasks)

    admitted = sorted((s.at, s.tokens) for s in sent if s.tokens is not None)
    refused = sum(1 for s in sent if s.tokens is None)
    assert refused > len(sent) / 2, "three times the TPM was asked for: most requests must be refused"
    most = max(_window_tokens(admitted, end) for end, _ in admitted)
    assert most <= TPM * 1.01, f"{most} tokens admitted within one 60-second window; the limit is {TPM}"
    ends = [started + 60 + step for step in range(int(RUN_SECONDS - 60) + 1)]
    least = min(_window_tokens(admitted, end) for end in ends)
    assert least >= TPM * 0.95, f"only {least} of {TPM} tokens used in some full minute of overload"


async def _send(client: openai.AsyncOpenAI, clock: ScaledClock) -> Sent:
    at = clock()
    try:
        completion = await client.chat.completions.create(
            model="gpt-4.1", messages=[{"role": "user", "content": PROMPT}], max_tokens=MAX_TOKENS
        )
    except openai.RateLimitError:
        return Sent(at, None)
    assert completion.usage is not None
    return Sent(at, completion.usage.total_tokens)


def _window_tokens(admitted: list[tuple[float, int]], end: float) -> int:
    return sum(tokens for at, tokens in admitted if end - 60 < at <= end)
