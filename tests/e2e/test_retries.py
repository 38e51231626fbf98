"""Retries, fallbacks and deployment health, against the simulator's injected faults on real sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import Gateway, GatewayFactory
from tests.e2e.test_errors import assert_openai_error, post
from tests.e2e.test_media import wav_bytes
from tests.support.servers import free_port
from tests.support.simulator_control import SimulatorControl

MESSAGES = [{"role": "user", "content": "hello"}]
FAST_RETRIES = "retries: {backoff_initial_seconds: 0.01, backoff_max_seconds: 0.05}"


def two_deployments(extra: str = "", *, first: str = "gpt-4.1", first_resource: str = "sim") -> str:
    """gpt-4.1 on two deployments: `first` is always tried first (priority 0), gpt-4.1-b second."""
    return f"""
{extra}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  gone: {{endpoint: "http://127.0.0.1:{free_port()}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: {first}, model: gpt-4.1, resource: {first_resource}, priority: 0}}
  - {{name: gpt-4.1-b, model: gpt-4.1, resource: sim, priority: 1}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim}}
"""


def chat(gateway: Gateway, **extra: object) -> httpx.Response:
    return post(gateway, "/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES, **extra})


def attempts_of(gateway: Gateway, response: httpx.Response) -> list[dict[str, object]]:
    line = gateway.log_line(response.headers["x-request-id"])
    attempts = line["attempts"]
    assert isinstance(attempts, list)
    assert response.headers["x-gateway-attempts"] == str(len(attempts))
    return attempts


def test_429_moves_to_the_next_deployment_at_once(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "5000", "retry-after": "5"})
    with make_gateway(two_deployments()) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        assert response.headers["x-gateway-deployment"] == "sim/gpt-4.1-b"
        first, second = attempts_of(gateway, response)
        assert (first["deployment"], first["status"], first["billed"]) == ("sim/gpt-4.1", 429, False)
        assert (second["deployment"], second["status"], second["waited_ms"]) == ("sim/gpt-4.1-b", 200, 0.0)
        # The throttled deployment cools down: the next request goes straight to the other one.
        again = chat(gateway)
        assert [a["deployment"] for a in attempts_of(gateway, again)] == ["sim/gpt-4.1-b"]


def test_with_one_deployment_the_wait_honours_retry_after_ms(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "250", "retry-after": "1"})
    config = """
resources:
  sim: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments: [{name: gpt-4.1, model: gpt-4.1, resource: sim}]
"""
    with make_gateway(config) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        first, second = attempts_of(gateway, response)
        assert first["status"] == 429 and second["status"] == 200
        assert second["waited_ms"] == 250.0  # retry-after-ms wins over retry-after


def test_500_then_503_are_retried_with_backoff(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=500, times=1)
    sim.add_fault(deployment="gpt-4.1", status=503, times=1, headers={"retry-after-ms": None, "retry-after": None})
    config = f"""
{FAST_RETRIES}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments: [{{name: gpt-4.1, model: gpt-4.1, resource: sim}}]
"""
    with make_gateway(config) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        statuses = [attempt["status"] for attempt in attempts_of(gateway, response)]
        assert statuses == [500, 503, 200]
        waits = [attempt["waited_ms"] for attempt in attempts_of(gateway, response)]
        assert waits[0] == 0 and all(0 <= wait <= 50 for wait in waits[1:])  # type: ignore[operator]


def test_other_4xx_are_not_retried(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=400, times=1)
    with make_gateway(two_deployments()) as gateway:
        response = chat(gateway)
        assert_openai_error(response, 400)
        assert len(attempts_of(gateway, response)) == 1


def test_connection_refused_goes_to_the_next_deployment(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with make_gateway(two_deployments(first="gpt-4.1", first_resource="gone")) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        first, second = attempts_of(gateway, response)
        assert (first["deployment"], first["status"], first["error"]) == ("gone/gpt-4.1", None, "upstream_unreachable")
        assert second["deployment"] == "sim/gpt-4.1-b"


@pytest.fixture
def unanswering_port() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops new SYNs, so connecting hangs until timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_connect_timeout_goes_to_the_next_deployment(
    make_gateway: GatewayFactory, sim: SimulatorControl, unanswering_port: int
) -> None:
    config = f"""
upstream: {{connect_timeout_seconds: 0.3}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  stuck: {{endpoint: "http://127.0.0.1:{unanswering_port}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: stuck, priority: 0}}
  - {{name: gpt-4.1-b, model: gpt-4.1, resource: sim, priority: 1}}
"""
    with make_gateway(config) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        first, second = attempts_of(gateway, response)
        assert first["deployment"] == "stuck/gpt-4.1" and first["error"] in ("upstream_timeout", "upstream_unreachable")
        assert second["status"] == 200


def test_read_timeout_goes_to_the_next_deployment(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", delay_ms=3000)
    with make_gateway(two_deployments("upstream: {read_timeout_seconds: 0.3}")) as gateway:
        response = chat(gateway)
        assert response.status_code == 200, response.text
        first, second = attempts_of(gateway, response)
        assert (first["error"], second["deployment"]) == ("upstream_timeout", "sim/gpt-4.1-b")


def test_stream_cut_mid_answer_is_an_error_event_and_never_retried(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", cut_after_chunks=2)
    with (
        make_gateway(two_deployments()) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        stream = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        request_id = stream.response.headers["x-request-id"]
        with pytest.raises(openai.APIError):
            list(stream)
        line = gateway.log_line(request_id)
        assert line["error"] and "interrupted" in str(line["error"])
        assert [a["deployment"] for a in line["attempts"]] == ["sim/gpt-4.1"]  # type: ignore[union-attr]


def test_stall_before_the_first_chunk_fails_over(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", stall_before_first_chunk_ms=5000)
    with (
        make_gateway(two_deployments("retries: {first_chunk_timeout_seconds: 0.3}")) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        stream = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text
        assert stream.response.headers["x-gateway-deployment"] == "sim/gpt-4.1-b"
        first, second = gateway.log_line(stream.response.headers["x-request-id"])["attempts"]  # type: ignore[misc]
        # Azure accepted the first request and may bill it, so it is counted as billed.
        assert (first["error"], first["billed"], second["billed"]) == ("upstream_first_chunk_timeout", True, True)


def test_content_filter_block_comes_back_unchanged(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with make_gateway(two_deployments()) as gateway:
        response = post(
            gateway,
            "/v1/chat/completions",
            json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "forbidden-content please"}]},
        )
        error = assert_openai_error(response, 400, "content_filter")
        assert "innererror" in error or "content_filter_result" in str(response.json())
        assert len(attempts_of(gateway, response)) == 1


def policy_config(tmp_path: Path, extra: str = "") -> str:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """
start: leaf
nodes:
  leaf: {models: [gpt-4.1]}
fallbacks:
  on_failure: {gpt-4.1: [gpt-4.1-mini]}
  on_context_length: {gpt-35-turbo: [gpt-35-turbo-16k]}
"""
    )
    return f"""
{extra}
routing: {{policy: {policy}}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-b, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim}}
  - {{name: gpt-35-turbo, model: gpt-35-turbo, resource: sim, context_window: 100000}}
  - {{name: gpt-35-turbo-16k, model: gpt-35-turbo-16k, resource: sim}}
"""


def test_context_length_error_falls_back_to_a_larger_model(
    make_gateway: GatewayFactory, sim: SimulatorControl, tmp_path: Path
) -> None:
    sim.add_fault(
        deployment="gpt-35-turbo",
        status=400,
        body={"error": {"code": "context_length_exceeded", "message": "too long", "param": "messages"}},
    )
    with make_gateway(policy_config(tmp_path)) as gateway:
        response = post(gateway, "/v1/chat/completions", json={"model": "gpt-35-turbo", "messages": MESSAGES})
        assert response.status_code == 200, response.text
        assert response.headers["x-gateway-model"] == "gpt-35-turbo-16k"
        first, second = attempts_of(gateway, response)
        assert (first["model"], first["error"]) == ("gpt-35-turbo", "context_length_exceeded")
        assert second["model"] == "gpt-35-turbo-16k"


def test_a_model_down_everywhere_falls_back_to_the_next_model(
    make_gateway: GatewayFactory, sim: SimulatorControl, tmp_path: Path
) -> None:
    for deployment in ("gpt-4.1", "gpt-4.1-b"):
        sim.add_fault(deployment=deployment, status=503, times=-1)
    with make_gateway(policy_config(tmp_path, FAST_RETRIES)) as gateway:
        response = post(gateway, "/v1/chat/completions", json={"model": "auto", "messages": MESSAGES})
        assert response.status_code == 200, response.text
        assert response.headers["x-gateway-model"] == "gpt-4.1-mini"
        attempts = attempts_of(gateway, response)
        assert sorted(a["deployment"] for a in attempts[:2]) == ["sim/gpt-4.1", "sim/gpt-4.1-b"]
        assert attempts[2]["model"] == "gpt-4.1-mini" and attempts[2]["status"] == 200


def test_every_deployment_down_returns_the_last_error(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    for deployment in ("gpt-4.1", "gpt-4.1-b"):
        sim.add_fault(deployment=deployment, status=503, times=-1, headers={"retry-after": "1"})
    config = two_deployments("retries: {max_attempts: 4, max_wait_seconds: 0.5}")
    with make_gateway(config) as gateway:
        response = chat(gateway)
        assert_openai_error(response, 503)
        assert response.headers["retry-after"] == "1"  # a wait of 1 s is beyond max_wait: the client gets it
        assert len(attempts_of(gateway, response)) == 2


def test_a_failing_deployment_opens_its_breaker_and_is_skipped(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", status=500, times=-1)
    config = two_deployments("health: {consecutive_failures: 2, open_seconds: 60}")
    with make_gateway(config) as gateway:
        for _ in range(2):
            assert chat(gateway).status_code == 200
        third = chat(gateway)
        assert [a["deployment"] for a in attempts_of(gateway, third)] == ["sim/gpt-4.1-b"]
        status = httpx.get(
            f"{gateway.url}/gateway/deployments", headers={"authorization": f"Bearer {gateway.admin_key}"}
        ).json()
        rows = {row["id"]: row for row in status["data"]}
        assert rows["sim/gpt-4.1"]["state"] == "open" and rows["sim/gpt-4.1"]["until"]
        assert rows["sim/gpt-4.1-b"]["state"] == "healthy"


def test_deployments_endpoint_shows_remaining_budget(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    config = """
resources:
  sim: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments: [{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: 10000}]
"""
    with make_gateway(config) as gateway:
        headers = {"authorization": f"Bearer {gateway.admin_key}"}
        assert chat(gateway, max_tokens=20).status_code == 200
        (row,) = httpx.get(f"{gateway.url}/gateway/deployments", headers=headers).json()["data"]
        assert row["limit_tokens"] == 10000 and 0 < row["remaining_tokens"] < 10000
        assert row["limit_requests"] == 60 and row["remaining_requests"] == 59
        assert httpx.get(f"{gateway.url}/gateway/deployments").status_code == 401


def test_the_client_timeout_caps_the_wait(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "3000"})
    config = """
resources:
  sim: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments: [{name: gpt-4.1, model: gpt-4.1, resource: sim}]
"""
    with make_gateway(config) as gateway:
        response = post(
            gateway,
            "/v1/chat/completions",
            json={"model": "gpt-4.1", "messages": MESSAGES},
            headers={"x-stainless-read-timeout": "1"},
        )
        assert_openai_error(response, 429)
        assert response.headers["retry-after-ms"] == "3000"
        assert len(attempts_of(gateway, response)) == 1


def test_a_transcription_falls_back_to_whisper_adapted_for_it(
    make_gateway: GatewayFactory, sim: SimulatorControl, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """
start: leaf
nodes:
  leaf: {models: [gpt-4o-transcribe]}
fallbacks:
  on_failure: {gpt-4o-transcribe: [gpt-4o-mini-transcribe, whisper]}
"""
    )
    config = f"""
{FAST_RETRIES}
routing: {{policy: {policy}}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4o-transcribe, model: gpt-4o-transcribe, resource: sim}}
  - {{name: gpt-4o-mini-transcribe, model: gpt-4o-mini-transcribe, resource: sim}}
  - {{name: whisper, model: whisper, resource: sim}}
"""
    for deployment in ("gpt-4o-transcribe", "gpt-4o-mini-transcribe"):
        sim.add_fault(deployment=deployment, status=503, times=-1)
    with (
        make_gateway(config) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        raw = client.audio.transcriptions.with_raw_response.create(
            model="gpt-4o-transcribe", file=("clip.wav", wav_bytes(), "audio/wav"), include=["logprobs"]
        )
        assert raw.headers["x-gateway-model"] == "whisper"
        assert raw.parse().text
        attempts = gateway.log_line(raw.headers["x-request-id"])["attempts"]
        assert [a["model"] for a in attempts] == ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper"]  # type: ignore[index]
        assert any("include" in change for change in attempts[-1]["changes"])  # type: ignore[index]
        form = sim.last_request()["form"]
        assert sim.last_request()["deployment"] == "whisper" and "include[]" not in form
