from __future__ import annotations

import pytest

from gateway.simulator.catalog import Operation
from gateway.simulator.errors import SimulatorError
from gateway.simulator.urls import parse_target

GA, PREVIEW = "2024-10-21", "2025-04-01-preview"
DEPLOYMENTS = "/openai/deployments/d1/"


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
