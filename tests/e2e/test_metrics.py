"""GET /metrics after real requests through a served gateway (the openai SDK, the simulator as Azure): the
series requests moved, by the values they moved them by; and under `gateway serve --workers 2`, one scrape
adds up both workers.

The metrics are the test process's, shared by every gateway it serves: each test reads what changed between
a scrape before its requests and one after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.settings import load_config
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SHIPPED_CONFIG, SIMULATOR_KEY, write_config
from tests.support.servers import free_port, serve
from tests.support.simulator_control import SimulatorControl

ADMIN_KEY = "metrics-admin-key"
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
# `mx` names the deployments of these tests alone; gpt-4.1 falls back to gpt-4.1-mini when it fails, and
# gpt-4o's budget is smaller than a request asking for 2,000 tokens.
CONFIG = """
routing: {{policy: {policy}}}
retries: {{backoff_initial_seconds: 0.01, backoff_max_seconds: 0.05}}
resources:
  mx: {{endpoint: "{simulator}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: mx}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: mx, tpm: 100000}}
  - {{name: gpt-4o, model: gpt-4o, resource: mx, tpm: 1000}}
"""
POLICY = """
start: leaf
nodes:
  leaf: {models: [gpt-4.1]}
fallbacks:
  on_failure: {gpt-4.1: [gpt-4.1-mini]}
"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def gateway_url(simulator: Simulator, tmp_path: Path) -> Iterator[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    text = CONFIG.format(policy=policy, simulator=simulator.url) + f"log: {{routing_log: {tmp_path / 'routing.log'}}}\n"
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS), "GATEWAY_ADMIN_KEYS": ADMIN_KEY}
    with serve(create_app(load_config(write_config(tmp_path, text), environ), environ)) as url:
        yield url


def scrape(url: str) -> Samples:
    response = httpx.get(f"{url}/metrics", headers=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the sum of `name`'s samples that have `labels` grew between the scrapes."""

    def total(samples: Samples) -> float:
        wanted = set(labels.items())
        return sum(
            value for (found, sample_labels), value in samples.items() if found == name and wanted <= sample_labels
        )

    return total(after) - total(before)


@contextmanager
def client(url: str) -> Iterator[openai.OpenAI]:
    # Closed after use: an SDK client left to the collector leaves its pooled sockets open (ResourceWarning).
    with openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEYS[0], max_retries=0) as sdk:
        yield sdk


def test_requests_tokens_and_latency(gateway_url: str, sim: SimulatorControl) -> None:
    before = scrape(gateway_url)
    with client(gateway_url) as sdk:
        whole = sdk.chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES)
        stream = sdk.chat.completions.create(
            model="gpt-4.1-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        streamed_usage = [chunk.usage for chunk in stream if chunk.usage is not None]
    after = scrape(gateway_url)

    assert whole.usage is not None and len(streamed_usage) == 1
    requests = {"endpoint": "chat/completions", "model": "gpt-4.1-mini", "deployment": "mx/gpt-4.1-mini"}
    assert moved(before, after, "gateway_requests_total", **requests, status="200") == 2
    usage = {"gen_ai_request_model": "gpt-4.1-mini", "deployment": "mx/gpt-4.1-mini", "gen_ai_operation_name": "chat"}
    prompt = whole.usage.prompt_tokens + streamed_usage[0].prompt_tokens
    completion = whole.usage.completion_tokens + streamed_usage[0].completion_tokens
    assert moved(before, after, "gen_ai_client_token_usage_sum", **usage, gen_ai_token_type="input") == prompt
    assert moved(before, after, "gen_ai_client_token_usage_sum", **usage, gen_ai_token_type="output") == completion
    assert moved(before, after, "gen_ai_client_token_usage_count", **usage, gen_ai_token_type="output") == 2
    timed = {"gen_ai_request_model": "gpt-4.1-mini", "gen_ai_response_model": "gpt-4.1-mini"}
    assert moved(before, after, "gen_ai_server_request_duration_seconds_count", **timed) == 2
    assert moved(before, after, "gen_ai_server_request_duration_seconds_sum", **timed) > 0
    # Only the stream has a first token; each request made one upstream attempt, budgeted and admitted once.
    assert moved(before, after, "gen_ai_server_time_to_first_token_seconds_count", **timed) == 1
    attempts = {"deployment": "mx/gpt-4.1-mini", "error_type": ""}
    assert moved(before, after, "gen_ai_client_operation_duration_seconds_count", **attempts) == 2
    first_chunk = {"deployment": "mx/gpt-4.1-mini"}
    assert moved(before, after, "gen_ai_client_operation_time_to_first_chunk_seconds_count", **first_chunk) == 1
    assert moved(before, after, "gateway_admissions_total", deployment="mx/gpt-4.1-mini") == 2
    # The deployment's budget, read at scrape: the two requests' tokens are gone from it.
    remaining = after[("gateway_deployment_remaining_tokens", frozenset({("deployment", "mx/gpt-4.1-mini")}))]
    assert remaining <= 100000 - (prompt + completion)


def test_a_failing_model_falls_back_and_its_retries_are_counted(gateway_url: str, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=503, times=-1)
    before = scrape(gateway_url)
    with client(gateway_url) as sdk:
        answer = sdk.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES)
    after = scrape(gateway_url)

    assert answer.headers["x-gateway-model"] == "gpt-4.1-mini"
    fallback = {"from_model": "gpt-4.1", "to_model": "gpt-4.1-mini", "reason": "failure"}
    assert moved(before, after, "gateway_fallbacks_total", **fallback) == 1
    assert moved(before, after, "gateway_retries_total", reason="503") == 1
    # The failed attempt is timed with Azure's error: every attempt on mx/gpt-4.1 failed, none without an error.
    attempts = "gen_ai_client_operation_duration_seconds_count"
    assert moved(before, after, attempts, deployment="mx/gpt-4.1") == 1
    assert moved(before, after, attempts, deployment="mx/gpt-4.1", error_type="") == 0
    # The client asked for `auto`: the request model says so, the response model says who answered.
    routed = {"gen_ai_request_model": "auto", "gen_ai_response_model": "gpt-4.1-mini", "error_type": ""}
    assert moved(before, after, "gen_ai_server_request_duration_seconds_count", **routed) == 1
    requests = {"endpoint": "chat/completions", "model": "gpt-4.1-mini", "deployment": "mx/gpt-4.1-mini"}
    assert moved(before, after, "gateway_requests_total", **requests, status="200") == 1


def test_a_budget_refusal_is_a_429_counted_by_its_budget(gateway_url: str, sim: SimulatorControl) -> None:
    before = scrape(gateway_url)
    with client(gateway_url) as sdk, pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=2000)
    after = scrape(gateway_url)

    assert sim.requests() == []  # refused by the gateway's own budget: Azure never heard of it
    refusal = {"budget": "deployment", "deployment": "mx/gpt-4o", "key": ""}
    assert moved(before, after, "gateway_admission_refusals_total", **refusal) == 1
    requests = {"endpoint": "chat/completions", "status": "429"}
    assert moved(before, after, "gateway_requests_total", **requests) == 1
    assert moved(before, after, "gateway_admissions_total", deployment="mx/gpt-4o") == 0


def test_no_client_key_appears_in_any_label(gateway_url: str, sim: SimulatorControl) -> None:
    with client(gateway_url) as sdk:
        sdk.chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES)
    text = httpx.get(f"{gateway_url}/metrics", headers=ADMIN, timeout=30).text
    assert all(key not in text for key in (*CLIENT_KEYS, ADMIN_KEY, SIMULATOR_KEY))


# -- several workers ------------------------------------------------------------------------------------------


@contextmanager
def served_with_two_workers(simulator: Simulator, tmp_path: Path, metrics_dir: Path) -> Iterator[str]:
    policy = (SHIPPED_CONFIG.parent / "../routes/policy.yaml").resolve()
    text = SHIPPED_CONFIG.read_text().replace("  policy: ../routes/policy.yaml", f"  policy: {policy}")
    text += f"\nlog: {{routing_log: {tmp_path / 'routing.log'}}}\n"
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    environ |= {
        "AZURE_OPENAI_ENDPOINT": simulator.url,
        "AZURE_OPENAI_API_KEY": SIMULATOR_KEY,
        "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS),
        "GATEWAY_ADMIN_KEYS": ADMIN_KEY,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    argv = ["serve", "--config", str(write_config(tmp_path, text)), "--port", str(port), "--workers", "2"]
    with subprocess.Popen(
        [sys.executable, "-m", "gateway", *argv],
        env=environ,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stderr is not None
        started = 0
        for line in process.stderr:  # until both workers have started
            started += "Application startup complete." in line
            if started == 2:
                break
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def requests_by_worker(metrics_dir: Path, scratch: Path) -> dict[str, float]:
    """Each worker's own count of requests, read from its file alone."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        alone = scratch / path.stem
        alone.mkdir(exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts[path.stem] = sum(
            sample.value
            for family in registry.collect()
            if family.name == "gateway_requests"
            for sample in family.samples
            if sample.name == "gateway_requests_total"
        )
    return counts


def test_two_workers_are_added_up_in_one_scrape(simulator: Simulator, sim: SimulatorControl, tmp_path: Path) -> None:
    metrics_dir, scratch = tmp_path / "metrics", tmp_path / "scratch"
    metrics_dir.mkdir()
    scratch.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous run's")  # emptied at start: never read
    with served_with_two_workers(simulator, tmp_path, metrics_dir) as url:
        assert not (metrics_dir / "counter_1.db").exists()
        sent = 0
        body = {"model": "gpt-4.1-mini", "messages": MESSAGES}
        headers = {"authorization": f"Bearer {CLIENT_KEYS[0]}"}
        # A new connection for each request, until both workers have answered some (which one accepts a
        # connection is the kernel's choice). A worker writes its counts to its file within a second of a
        # request (observe/metric_batches.py), so each round of requests is given that long to show.
        while len([count for count in requests_by_worker(metrics_dir, scratch).values() if count]) < 2:
            assert sent < 200, "one worker answered every request"
            for _ in range(10):
                response = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30)
                assert response.status_code == 200, response.text
                sent += 1
            until_written(lambda expected=sent: sum(requests_by_worker(metrics_dir, scratch).values()) == expected)
        for _ in range(4):  # whichever worker answers the scrape, it counts both
            samples = scrape(url)
            total = sum(value for (name, _), value in samples.items() if name == "gateway_requests_total")
            assert total == sent


def until_written(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the workers did not write their counts within the timeout"
        time.sleep(0.05)  # the workers' files have no change notification to await
