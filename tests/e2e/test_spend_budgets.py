"""Spend budgets per client key, through the real openai SDK: a key over its daily cap gets a 429 budget_exceeded
that the SDK does not retry, before Azure (the simulator) is called; and two gateway replicas on one redis-server
share one key's cap, settling each reservation to the cost their routing logs show.

The cap is counted in a time zone chosen so that it is around noon there while the test runs: no midnight can
reset the day halfway through."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
import redis

from gateway.inbound.client_auth import key_id
from gateway.limits.spend_calendar import SpendCalendar, time_zone
from tests.conftest import Gateway, GatewayFactory, Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.replica_processes import replica_processes
from tests.support.simulator_control import SimulatorControl

KEY_ONE = key_id(CLIENT_KEYS[0])
# A short prompt: the gateway counts more tokens for it (with the message framing) than the simulator bills, and
# max_tokens bounds the answer, so no answer costs more than its reservation.
ASK = [{"role": "user", "content": "Say something about budgets."}]
MAX_TOKENS = 30
INPUT_USD, OUTPUT_USD = 2.0 / 1e6, 8.0 / 1e6  # gpt-4.1's list prices per token (gateway/routing/models.yaml)


def noon_zone() -> str:
    """A fixed-offset IANA zone (no daylight saving) where it is 12 o'clock now."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # IANA's Etc signs are inverted: GMT-3 is UTC+3


def most_cost(line: dict[str, Any]) -> float:
    prompt_tokens = line["prompt_tokens"]
    assert isinstance(prompt_tokens, int)
    return prompt_tokens * INPUT_USD + MAX_TOKENS * OUTPUT_USD


def config_text(zone: str, daily_usd: float, extra: str = "") -> str:
    return f"""
{extra}
client_keys:
  spend_time_zone: "{zone}"
  per_key:
    {KEY_ONE}: {{daily_usd: {daily_usd}}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-mini, model: gpt-4.5-preview, resource: sim}}  # a model the price table has no price for
"""


# -- one gateway: the refusal as the client sees it -----------------------------------------------------------


@pytest.fixture
def capped(make_gateway: GatewayFactory) -> Any:
    zone = noon_zone()
    with make_gateway(config_text(zone, 0.0006)) as gateway:
        yield gateway, zone


def test_a_key_over_its_daily_cap_gets_budget_exceeded_and_the_sdk_does_not_retry(
    capped: tuple[Gateway, str], sim: SimulatorControl
) -> None:
    gateway, zone = capped
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, timeout=30) as client:  # retries on
        admitted = 0
        while True:
            before, sent_at = len(sim.requests()), time.time()
            try:
                client.chat.completions.create(model="gpt-4.1", messages=ASK, max_tokens=MAX_TOKENS)
            except openai.RateLimitError as error:
                refused, answered_at = error, time.time()
                break
            admitted += 1
            assert admitted < 10, "a cap of $0.0006 holds at most four answers of $0.00014 or more"
    assert admitted >= 1
    assert len(sim.requests()) == before  # refused before Azure was called
    response = refused.response
    assert response.status_code == 429
    assert response.json()["error"]["type"] == refused.type == "budget_exceeded"
    assert (refused.code, refused.param) == ("budget_exceeded", None)
    midnight = SpendCalendar(time_zone(zone)).periods(sent_at)[0].ends_at
    assert f"client key {KEY_ONE}" in refused.message and "daily cap of $0.0006" in refused.message
    assert f"resets at {datetime.fromtimestamp(midnight, time_zone(zone)):%Y-%m-%d %H:%M} {zone}" in refused.message
    assert math.floor(midnight - answered_at) <= int(response.headers["retry-after"]) <= math.ceil(midnight - sent_at)
    assert response.headers["x-should-retry"] == "false"
    assert "retry-after-ms" not in response.headers
    assert response.headers["x-gateway-model"] == "gpt-4.1"
    assert response.headers["x-gateway-deployment"] == "none"
    line = gateway.log_line(response.headers["x-request-id"])
    assert (line["status"], line["error"], line["key_id"], line["cost_usd"]) == (429, "budget_exceeded", KEY_ONE, None)
    refusals = [item for item in gateway.log_lines() if item["status"] == 429]
    assert len(refusals) == 1, "the SDK must not have retried the refusal"


def test_a_model_without_a_price_is_admitted_and_its_line_says_the_cap_was_not_applied(
    capped: tuple[Gateway, str],
) -> None:
    gateway, _ = capped
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client:
        for _ in range(3):  # well past the cap, were it priced
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4.5-preview", messages=ASK, max_tokens=2000
            )
    line = gateway.log_line(raw.headers["x-request-id"])
    assert line["status"] == 200
    assert "spend cap not applied: no price for gpt-4.5-preview" in (line["notes"] or [])


# -- two replicas on one redis-server ---------------------------------------------------------------------------


@pytest.fixture
async def two_replicas(
    simulator: Simulator, redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[list[str], Path, str]]:
    """Both replicas' base URLs, their shared routing log, and the spend time zone."""
    log_path, zone = tmp_path / "routing.log", noon_zone()
    text = config_text(zone, CAP, extra=f'rate_limits: {{redis_url: "{redis_url}"}}').replace(
        "${SIMULATOR_URL}", simulator.url
    )
    config = write_config(tmp_path, f"{text}\nlog: {{routing_log: {log_path}}}\n")
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    async with replica_processes(config, 2, environ) as urls:
        yield urls, log_path, zone


CAP = 0.006  # about 40 answers of these, 23 reservations at most
BURST = 30


async def _send(client: openai.AsyncOpenAI) -> str | None:
    """The request's id when answered; None when refused for the key's budget."""
    try:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4.1", messages=ASK, max_tokens=MAX_TOKENS
        )
    except openai.RateLimitError:
        return None  # why is checked in its routing-log line
    return raw.headers["x-request-id"]


async def _lines(log_path: Path, count: int) -> list[dict[str, Any]]:
    """The first `count` lines of the replicas' shared routing log, once both have written that many."""
    while len(lines := await asyncio.to_thread(_whole_lines, log_path)) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the file has no change notification to await
    return lines


def _whole_lines(log_path: Path) -> list[dict[str, Any]]:
    # Only whole lines: a replica may be writing the last one.
    written = log_path.read_bytes() if log_path.exists() else b""
    return [orjson.loads(line) for line in written[: written.rfind(b"\n") + 1].splitlines() if line]


async def test_two_replicas_share_one_keys_daily_cap_and_settle_it_to_the_logged_cost(
    two_replicas: tuple[list[str], Path, str], redis_url: str, sim: SimulatorControl
) -> None:
    urls, log_path, zone = two_replicas
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(openai.AsyncOpenAI(base_url=url, api_key=CLIENT_KEYS[0], max_retries=0))
            for url in urls
        ]
        # At once, through both: more than the cap's worth of reservations. The simulator holds each answer until
        # every request is held there or refused, so none settles (giving back the rest of its reservation)
        # before the last is admitted: on a busy machine the burst would otherwise trickle in and all fit.
        await asyncio.to_thread(sim.add_fault, deployment="gpt-4.1", hold="burst")
        tasks = [asyncio.create_task(_send(clients[index % 2])) for index in range(BURST)]
        # The simulator's hold count has no notification to await.
        while sum(task.done() for task in tasks) + await asyncio.to_thread(sim.waiting, "burst") < BURST:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await asyncio.to_thread(sim.release, "burst")  # later holds of the name pass through
        burst = await asyncio.gather(*tasks)
        sent = BURST
        lines = await _lines(log_path, sent)
        burst_cost = sum(line["cost_usd"] for line in lines if line["status"] == 200)
        assert None in burst and burst_cost <= CAP
        # Then one at a time, alternating, each settled (its line written) before the next, until one is refused.
        index = 0
        while await _send(clients[index % 2]) is not None:
            sent, index = sent + 1, index + 1
            await _lines(log_path, sent)
        sent += 1
        assert await _send(clients[(index + 1) % 2]) is None, "the other replica must refuse as well"
        sent += 1
    lines = await _lines(log_path, sent)
    answered = [line for line in lines if line["status"] == 200]
    refused = [line for line in lines if line["status"] == 429]
    assert len(answered) + len(refused) == sent and {line["error"] for line in refused} == {"budget_exceeded"}
    assert all(line["cost_usd"] <= most_cost(line) for line in answered), "an answer cost more than it reserved"
    logged = sum(line["cost_usd"] for line in answered)
    # Stopped at the cap, within one request's most cost of it.
    assert CAP - max(most_cost(line) for line in answered) < logged <= CAP
    day = SpendCalendar(time_zone(zone)).periods(time.time())[0]
    with redis.Redis.from_url(redis_url) as store:
        held = store.hgetall(f"gw:{{limits}}:spend:{KEY_ONE}:daily:{day.name}")
    assert set(held) == {b"spent"}, "every reservation was settled or released"
    assert int(held[b"spent"]) / 1e9 == pytest.approx(logged, abs=len(answered) * 1e-9)
