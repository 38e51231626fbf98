from __future__ import annotations

import orjson

from gateway.errors import InvalidRequest, LimitsUnavailable, ModelNotFound, UpstreamError
from gateway.reply.headers import NONE_CHOSEN, error_response, gateway_headers


def test_gateway_headers_say_none_until_a_model_and_deployment_are_chosen() -> None:
    assert gateway_headers("req-1") == {
        "x-request-id": "req-1",
        "x-gateway-model": NONE_CHOSEN,
        "x-gateway-deployment": NONE_CHOSEN,
    }
    assert NONE_CHOSEN == "none"


def test_gateway_headers_name_the_chosen_model_and_deployment() -> None:
    assert gateway_headers("req-2", "gpt-4.1", "east/gpt-4.1") == {
        "x-request-id": "req-2",
        "x-gateway-model": "gpt-4.1",
        "x-gateway-deployment": "east/gpt-4.1",
    }


def test_a_model_chosen_before_any_deployment_is_named_alone() -> None:
    headers = gateway_headers("req-3", "gpt-4.1", None)
    assert (headers["x-gateway-model"], headers["x-gateway-deployment"]) == ("gpt-4.1", "none")
    assert gateway_headers("req-4", "", "")["x-gateway-model"] == "none"


def test_an_error_response_is_openai_shaped_with_its_status() -> None:
    response = error_response(ModelNotFound.named("gpt-9"), gateway_headers("req-1"))
    assert response.status_code == 404
    assert orjson.loads(response.body) == {
        "error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-1" and response.headers["x-gateway-model"] == "none"


def test_an_error_response_carries_the_errors_own_headers() -> None:
    response = error_response(LimitsUnavailable("Redis is away."), gateway_headers("req-1"))
    assert response.status_code == 503
    assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("1", "1000")
    assert response.headers["x-gateway-deployment"] == "none"


def test_the_gateways_headers_win_over_azures() -> None:
    azure = UpstreamError(500, b'{"error": {"message": "boom"}}', {"x-request-id": "azure", "apim-request-id": "a"})
    response = error_response(azure, gateway_headers("req-1", "gpt-4.1", "east/gpt-4.1"))
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["apim-request-id"] == "a"
    assert response.headers["x-gateway-deployment"] == "east/gpt-4.1"


def test_an_error_without_headers_of_its_own_carries_only_the_gateways() -> None:
    response = error_response(InvalidRequest("bad", param="messages"), {"x-request-id": "req-1"})
    names = {name for name, _ in response.headers.items()}
    assert names == {"x-request-id", "content-type", "content-length"}
    assert orjson.loads(response.body)["error"]["param"] == "messages"
