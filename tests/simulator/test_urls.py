"""Which operation, deployment and API version a URL names (urls.py), as a function and through the app."""

from __future__ import annotations

import httpx
import pytest

from gateway.simulator.catalog import Operation
from gateway.simulator.errors import SimulatorError
from gateway.simulator.urls import Followup, dated_version, parse_target
from tests.simulator.helpers import AUTH

GA, PREVIEW = "2024-10-21", "2025-04-01-preview"
DEPLOYMENTS = "/openai/deployments/d1/"
CHAT_BODY = {"messages": [{"role": "user", "content": "hello"}]}


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("POST", DEPLOYMENTS + "chat/completions", {"api-version": GA}, (Operation.CHAT, "d1", GA, False)),
        ("POST", DEPLOYMENTS + "audio/speech", {"api-version": PREVIEW}, (Operation.SPEECH, "d1", PREVIEW, False)),
        ("POST", DEPLOYMENTS + "images/edits", {"api-version": PREVIEW}, (Operation.IMAGE_EDITS, "d1", PREVIEW, False)),
        ("POST", "/openai/v1/embeddings", {}, (Operation.EMBEDDINGS, None, "v1", True)),
        (
            "POST",
            "/openai/v1/audio/translations",
            {"api-version": "preview"},
            (Operation.TRANSLATIONS, None, "preview", True),
        ),
        ("GET", "/openai/v1/models", {}, (None, None, "v1", True)),
        ("GET", "/openai/models", {"api-version": GA}, (None, None, GA, False)),
    ],
)
def test_parses_both_url_styles(
    method: str, path: str, query: dict[str, str], expected: tuple[Operation | None, str | None, str, bool]
) -> None:
    target = parse_target(method, path, query)
    assert (target.operation, target.deployment, target.api_version, target.v1) == expected


def test_model_id_is_taken_from_the_models_path() -> None:
    assert parse_target("GET", "/openai/v1/models/gpt-4.1", {}).model_id == "gpt-4.1"


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "code"),
    [
        ("POST", "/openai/deployments/d1/chat/completions", {}, 404, "404"),
        ("POST", "/openai/deployments/d1/chat/completions", {"api-version": "latest"}, 400, "BadRequest"),
        ("POST", "/openai/deployments/d1/chat/completions", {"api-version": "2024-10-21-beta"}, 400, "BadRequest"),
        ("POST", "/openai/v1/chat/completions", {"api-version": "2024-10-21"}, 400, "BadRequest"),
        ("POST", "/openai/deployments/d1/moderations", {"api-version": "2024-10-21"}, 404, "404"),
        ("GET", "/openai/deployments/d1/chat/completions", {"api-version": "2024-10-21"}, 404, "404"),
        ("POST", "/openai/v1/realtime", {}, 404, "404"),
        ("POST", "/v1/chat/completions", {}, 404, "404"),
        ("GET", "/openai/models", {}, 404, "404"),
        ("POST", "/openai/deployments//chat/completions", {"api-version": "2024-10-21"}, 404, "404"),
    ],
)
def test_rejects_like_azure(method: str, path: str, query: dict[str, str], status: int, code: str) -> None:
    with pytest.raises(SimulatorError) as caught:
        parse_target(method, path, query)
    assert caught.value.status == status
    assert caught.value.body["error"]["code"] == code


@pytest.mark.parametrize("version", ["v1", "preview"])
async def test_v1_accepts_its_own_api_versions(client: httpx.AsyncClient, version: str) -> None:
    response = await client.post(
        f"/openai/v1/chat/completions?api-version={version}", json={**CHAT_BODY, "model": "gpt-4"}, headers=AUTH
    )
    assert response.status_code == 200


async def test_missing_api_version_is_resource_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/openai/deployments/gpt-4/chat/completions", json=CHAT_BODY, headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


async def test_malformed_api_version_is_not_supported(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/openai/deployments/gpt-4/chat/completions?api-version=2024-1-1", json=CHAT_BODY, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": "API version not supported"}}


def test_models_path_without_an_id_names_none_and_a_nested_id_is_not_found() -> None:
    assert parse_target("GET", "/openai/models/", {"api-version": GA}).model_id is None
    assert parse_target("GET", "/openai/models/whisper", {"api-version": GA}).model_id == "whisper"
    with pytest.raises(SimulatorError) as caught:
        parse_target("GET", "/openai/v1/models/a/b", {})
    assert caught.value.status == 404


def test_v1_checks_the_route_before_the_version() -> None:
    # An unknown v1 operation is a 404 whatever the version; a known one with a dated version is a 400.
    with pytest.raises(SimulatorError) as unknown:
        parse_target("POST", "/openai/v1/moderations", {"api-version": GA})
    assert unknown.value.status == 404
    with pytest.raises(SimulatorError) as dated:
        parse_target("GET", "/openai/v1/models", {"api-version": GA})
    assert dated.value.status == 400


@pytest.mark.parametrize("version", ["2024-10-21", "2025-04-01-preview"])
def test_dated_version_accepts_dates_with_an_optional_preview(version: str) -> None:
    assert dated_version({"api-version": version}) == version


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/openai/v1/responses", {}, ("v1", True)),
        ("/openai/v1/responses", {"api-version": "preview"}, ("preview", True)),
        ("/openai/responses", {"api-version": PREVIEW}, (PREVIEW, False)),
        ("/openai/responses", {"api-version": "2025-03-01-preview"}, ("2025-03-01-preview", False)),
    ],
)
def test_responses_belong_to_no_deployment_in_either_style(
    path: str, query: dict[str, str], expected: tuple[str, bool]
) -> None:
    target = parse_target("POST", path, query)
    assert (target.operation, target.deployment, target.response_id, target.followup) == (
        Operation.RESPONSES,
        None,
        None,
        None,
    )
    assert (target.api_version, target.v1) == expected


@pytest.mark.parametrize("prefix", ["/openai/v1/responses/resp_1", "/openai/responses/resp_1"])
@pytest.mark.parametrize(
    ("method", "suffix", "followup"),
    [
        ("GET", "", Followup.RETRIEVE),
        ("DELETE", "", Followup.DELETE),
        ("POST", "/cancel", Followup.CANCEL),
        ("GET", "/input_items", Followup.INPUT_ITEMS),
    ],
)
def test_follow_ups_name_the_response_and_what_to_do(prefix: str, method: str, suffix: str, followup: Followup) -> None:
    target = parse_target(method, prefix + suffix, {"api-version": PREVIEW} if "/v1/" not in prefix else {})
    assert (target.operation, target.response_id, target.followup) == (Operation.RESPONSES, "resp_1", followup)


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [
        # Azure has no deployment route for the Responses API.
        ("POST", DEPLOYMENTS + "responses", {"api-version": PREVIEW}, 404),
        # A dated version from before the Responses API has no such route.
        ("POST", "/openai/responses", {"api-version": GA}, 404),
        ("POST", "/openai/responses", {}, 404),
        ("POST", "/openai/responses", {"api-version": "latest"}, 400),
        ("POST", "/openai/v1/responses", {"api-version": PREVIEW}, 400),
        ("GET", "/openai/v1/responses", {}, 404),
        ("POST", "/openai/v1/responses/resp_1", {}, 404),
        ("GET", "/openai/v1/responses/resp_1/cancel", {}, 404),
        ("DELETE", "/openai/v1/responses/resp_1/input_items", {}, 404),
        ("GET", "/openai/v1/responses/resp_1/other", {}, 404),
        ("GET", "/openai/v1/responses/", {}, 404),
        ("GET", "/openai/responses/resp_1", {"api-version": "2024-12-01-preview"}, 404),
    ],
)
def test_responses_urls_azure_does_not_serve(method: str, path: str, query: dict[str, str], status: int) -> None:
    with pytest.raises(SimulatorError) as caught:
        parse_target(method, path, query)
    assert caught.value.status == status
