"""Azure-style URLs: the `AzureOpenAI` client, and `OpenAI(base_url=".../openai/v1")`, work unchanged."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import Gateway
from tests.e2e.test_media import PNG
from tests.support.simulator_control import SimulatorControl


@pytest.fixture
def azure(gateway: Gateway) -> Iterator[openai.AzureOpenAI]:
    with openai.AzureOpenAI(
        azure_endpoint=gateway.url, api_key=gateway.client_key, api_version="2024-10-21", max_retries=0, timeout=30
    ) as client:
        yield client


def _clip() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x00" * 16000)
    return out.getvalue()


def test_azure_client_chat_names_its_deployment_in_the_path(azure: openai.AzureOpenAI, gateway: Gateway) -> None:
    raw = azure.chat.completions.with_raw_response.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": "hello"}]
    )
    assert raw.http_request.url.path == "/openai/deployments/gpt-4.1-mini/chat/completions"
    assert raw.headers["x-gateway-model"] == "gpt-4.1-mini"
    assert raw.parse().choices[0].message.content
    (line,) = [line for line in gateway.log_lines() if line["request_id"] == raw.headers["x-request-id"]]
    assert (line["endpoint"], line["status"], line["model_requested"]) == ("chat/completions", 200, "gpt-4.1-mini")


def test_azure_client_auto_is_routed_like_any_model(azure: openai.AzureOpenAI) -> None:
    raw = azure.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Write a haiku about the sea"}]
    )
    assert raw.http_request.url.path == "/openai/deployments/auto/chat/completions"
    assert raw.headers["x-gateway-model"] == "gpt-4.5-preview"  # the creative leaf of the shipped tree


def test_azure_client_streams_embeds_and_transcribes(azure: openai.AzureOpenAI) -> None:
    stream = azure.chat.completions.create(
        model="gpt-4.1-nano", messages=[{"role": "user", "content": "count to three"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text
    embedding = azure.embeddings.create(model="text-embedding-ada-002", input="hello")
    assert len(embedding.data[0].embedding) > 0
    transcript = azure.audio.transcriptions.create(model="whisper", file=("a.wav", _clip(), "audio/wav"))
    assert isinstance(transcript.text, str)


def test_the_path_names_the_model_whatever_the_body_says(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.url}/openai/deployments/gpt-4.1-nano/chat/completions?api-version=2025-04-01-preview",
        json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]},
        headers={"api-key": gateway.client_key},
    )
    assert response.status_code == 200 and response.headers["x-gateway-model"] == "gpt-4.1-nano"


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "missing_required_parameter"), ("?api-version=latest", "unsupported_api_version")],
)
def test_a_deployment_url_needs_a_dated_api_version(gateway: Gateway, query: str, code: str) -> None:
    response = httpx.post(
        f"{gateway.url}/openai/deployments/gpt-4.1/chat/completions{query}",
        json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]},
        headers={"api-key": gateway.client_key},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("api-version", code)
    (line,) = [line for line in gateway.log_lines() if line["request_id"] == response.headers["x-request-id"]]
    assert (line["status"], line["error"]) == (400, code)


def test_openai_client_on_the_v1_path(gateway: Gateway) -> None:
    with openai.OpenAI(base_url=f"{gateway.url}/openai/v1", api_key=gateway.client_key, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.http_request.url.path == "/openai/v1/chat/completions"
        assert raw.headers["x-gateway-model"] == "gpt-4.1"
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], extra_query={"api-version": "2024"}
            )
        assert refused.value.code == "unsupported_api_version"


def test_the_azure_key_header_authenticates_and_a_wrong_key_does_not(gateway: Gateway) -> None:
    url = f"{gateway.url}/openai/deployments/text-embedding-ada-002/embeddings?api-version=2024-10-21"
    body = {"input": "hi", "model": "x"}
    assert httpx.post(url, json=body, headers={"api-key": gateway.client_key}).status_code == 200
    assert httpx.post(url, json=body, headers={"api-key": "not-a-key"}).status_code == 401


def test_a_raw_rest_body_without_model_takes_it_from_the_path(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.url}/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers={"api-key": gateway.client_key},
    )
    assert response.status_code == 200 and response.headers["x-gateway-model"] == "gpt-4.1-mini"
    # On the OpenAI-style URL the body must still name it.
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers={"api-key": gateway.client_key},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "model"


def test_azure_clients_list_and_retrieve_models(azure: openai.AzureOpenAI, gateway: Gateway) -> None:
    listed = {model.id: model.owned_by for model in azure.models.list()}
    assert listed["gpt-4.1"] == "azure-openai" and listed["auto"] == "gateway"
    assert azure.models.retrieve("auto").owned_by == "gateway"
    with openai.OpenAI(base_url=f"{gateway.url}/openai/v1", api_key=gateway.client_key, max_retries=0) as client:
        assert {model.id for model in client.models.list()} == set(listed)
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("gpt-9")


def test_azure_client_on_every_other_endpoint(azure: openai.AzureOpenAI, sim: SimulatorControl) -> None:
    image = azure.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024")
    assert image.data and image.data[0].b64_json
    assert sim.last_request()["path"] == "/openai/deployments/gpt-image-1/images/generations"
    edited = azure.images.edit(model="gpt-image-1", image=("in.png", PNG, "image/png"), prompt="add a sun")
    assert edited.data and sim.last_request()["form"]["image"]["size"] == len(PNG)
    speech = azure.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="hello there")
    assert len(speech.read()) > 100
    assert sim.last_request()["path"] == "/openai/deployments/gpt-4o-mini-tts/audio/speech"
    with pytest.warns(DeprecationWarning, match="^deprecated$"):  # openai 3.x: see tests/e2e/test_media.py
        translation = azure.audio.translations.create(model="whisper", file=("a.wav", _clip(), "audio/wav"))
    assert isinstance(translation.text, str)
    assert sim.last_request()["path"] == "/openai/deployments/whisper/audio/translations"
    completion = azure.completions.create(model="gpt-35-turbo-instruct", prompt="Say hi", max_tokens=5)
    assert completion.choices[0].text
    assert sim.last_request()["path"] == "/openai/deployments/gpt-35-turbo-instruct/completions"
    response = azure.responses.create(model="gpt-4.1-mini", input="hello")
    assert response.output_text and sim.last_request()["path"] == "/openai/responses"
    assert azure.responses.retrieve(response.id).id == response.id


class Person(BaseModel):
    name: str
    age: int


def test_azure_client_parses_structured_output_routed_to_a_model_that_has_it(
    azure: openai.AzureOpenAI, gateway: Gateway
) -> None:
    raw = azure.chat.completions.with_raw_response.parse(
        model="auto", messages=[{"role": "user", "content": "Who wrote Hamlet?"}], response_format=Person
    )
    person = raw.parse().choices[0].message.parsed
    assert isinstance(person, Person) and person.name
    # gpt-35-turbo would be the shipped tree's pick for a plain question, but has no structured outputs.
    line = gateway.log_line(raw.headers["x-request-id"])
    assert line["model"] not in ("gpt-35-turbo", "gpt-35-turbo-16k", "gpt-4", "gpt-4-32k")
    assert "json_schema" in line["features"]["needs"]  # type: ignore[index]
    assert any("no structured outputs" in str(note) for note in line["notes"])  # type: ignore[union-attr]
