"""Azure's error bodies (errors.py), as built and as the openai SDK reads them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.simulator.catalog import Operation
from gateway.simulator.errors import (
    SimulatorError,
    bad_request,
    content_filtered,
    deployment_not_found,
    fault_error,
    invalid_json,
    invalid_value,
    missing,
    not_cancellable,
    operation_not_supported,
    previous_response_not_found,
    response_not_found,
    unauthorized,
    unsupported_parameter,
)
from tests.simulator.helpers import AUTH, CLASSIC, Live, add_fault, sdk_client

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say something."}]


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def test_500_default_body(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=500)
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalServerError"


def test_sdk_errors_map_to_its_exceptions(sdk: openai.OpenAI, live: Live) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="no-such-deployment", messages=MESSAGES)
    assert missing.value.code == "DeploymentNotFound"
    bad = openai.OpenAI(base_url=f"{live.url}/openai/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="gpt-4.1", messages=MESSAGES)


def test_the_error_carries_status_body_and_headers() -> None:
    error = SimulatorError(418, {"error": {"code": "x"}})
    assert (error.status, error.body, error.headers) == (418, {"error": {"code": "x"}}, {})
    assert str(error) == "418: {'error': {'code': 'x'}}"


def test_azure_side_errors_have_a_string_code_and_a_message_only() -> None:
    for error, status, code in [
        (unauthorized(), 401, "401"),
        (deployment_not_found(), 404, "DeploymentNotFound"),
        (operation_not_supported(Operation.SPEECH, "gpt-4.1"), 400, "OperationNotSupported"),
    ]:
        assert error.status == status
        assert set(error.body["error"]) == {"code", "message"}
        assert error.body["error"]["code"] == code
    message = operation_not_supported(Operation.IMAGE_EDITS, "whisper").body["error"]["message"]
    assert message.startswith("The imageEdit operation does not work with the specified model, whisper. ")


def test_model_side_errors_have_the_openai_shape() -> None:
    assert bad_request("Nope.").body == {
        "error": {"code": "BadRequest", "message": "Nope.", "param": None, "type": "invalid_request_error"}
    }
    assert missing("voice").body["error"] == {
        "code": "missing_required_parameter",
        "message": "Missing required parameter: 'voice'.",
        "param": "voice",
        "type": "invalid_request_error",
    }
    assert invalid_value("n", "0 is outside [1, 10].").body["error"]["message"] == (
        "Invalid value for 'n': 0 is outside [1, 10]."
    )
    assert (invalid_json().status, invalid_json().body["error"]["code"]) == (400, "invalid_json")


def test_content_filtered_names_the_prompt_and_the_category() -> None:
    error = content_filtered()
    body = error.body["error"]
    assert (error.status, body["code"], body["param"], body["status"]) == (400, "content_filter", "prompt", 400)
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["hate"] == {"filtered": True, "severity": "high"}


@pytest.mark.parametrize(
    ("operation", "op_id"),
    [
        (Operation.EMBEDDINGS, "Embeddings_Create"),
        (Operation.REALTIME, "Realtime_Connect"),
        (None, "ChatCompletions_Create"),  # the models listing belongs to no operation
    ],
)
def test_fault_429_quotes_the_operation_and_version(operation: Operation | None, op_id: str) -> None:
    error = fault_error(429, operation, "2024-10-21")
    assert error.status == 429
    assert error.body["error"]["code"] == "429"
    assert error.body["error"]["message"].startswith(
        f"Requests to the {op_id} Operation under Azure OpenAI API version 2024-10-21 have exceeded"
    )
    assert error.headers == {"retry-after": "1", "retry-after-ms": "1000", "x-ratelimit-remaining-tokens": "0"}


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, "BadRequest", "The request is invalid."),
        (401, "401", None),
        (404, "404", "Resource not found"),
        (503, "ServiceUnavailable", None),
        (418, "418", "I'm a Teapot"),
        (502, "502", "Bad Gateway"),
        (599, "599", "Error"),
    ],
)
def test_fault_statuses_get_azures_body_or_the_status_phrase(status: int, code: str, message: str | None) -> None:
    error = fault_error(status, Operation.CHAT, "v1")
    assert error.status == status
    assert error.body["error"]["code"] == code
    if message is not None:
        assert error.body["error"]["message"] == message
    assert error.headers == {}


def test_each_fault_error_is_a_new_one() -> None:
    first = fault_error(429, Operation.CHAT, "v1")
    first.headers["retry-after"] = "99"
    assert fault_error(429, Operation.CHAT, "v1").headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("error", "status", "message", "param", "code"),
    [
        (response_not_found("resp_1"), 404, "Response with id 'resp_1' not found.", None, None),
        (
            previous_response_not_found("resp_1"),
            400,
            "Previous response with id 'resp_1' not found.",
            "previous_response_id",
            "previous_response_not_found",
        ),
        (
            unsupported_parameter("reasoning.effort"),
            400,
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            "reasoning.effort",
            "unsupported_parameter",
        ),
        (not_cancellable(), 400, "Only responses created with background=true can be cancelled.", None, None),
    ],
)
def test_responses_api_errors_have_openais_shape(
    error: SimulatorError, status: int, message: str, param: str | None, code: str | None
) -> None:
    assert error.status == status
    assert error.body == {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
