"""`gateway serve --workers 2` without Redis: the two worker processes together admit no more than the limit.

Each worker keeps its budgets in its own memory and enforces half of each (gateway/limits/worker_share.py).
The deployment allows 10 requests a minute, with no 10-s burst check, so that the count is exact: each worker
admits 5, and the 10 admitted in all take a few seconds, well inside the minute.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RPM = 10
WORKERS = 2
HELLO = [{"role": "user", "content": "hello"}]


@dataclass
class Served:
    url: str
    stderr: list[str]  # every line so far, the start-up's first


@pytest.fixture
def two_workers(simulator: Simulator, tmp_path: Path) -> Iterator[Served]:
    config = write_config(
        tmp_path,
        f"""
rate_limits: {{burst_fraction: null}}
resources:
  sim: {{endpoint: "{simulator.url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: 1000000, rpm: {RPM}}}
log: {{routing_log: {tmp_path / "routing.log"}}}
""",
    )
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    argv = ["serve", "--config", str(config), "--port", str(port), "--workers", str(WORKERS)]
    with subprocess.Popen(
        [sys.executable, "-m", "gateway", *argv],
        env={**environ, "SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": CLIENT_KEYS[0]},
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stderr is not None
        seen: list[str] = []
        started = 0
        for line in process.stderr:  # until both workers have started
            seen.append(line)
            started += "Application startup complete." in line
            if started == WORKERS:
                break
        assert started == WORKERS, "".join(seen)
        # The rest is read as it comes, so that a full pipe never blocks the gateway.
        reader = threading.Thread(target=seen.extend, args=(process.stderr,), daemon=True)
        reader.start()
        yield Served(f"http://127.0.0.1:{port}", seen)
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)  # it has read to the end before leaving the block closes the pipe


def _wait_until_listening(url: str) -> None:
    # A worker listens just after it logs its start-up; another process's listen() notifies nobody.
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/healthz").raise_for_status()
            return
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def _ask(client: openai.AsyncOpenAI) -> openai.RateLimitError | None:
    """None: answered; else the gateway's refusal."""
    try:
        await client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=5)
    except openai.RateLimitError as refused:
        return refused
    return None


async def _ask_at_once(client: openai.AsyncOpenAI, count: int) -> int:
    """How many of `count` requests sent at once were answered; each refusal says it is the worker's half."""
    refusals = [refused for refused in await asyncio.gather(*(_ask(client) for _ in range(count))) if refused]
    for refused in refusals:
        assert refused.code == "rate_limit_exceeded"
        assert refused.response.headers["x-ratelimit-limit-requests"] == str(RPM // WORKERS)
    return count - len(refusals)


async def test_two_workers_without_redis_admit_the_limit_and_no_more(two_workers: Served) -> None:
    assert (
        "gateway: rate limits: no redis_url, so each of the 2 workers enforces 1/2 of every budget "
        "(set rate_limits.redis_url to share them exactly)"
    ) in "".join(two_workers.stderr)
    _wait_until_listening(two_workers.url)
    # A new connection for every request, so the kernel hands requests to either worker, not always one.
    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
    async with openai.AsyncOpenAI(
        base_url=f"{two_workers.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, http_client=http
    ) as client:
        admitted = sent = 0
        # Until both workers have admitted their 5 (each request goes to whichever worker accepts it first).
        while admitted < RPM and sent < 200:
            admitted, sent = admitted + await _ask_at_once(client, 4), sent + 4
        assert admitted == RPM, f"{admitted} admitted of {sent}"
        # Both workers are spent: were each enforcing the whole limit, one of them would still admit.
        assert await _ask_at_once(client, 20) == 0
