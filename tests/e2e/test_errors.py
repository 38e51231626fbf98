"""Every failure reaches the client as an OpenAI-shaped error with the right status, and nothing half-done."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import Gateway, GatewayFactory
from tests.support.servers import free_port
from tests.support.simulator_control import SimulatorControl

MESSAGES = [{"role": "user", "content": "hello"}]
GATEWAY_HEADERS = ("x-request-id", "x-gateway-model", "x-gateway-deployment")


def assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    for name in GATEWAY_HEADERS:
        assert response.headers[name]
    assert "Traceback" not in response.text
    return dict(error)


def post(gateway: Gateway, path: str, key: str | None = "default", **kwargs: object) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
    if key is not None:
        headers["authorization"] = f"Bearer {gateway.client_key if key == 'default' else key}"
    return httpx.post(f"{gateway.url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_missing_or_wrong_client_key_is_401(gateway: Gateway, sim: SimulatorControl, key: str | None) -> None:
    response = post(gateway, "/v1/chat/completions", key=key, json={"model": "gpt-4.1", "messages": MESSAGES})
    assert_openai_error(response, 401, "invalid_api_key")
    assert sim.requests() == []


def test_sdk_sees_authentication_error(gateway: Gateway) -> None:
    with (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="wrong", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError),
    ):
        sdk.models.list()


def test_unknown_model_is_404_model_not_found(client: openai.OpenAI, sim: SimulatorControl) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.code == "model_not_found"
    assert caught.value.response.headers["x-gateway-model"] == "none"
    assert sim.requests() == []


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b'{"model": "gpt-4.1", "messages": [', "application/json", "invalid_json"),
        (b'{"model": "gpt-4.1"}', "application/json", "missing_required_parameter"),
        (b"model=gpt-4.1", "application/x-www-form-urlencoded", "invalid_content_type"),
    ],
)
def test_bad_json_requests_are_400(
    gateway: Gateway, sim: SimulatorControl, content: bytes, content_type: str, code: str
) -> None:
    response = post(gateway, "/v1/chat/completions", content=content, headers={"content-type": content_type})
    assert_openai_error(response, 400, code)
    assert sim.requests() == []


def test_transcription_without_file_is_400(gateway: Gateway, sim: SimulatorControl) -> None:
    response = post(gateway, "/v1/audio/transcriptions", data={"model": "whisper"}, files={"x": ("a", b"1")})
    error = assert_openai_error(response, 400, "missing_required_parameter")
    assert error["param"] == "file"
    assert sim.requests() == []


def test_unknown_path_and_wrong_method_are_openai_errors(gateway: Gateway) -> None:
    assert_openai_error(post(gateway, "/v1/assistants", json={}), 404)
    assert_openai_error(httpx.get(f"{gateway.url}/v1/chat/completions"), 405)


# One deployment, no retries: what Azure answered is what the client gets.
NO_RETRIES = """
retries: {max_attempts: 1}
resources:
  azure: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments: [{name: gpt-4.1, model: gpt-4.1, resource: azure}]
"""


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0)


def test_azure_error_status_and_body_come_back(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "1500", "retry-after": "2"})
    with make_gateway(NO_RETRIES) as gateway, sdk(gateway) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)  # type: ignore[arg-type]
    response = caught.value.response
    assert response.headers["retry-after-ms"] == "1500"
    assert response.headers["x-gateway-deployment"] == "azure/gpt-4.1"
    error = response.json()["error"]
    assert error["code"] == "429" and error["type"] == "rate_limit_error" and error["param"] is None


def test_content_filter_block_is_azures_error_unchanged(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "forbidden-content"}])
    error = caught.value.response.json()["error"]
    assert error["code"] == "content_filter"
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert "content_filter_result" in error["innererror"]


def test_upstream_dropping_the_connection_is_502(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", drop_connection=True)
    with (
        make_gateway(NO_RETRIES) as gateway,
        sdk(gateway) as client,
        pytest.raises(openai.InternalServerError) as caught,
    ):
        client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_unreachable"


def test_unreachable_azure_is_502(make_gateway: GatewayFactory) -> None:
    config = f"""
retries: {{max_attempts: 1}}
resources:
  gone: {{endpoint: "http://127.0.0.1:{free_port()}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments: [{{name: gpt-4.1, model: gpt-4.1, resource: gone}}]
"""
    with make_gateway(config) as gateway:
        response = post(gateway, "/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
        assert_openai_error(response, 502, "upstream_unreachable")
        assert gateway.log_lines()[-1]["status"] == 502


def test_slow_azure_is_504(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    config = """
upstream: {read_timeout_seconds: 0.3}
retries: {max_attempts: 1}
resources:
  slow: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments: [{name: gpt-4.1, model: gpt-4.1, resource: slow}]
"""
    sim.add_fault(deployment="gpt-4.1", delay_ms=3000)
    with make_gateway(config) as gateway:
        response = post(gateway, "/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
        assert_openai_error(response, 504, "upstream_timeout")


def test_bodies_over_the_limits_are_413_before_azure_sees_them(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    config = """
limits: {json_bytes: 2000, audio_bytes: 3000, image_bytes: 4000}
resources:
  sim: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: sim}
  - {name: whisper, model: whisper, resource: sim}
  - {name: gpt-image-1, model: gpt-image-1, resource: sim}
"""
    big_message = [{"role": "user", "content": "x" * 3000}]
    with make_gateway(config) as gateway:
        assert_openai_error(
            post(gateway, "/v1/chat/completions", json={"model": "gpt-4.1", "messages": big_message}), 413
        )
        audio = {"file": ("a.wav", b"\x00" * 3500, "audio/wav")}
        assert_openai_error(post(gateway, "/v1/audio/transcriptions", data={"model": "whisper"}, files=audio), 413)
        image = {"image": ("a.png", b"\x89PNG" + b"\x00" * 4500, "image/png")}
        form = {"model": "gpt-image-1", "prompt": "p"}
        assert_openai_error(post(gateway, "/v1/images/edits", data=form, files=image), 413)

        def chunked() -> object:
            yield b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "'
            yield b"y" * 2500
            yield b'"}]}'

        undeclared = post(
            gateway, "/v1/chat/completions", content=chunked(), headers={"content-type": "application/json"}
        )
        assert_openai_error(undeclared, 413)
        # Under the limit still works.
        small = post(gateway, "/v1/audio/transcriptions", data={"model": "whisper"}, files={"file": ("a.wav", b"1")})
        assert small.status_code == 200
        assert [seen["path"] for seen in sim.requests()] == ["/openai/deployments/whisper/audio/transcriptions"]
