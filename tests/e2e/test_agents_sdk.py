"""The OpenAI Agents SDK against the gateway, as teams run it: an agent with a function tool and a typed
output, in the SDK's default Responses mode and in chat-completions mode, routed (`auto`) and named."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.items import ToolCallItem, ToolCallOutputItem
from openai import AsyncOpenAI
from pydantic import BaseModel

from tests.conftest import Gateway

# The tool is called with arguments the simulator draws from its schema: record what it was given.
CALLS: list[str] = []


class Forecast(BaseModel):
    city: str
    summary: str
    temperature_c: int


@function_tool
def get_weather(city: str) -> str:
    """The weather now in a city."""
    CALLS.append(city)
    return f"It is sunny in {city}, 21 degrees."


@pytest.fixture(autouse=True, scope="module")
def no_tracing() -> Iterator[None]:
    # The SDK exports traces to OpenAI by default: nothing may leave loopback.
    set_tracing_disabled(True)
    yield
    set_tracing_disabled(False)


@pytest.fixture
async def gateway_client(gateway: Gateway) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client:
        yield client


def _weather_agent(mode: str, name: str, client: AsyncOpenAI) -> Agent[None]:
    model: Model
    if mode == "responses":
        model = OpenAIResponsesModel(model=name, openai_client=client)
    else:
        model = OpenAIChatCompletionsModel(model=name, openai_client=client)
    return Agent(
        name="weather",
        instructions="Answer with the forecast for the city the user names, using the tool.",
        tools=[get_weather],
        output_type=Forecast,
        model=model,
    )


@pytest.mark.parametrize("mode", ["responses", "chat"])
@pytest.mark.parametrize("model", ["auto", "gpt-4.1-mini"])
async def test_an_agent_calls_its_tool_and_returns_its_output_type(
    gateway_client: AsyncOpenAI, gateway: Gateway, mode: str, model: str
) -> None:
    CALLS.clear()
    agent = _weather_agent(mode, model, gateway_client)
    result = await Runner.run(agent, "What is the weather in Paris?", run_config=RunConfig(tracing_disabled=True))
    assert isinstance(result.final_output, Forecast)
    assert len(CALLS) == 1  # one tool call, then an answer once its result came back
    kinds = [type(item) for item in result.new_items]
    assert ToolCallItem in kinds and ToolCallOutputItem in kinds
    endpoint = "responses" if mode == "responses" else "chat/completions"
    lines = [line for line in gateway.log_lines() if line["endpoint"] == endpoint][-2:]
    assert [line["status"] for line in lines] == [200, 200]
    if model == "auto":
        # Structured output and tools: routing took a model that has both.
        assert all(line["model"] not in ("gpt-35-turbo", "gpt-4", "gpt-4.5-preview") for line in lines)
    else:
        assert {line["model"] for line in lines} == {model}


async def test_a_streamed_agent_run_in_responses_mode(gateway_client: AsyncOpenAI) -> None:
    CALLS.clear()
    agent = _weather_agent("responses", "auto", gateway_client)
    run = Runner.run_streamed(agent, "Weather in Oslo?", run_config=RunConfig(tracing_disabled=True))
    kinds = {event.type async for event in run.stream_events()}
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert isinstance(run.final_output, Forecast) and len(CALLS) == 1
