"""The Responses API through the gateway, with the real openai SDK: create (whole, streamed, parsed), its
follow-ups, and conversations that stay on the resource that holds them, across replicas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import orjson
import pytest
from pydantic import BaseModel

from gateway.app import create_app
from gateway.settings import load_config
from gateway.simulator import SimulatorSettings, create_simulator_app
from tests.conftest import Gateway
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.servers import serve
from tests.support.simulator_control import SimulatorControl

TWO_MODELS = {"gpt-4.1": "gpt-4.1", "gpt-4.1-mini": "gpt-4.1-mini"}


class City(BaseModel):
    name: str
    population: int
    landmarks: list[str]


def _headers(gateway: Gateway) -> dict[str, str]:
    return {"authorization": f"Bearer {gateway.client_key}"}


def test_auto_is_routed_to_a_model_that_serves_the_responses_api(client: openai.OpenAI, gateway: Gateway) -> None:
    raw = client.responses.with_raw_response.create(model="auto", input="Write a haiku about the sea")
    response = raw.parse()
    assert response.object == "response" and response.status == "completed"
    assert response.output_text
    # The shipped tree's creative leaf starts with gpt-4.5-preview, which has no Responses API on Azure.
    assert raw.headers["x-gateway-model"] != "gpt-4.5-preview"
    line = gateway.log_line(raw.headers["x-request-id"])
    assert (line["endpoint"], line["status"], line["model"]) == ("responses", 200, raw.headers["x-gateway-model"])
    assert any(str(note).startswith("gpt-4.5-preview skipped") for note in line["notes"])  # type: ignore[union-attr]
    assert response.usage is not None
    assert line["usage"]["input_tokens"] == response.usage.input_tokens  # type: ignore[index]


def test_a_streamed_response_passes_azures_events_through_and_is_settled_with_its_usage(
    gateway: Gateway, sim: SimulatorControl
) -> None:
    body = {"model": "gpt-4.1-mini", "input": "count to five", "stream": True}
    with httpx.stream("POST", f"{gateway.url}/v1/responses", json=body, headers=_headers(gateway)) as response:
        received = response.read()
        request_id = response.headers["x-request-id"]
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in received.split(b"\n\n") if block]
    names = [block.split(b"\n")[0].removeprefix(b"event: ").decode() for block in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert "response.output_text.delta" in names and b"[DONE]" not in received
    completed = orjson.loads(events[-1].split(b"\ndata: ", 1)[1])
    line = gateway.log_line(request_id)
    assert line["usage"] == completed["response"]["usage"]
    assert line["stream"] is True and line["endpoint"] == "responses"
    # The gateway asked Azure for nothing more than the client did.
    assert "stream_options" not in sim.last_request()["json"]


def test_a_stream_azure_cuts_ends_in_an_error_event_the_sdk_raises(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", match_body="cut-me", cut_after_chunks=4)
    kinds: list[str] = []
    with (
        pytest.raises(openai.APIError) as cut,
        client.responses.stream(model="gpt-4.1", input="cut-me please") as stream,
    ):
        kinds.extend(event.type for event in stream)  # what arrived before the cut
    assert kinds[:2] == ["response.created", "response.in_progress"] and "response.completed" not in kinds
    assert "interrupted" in cut.value.message and cut.value.code == "upstream_stream_interrupted"
    line = [line for line in gateway.log_lines() if line["endpoint"] == "responses"][-1]
    assert (line["status"], line["deployment"]) == (200, "azure/gpt-4.1")
    assert "interrupted" in str(line["error"])


def test_the_sdk_streams_and_parses_structured_output(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4.1", input="Say hello") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text
    parsed = client.responses.parse(model="auto", input="Describe Paris", text_format=City)
    city = parsed.output_parsed
    assert isinstance(city, City) and city.name


def test_follow_ups_reach_the_resource_that_holds_the_response(client: openai.OpenAI, gateway: Gateway) -> None:
    first = client.responses.create(model="gpt-4.1", input="Remember the number seven.")
    second = client.responses.create(model="gpt-4.1", input="Which number?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert client.responses.retrieve(second.id).id == second.id
    items = client.responses.input_items.list(second.id)
    assert [item.type for item in items.data] == ["message"]
    deleted = client.responses.delete(first.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.retrieve(first.id)
    assert missing.value.body["code"] == "response_not_found"  # type: ignore[index]
    logged = {line["endpoint"] for line in gateway.log_lines()}
    assert {"responses/retrieve", "responses/input_items", "responses/delete"} <= logged


def test_an_unknown_response_is_a_404_and_the_client_key_is_checked(gateway: Gateway) -> None:
    unknown = httpx.get(f"{gateway.url}/v1/responses/resp_nope", headers=_headers(gateway))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Response with id 'resp_nope' not found."
    anonymous = httpx.get(f"{gateway.url}/v1/responses/resp_nope")
    assert anonymous.status_code == 401


def test_a_background_response_is_polled_and_cancelled_where_it_lives(client: openai.OpenAI) -> None:
    queued = client.responses.create(model="gpt-4.1", input="long task", background=True)
    assert queued.status in ("queued", "in_progress")
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.id == queued.id and cancelled.status == "cancelled"
    assert client.responses.retrieve(queued.id).status == "cancelled"


def test_the_azure_client_uses_the_classic_responses_url(gateway: Gateway) -> None:
    with openai.AzureOpenAI(
        azure_endpoint=gateway.url, api_key=gateway.client_key, api_version="2025-04-01-preview", max_retries=0
    ) as azure:
        raw = azure.responses.with_raw_response.create(model="gpt-4.1-nano", input="hello")
        assert raw.http_request.url.path == "/openai/responses"
        created = raw.parse()
        assert azure.responses.retrieve(created.id).id == created.id
    v1 = openai.OpenAI(base_url=f"{gateway.url}/openai/v1", api_key=gateway.client_key, max_retries=0)
    assert v1.responses.retrieve(created.id).id == created.id
    v1.close()


# -- two resources, two replicas -------------------------------------------------------------------------


@pytest.fixture
def two_resources() -> Iterator[tuple[str, str]]:
    settings = SimulatorSettings(api_key=SIMULATOR_KEY, deployments=TWO_MODELS)
    with serve(create_simulator_app(settings)) as east, serve(create_simulator_app(settings)) as west:
        yield east, west


def _replica_config(tmp_path: Path, name: str, east: str, west: str, redis_url: str, first: str) -> str:
    """A replica that prefers `first` ("east" or "west") for every model."""
    east_priority, west_priority = (0, 1) if first == "east" else (1, 0)
    return f"""
rate_limits: {{redis_url: "{redis_url}"}}
resources:
  east: {{endpoint: "{east}", api_style: v1, auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  west:
    endpoint: "{west}"
    api_style: classic
    api_version: 2024-10-21   # older than the Responses API: its calls take a version that has it
    auth: {{type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: east, priority: {east_priority}}}
  - {{name: gpt-4.1, model: gpt-4.1, resource: west, priority: {west_priority}}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: east, priority: {east_priority}}}
log: {{routing_log: {tmp_path / (name + ".log")}}}
"""


@contextmanager
def _replica(tmp_path: Path, name: str, text: str) -> Iterator[str]:
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    config = load_config(write_config(tmp_path, text, name=name + ".yaml"), environ)
    with serve(create_app(config, environ)) as url:
        yield url


def test_a_conversation_stays_on_its_resource_across_replicas(
    two_resources: tuple[str, str], redis_url: str, tmp_path: Path
) -> None:
    east, west = two_resources
    with (
        _replica(tmp_path, "one", _replica_config(tmp_path, "one", east, west, redis_url, first="west")) as one,
        _replica(tmp_path, "two", _replica_config(tmp_path, "two", east, west, redis_url, first="east")) as two,
        openai.OpenAI(base_url=f"{one}/v1", api_key=CLIENT_KEYS[0], max_retries=0) as first_replica,
        openai.OpenAI(base_url=f"{two}/v1", api_key=CLIENT_KEYS[0], max_retries=0) as second_replica,
    ):
        raw = first_replica.responses.with_raw_response.create(model="gpt-4.1", input="My name is Ada.")
        assert raw.headers["x-gateway-deployment"] == "west/gpt-4.1"  # the classic resource
        first = raw.parse()
        # Replica two prefers east, and has never seen this response: Redis tells it where it lives.
        raw = second_replica.responses.with_raw_response.create(
            model="gpt-4.1", input="What is my name?", previous_response_id=first.id
        )
        assert raw.headers["x-gateway-deployment"] == "west/gpt-4.1"
        second = raw.parse()
        assert second.previous_response_id == first.id
        # A model the holding resource lacks is sent to the deployment that made the response.
        raw = second_replica.responses.with_raw_response.create(
            model="gpt-4.1-mini", input="And again?", previous_response_id=second.id
        )
        assert raw.headers["x-gateway-deployment"] == "west/gpt-4.1"
        assert second_replica.responses.retrieve(first.id).id == first.id
        # A response created on east is followed up there, by the other replica.
        on_east = second_replica.responses.create(model="gpt-4.1", input="hello east")
        assert first_replica.responses.retrieve(on_east.id).id == on_east.id


def test_a_follow_up_whose_resource_is_down_fails_instead_of_going_elsewhere(redis_url: str, tmp_path: Path) -> None:
    settings = SimulatorSettings(api_key=SIMULATOR_KEY, deployments=TWO_MODELS)
    with serve(create_simulator_app(settings)) as east:
        west_server = serve(create_simulator_app(settings))
        west = west_server.__enter__()
        config = _replica_config(tmp_path, "one", east, west, redis_url, first="west")
        with (
            _replica(tmp_path, "one", config) as url,
            openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, timeout=30) as client,
        ):
            first = client.responses.create(model="gpt-4.1", input="hello")
            west_server.__exit__(None, None, None)  # the resource holding the conversation goes away
            with pytest.raises(openai.APIStatusError) as failed:
                client.responses.create(model="gpt-4.1", input="again", previous_response_id=first.id)
            assert failed.value.status_code >= 500
            with pytest.raises(openai.APIStatusError) as failed:
                client.responses.retrieve(first.id)
            assert failed.value.status_code == 502
