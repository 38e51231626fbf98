"""POST /gateway/explain/v1/<endpoint> through the app, with the shipped config and its routing policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.upstream.client import UpstreamRequest
from gateway.upstream.response import UpstreamResponse
from tests.admin._app import (
    AUTH,
    NOWHERE,
    assert_gateway_headers,
    assert_openai_error,
    config_from,
    services_of,
    shipped,
    started,
)
from tests.support.cost_policy import COST_POLICY, COSTLY_TEXT
from tests.support.gateway_config import write_config

CHAT = "/gateway/explain/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Fix this bug"}]
REPORT_KEYS = {
    "requested_model", "model", "leaf", "features", "prompt_tokens", "token_counts", "path", "notes", "deployment",
    "upstream_url",
}  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with started(*shipped(tmp_path_factory.mktemp("explain"))) as started_client:
        yield started_client


@pytest.fixture(autouse=True)
def azure_untouched(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Azure, as far as these tests go: every call the gateway's upstream client makes is noted (and goes on to
    the unreachable Azure); explain must make none."""
    upstream = services_of(client).upstream
    send = upstream.send
    sent: list[UpstreamRequest] = []

    async def noted_send(request: UpstreamRequest, time_left: float | None = None) -> UpstreamResponse:
        sent.append(request)
        return await send(request, time_left)

    monkeypatch.setattr(upstream, "send", noted_send)
    yield
    assert not sent, f"explain sent a request to Azure: {sent}"


def test_a_named_model_is_explained_without_walking_the_tree(client: TestClient) -> None:
    response = client.post(CHAT, headers=AUTH, json={"model": "gpt-4.1", "messages": MESSAGES})
    assert response.status_code == 200, response.text
    report = response.json()
    assert set(report) == REPORT_KEYS
    assert (report["requested_model"], report["model"], report["leaf"]) == ("gpt-4.1", "gpt-4.1", None)
    assert (report["path"], report["notes"]) == ([], [])
    assert report["deployment"] == "azure/gpt-4.1"
    assert report["upstream_url"] == (
        f"{NOWHERE}/openai/deployments/gpt-4.1/chat/completions?api-version=2025-04-01-preview"
    )
    assert report["prompt_tokens"] > 0 and report["token_counts"] == {"o200k_base": report["prompt_tokens"]}
    assert report["features"]["operation"] == "chat/completions" and report["features"]["stream"] is False
    assert_gateway_headers(response, "gpt-4.1", "azure/gpt-4.1")


def test_auto_walks_the_policy_and_says_why(client: TestClient) -> None:
    response = client.post(
        CHAT,
        headers={**AUTH, "x-route-task": "code", "x-route-cost": "low"},
        json={"model": "auto", "messages": MESSAGES, "stream": True},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["requested_model"], report["model"]) == ("auto", "gpt-4.1-mini")
    assert report["leaf"] and report["deployment"] == "azure/gpt-4.1-mini"
    assert report["features"]["task_class_source"] == "X-Route-Task header"
    assert report["features"]["cost"] == "low" and report["features"]["stream"] is True
    assert report["path"] and all(step["node"] and step["answer"] and step["reason"] for step in report["path"])
    assert_gateway_headers(response, "gpt-4.1-mini", "azure/gpt-4.1-mini")


def test_explain_says_which_turn_of_a_conversation_decided_and_why(client: TestClient) -> None:
    conversation = [
        {"role": "system", "content": "You are a friendly poet."},
        {"role": "user", "content": "Why does this throw?\n```python\nprint(1 / 0)\n```"},
        {"role": "assistant", "content": "Dividing by zero raises ZeroDivisionError."},
        {"role": "user", "content": "now make it return None instead"},
    ]
    report = client.post(CHAT, headers=AUTH, json={"model": "auto", "messages": conversation}).json()
    assert report["model"] == "gpt-4.1"
    reason = report["features"]["task_class_reason"]
    assert reason.startswith("user turn 1 of 2, which the last (“now make it return None instead”) follows up: ")
    assert "code block" in reason
    coding_step = next(step for step in report["path"] if step["node"] == "coding")
    assert reason in coding_step["reason"]
    switched = [*conversation, {"role": "assistant", "content": "Done."}, {"role": "user", "content": "Write me a "
                "limerick about division by zero"}]  # fmt: skip
    report = client.post(CHAT, headers=AUTH, json={"model": "auto", "messages": switched}).json()
    assert report["model"] == "gpt-4.5-preview"
    assert report["features"]["task_class_reason"].startswith("the last user turn (3 of 3): asks for creative writing")


def test_what_a_request_needs_and_each_model_passed_over_are_explained(client: TestClient) -> None:
    # What client.chat.completions.parse(model="auto", response_format=Person) sends.
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    response_format = {"type": "json_schema", "json_schema": {"name": "Person", "schema": schema, "strict": True}}
    response = client.post(
        CHAT,
        headers={**AUTH, "x-route-task": "general"},
        json={
            "model": "auto",
            "messages": [{"role": "user", "content": "Ada, 36"}],
            "response_format": response_format,
        },
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["model"], report["features"]["needs"]) == ("gpt-4.1", ["json_schema"])
    assert "gpt-35-turbo skipped: no structured outputs (json_schema)" in report["notes"]
    assert "gpt-4-32k skipped: no structured outputs (json_schema)" in report["notes"]


def test_a_responses_request_is_explained(client: TestClient) -> None:
    response = client.post(
        "/gateway/explain/v1/responses",
        headers={**AUTH, "x-route-task": "general"},
        json={"model": "auto", "input": "Summarise our refund policy", "instructions": "Be brief."},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["model"] == "gpt-4.1" and report["features"]["needs"] == ["responses_api"]
    assert report["features"]["task"] == "chat" and report["features"]["operation"] == "responses"
    assert "gpt-35-turbo skipped: no Responses API" in report["notes"]
    assert report["upstream_url"] == f"{NOWHERE}/openai/responses?api-version=2025-04-01-preview"


def test_a_need_no_model_of_the_policy_has_is_a_no_route_400(client: TestClient) -> None:
    response = client.post(CHAT, headers=AUTH, json={"model": "auto", "messages": MESSAGES, "reasoning_effort": "low"})
    error = assert_openai_error(response, 400, "no_route")
    assert error["message"].endswith("can serve it: no reasoning (reasoning_effort / reasoning).")
    assert error["param"] == "reasoning_effort"
    assert_gateway_headers(response)


def test_a_multipart_upload_is_explained_with_its_hint_headers(client: TestClient) -> None:
    response = client.post(
        "/gateway/explain/v1/audio/transcriptions",
        headers={**AUTH, "x-route-latency": "low"},
        data={"model": "auto"},
        files={"file": ("a.wav", b"RIFF0000", "audio/wav")},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["model"] == "gpt-4o-mini-transcribe"
    assert report["features"]["latency"] == "low"
    assert report["upstream_url"].startswith(
        f"{NOWHERE}/openai/deployments/gpt-4o-mini-transcribe/audio/transcriptions?"
    )
    assert_gateway_headers(response, "gpt-4o-mini-transcribe", "azure/gpt-4o-mini-transcribe")


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}])
def test_a_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(CHAT, headers=headers, json={"model": "gpt-4.1", "messages": MESSAGES})
    assert_openai_error(response, 401, "invalid_api_key")
    assert_gateway_headers(response)


@pytest.mark.parametrize("operation", ["assistants", "realtime", "chat/completions/extra", ""])
def test_an_endpoint_the_gateway_does_not_serve_is_404(client: TestClient, operation: str) -> None:
    response = client.post(f"/gateway/explain/v1/{operation}", headers=AUTH, json={"model": "gpt-4.1"})
    error = assert_openai_error(response, 404, "not_found")
    assert error["message"] == f"Unknown endpoint /v1/{operation}: nothing to explain."
    assert_gateway_headers(response)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code", "param"),
    [
        (b'{"model": "gpt-4.1", "messages": [', "application/json", 400, "invalid_json", None),
        (b'{"model": "gpt-4.1"}', "application/json", 400, "missing_required_parameter", "messages"),
        (b'{"model": "gpt-4.1", "messages": "hi"}', "application/json", 400, "invalid_type", "messages"),
        (b"model=gpt-4.1", "application/x-www-form-urlencoded", 400, "invalid_content_type", None),
        (b'{"model": "gpt-9", "messages": []}', "application/json", 404, "model_not_found", "model"),
    ],
)
def test_a_request_azure_would_refuse_is_refused_as_the_gateway_would(
    client: TestClient, content: bytes, content_type: str, status: int, code: str, param: str | None
) -> None:
    response = client.post(CHAT, headers={**AUTH, "content-type": content_type}, content=content)
    error = assert_openai_error(response, status, code)
    assert error["param"] == param
    assert_gateway_headers(response)


def test_explain_is_post_only(client: TestClient) -> None:
    assert_openai_error(client.get(CHAT, headers=AUTH), 405, None)


def test_a_model_sent_as_a_file_part_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/gateway/explain/v1/audio/transcriptions",
        headers=AUTH,
        files=[("model", ("model.txt", b"whisper", "text/plain")), ("file", ("a.wav", b"RIFF0000", "audio/wav"))],
    )
    assert_openai_error(response, 400, "invalid_request_error")


def test_a_boundary_over_256_characters_is_a_400(client: TestClient) -> None:
    boundary = "b" * 300
    body = httpx.Request(
        "POST", "http://x", data={"model": "whisper"}, files={"file": ("a.wav", b"RIFF", "audio/wav")}
    ).read()
    original = body.split(b"\r\n", 1)[0][2:]
    response = client.post(
        "/gateway/explain/v1/audio/transcriptions",
        headers={**AUTH, "content-type": f"multipart/form-data; boundary={boundary}"},
        content=body.replace(original, boundary.encode()),
    )
    assert response.status_code == 400, response.text


# The README's example of a cost condition: a low-cost client's prompt over $0.05 on gpt-4.1 goes to gpt-4.1-mini.
COST_CONFIG = """\
resources:
  east: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east}
  - {name: gpt-4.1-mini, model: gpt-4.1-mini, resource: east}
routing: {policy: policy.yaml}
"""


def usd(amount: float) -> str:
    return f"${round(amount, 6):.6f}".rstrip("0")


def test_the_estimate_of_a_cost_condition_is_explained(tmp_path: Path) -> None:
    write_config(tmp_path, COST_POLICY, "policy.yaml")
    with started(*config_from(tmp_path, COST_CONFIG)) as cost_client:
        response = cost_client.post(
            CHAT,
            headers={**AUTH, "x-route-cost": "low"},
            json={"model": "auto", "messages": [{"role": "user", "content": COSTLY_TEXT}], "max_tokens": 1000},
        )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["model"], report["leaf"]) == ("gpt-4.1-mini", "costly.yes")
    prompt = report["token_counts"]["o200k_base"]  # counted with gpt-4.1's tokenizer, which mini shares
    # gpt-4.1: $2 per million prompt tokens, $8 per million output tokens.
    estimated, most = prompt * 2 / 1e6, prompt * 2 / 1e6 + 1000 * 8 / 1e6
    assert report["path"] == [
        {
            "node": "costly",
            "ask": "Low cost asked, and a prompt over $0.05 on gpt-4.1?",
            "answer": "yes",
            "reason": f"cost is low (X-Route-Cost header); estimated_usd on gpt-4.1 {usd(estimated)} > $0.05 "
            f"({prompt:,} prompt tokens: {usd(estimated)}; with up to 1,000 output tokens: {usd(most)})",
            "by_default": False,
        }
    ]
