"""Azure's error bodies, as one exception type that carries its status, body and headers.

Handlers raise `SimulatorError`; the endpoint turns it into a response. The bodies copy what Azure
sends (see the wire reference): Azure-side errors use string codes like "404" or "DeploymentNotFound",
model-side validation errors use the OpenAI shape with `type` and `param`.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from gateway.simulator.catalog import AZURE_LABELS, OPERATION_IDS, Operation
from gateway.simulator.filters import blocked_prompt_result


class SimulatorError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, code: str, message: str) -> SimulatorError:
    return SimulatorError(status, {"error": {"code": code, "message": message}})


def resource_not_found() -> SimulatorError:
    return _error(404, "404", "Resource not found")


def api_version_not_supported() -> SimulatorError:
    return _error(400, "BadRequest", "API version not supported")


def unauthorized() -> SimulatorError:
    return _error(
        401,
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
        "key for an active subscription and use a correct regional API endpoint for your resource.",
    )


def deployment_not_found() -> SimulatorError:
    return _error(
        404,
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the deployment within the "
        "last 5 minutes, please wait a moment and try again.",
    )


def operation_not_supported(operation: Operation, model: str) -> SimulatorError:
    return _error(
        400,
        "OperationNotSupported",
        f"The {AZURE_LABELS[operation]} operation does not work with the specified model, {model}. "
        "Please choose different model and try again. You can learn more about which models can be used "
        "with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
    )


def bad_request(message: str, param: str | None = None, code: str = "BadRequest") -> SimulatorError:
    return SimulatorError(
        400, {"error": {"code": code, "message": message, "param": param, "type": "invalid_request_error"}}
    )


def missing(param: str) -> SimulatorError:
    return bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def invalid_value(param: str, detail: str) -> SimulatorError:
    return bad_request(f"Invalid value for '{param}': {detail}", param, "invalid_value")


def invalid_json() -> SimulatorError:
    return bad_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON.)",
        code="invalid_json",
    )


def _invalid_request(status: int, message: str, param: str | None, code: str | None) -> SimulatorError:
    # The Responses API answers in OpenAI's shape on Azure too, with null where OpenAI has no param or code.
    return SimulatorError(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    )


def response_not_found(response_id: str) -> SimulatorError:
    return _invalid_request(404, f"Response with id '{response_id}' not found.", None, None)


def previous_response_not_found(response_id: str) -> SimulatorError:
    return _invalid_request(
        400,
        f"Previous response with id '{response_id}' not found.",
        "previous_response_id",
        "previous_response_not_found",
    )


def unsupported_parameter(param: str) -> SimulatorError:
    return _invalid_request(
        400, f"Unsupported parameter: '{param}' is not supported with this model.", param, "unsupported_parameter"
    )


def not_cancellable() -> SimulatorError:
    return _invalid_request(400, "Only responses created with background=true can be cancelled.", None, None)


def content_filtered() -> SimulatorError:
    return SimulatorError(
        400,
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                "management policy. Please modify your prompt and retry. To learn more about our content "
                "filtering policies please read our documentation: "
                "https://go.microsoft.com/fwlink/?linkid=2198766",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": blocked_prompt_result(),
                },
            }
        },
    )


def fault_error(status: int, operation: Operation | None, api_version: str) -> SimulatorError:
    """What Azure sends for `status` when a fault asks for it without giving a body."""
    if status == 429:
        op = OPERATION_IDS[operation] if operation else "ChatCompletions_Create"
        message = (
            f"Requests to the {op} Operation under Azure OpenAI API version {api_version} have exceeded "
            "token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second. Please "
            "go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default "
            "rate limit."
        )
        error = _error(429, "429", message)
        error.headers.update({"retry-after": "1", "retry-after-ms": "1000", "x-ratelimit-remaining-tokens": "0"})
        return error
    known: dict[int, Callable[[], SimulatorError]] = {
        400: lambda: bad_request("The request is invalid."),
        401: unauthorized,
        404: resource_not_found,
        500: lambda: _error(
            500, "InternalServerError", "The server had an error while processing your request. Sorry about that!"
        ),
        503: lambda: _error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
    }
    if status in known:
        return known[status]()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return _error(status, str(status), phrase)
