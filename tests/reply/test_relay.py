"""The relay of Azure's answer to the client: against Azure on loopback (tests/upstream/_fake_azure.py), with
hand-made answers where the test needs each chunk and failure exactly, and run as an ASGI response."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Mapping

import aiohttp
import anyio
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from openai import APIError, AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message

from gateway.reply.relay import RelayedBody, RelayedStream, StreamOutcome, UpstreamStreamCut, relay
from gateway.reply.sse_usage import LARGEST_READ_EVENT
from gateway.upstream.answer import first_chunk, is_streamed, raise_for_error, read_whole
from gateway.upstream.client import UpstreamClient
from tests.support.servers import uvicorn_on_loopback
from tests.upstream._fake_azure import PATH, FakeAzure, fake_azure, upstream_client, upstream_request

CONTENT = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
USAGE = b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
DONE = b"data: [DONE]\n\n"
GATEWAY = {"x-request-id": "req-1", "x-gateway-model": "gpt-4.1", "x-gateway-deployment": "east/gpt-4.1"}


def cut_short(name: str = "ClientPayloadError") -> aiohttp.ClientError:
    """How aiohttp says Azure's body was cut short: a body short of its length, or the connection closed."""
    if name == "ServerDisconnectedError":
        return aiohttp.ServerDisconnectedError()
    return aiohttp.ClientPayloadError("Response payload is not completed")


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with upstream_client() as upstream:
        yield upstream


@pytest.fixture
async def azure() -> AsyncIterator[FakeAzure]:
    async with fake_azure() as served:
        yield served


async def ignore_end(outcome: StreamOutcome) -> None:
    return None


async def relay_of(client: UpstreamClient, azure: FakeAzure) -> tuple[int, bytes, dict[str, str]]:
    upstream = await client.send(upstream_request(azure.url + PATH))
    await raise_for_error(upstream, "azure/gpt-4.1")
    assert not is_streamed(upstream)
    body = await read_whole(upstream, "azure/gpt-4.1")
    response = relay(upstream, body, None, "azure/gpt-4.1", {"x-request-id": "r"}, ignore_end)
    return response.status_code, bytes(response.body), dict(response.headers)


async def test_success_body_and_azure_headers_pass_through(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(
        200,
        json={"id": "chatcmpl-1", "prompt_filter_results": []},
        headers={"X-RateLimit-Remaining-Tokens": "990", "apim-request-id": "a-1"},
    )
    status, body, headers = await relay_of(client, azure)
    assert status == 200
    assert orjson.loads(body) == {"id": "chatcmpl-1", "prompt_filter_results": []}
    assert headers["x-ratelimit-remaining-tokens"] == "990"
    assert headers["apim-request-id"] == "a-1"
    assert headers["x-request-id"] == "r"


async def test_a_compressed_body_is_relayed_decoded_without_its_content_encoding(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    answer = b'{"id":"chatcmpl-1"}'
    azure.post(PATH).respond(
        200,
        content=gzip.compress(answer),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    status, body, headers = await relay_of(client, azure)
    assert (status, body) == (200, answer)
    assert "content-encoding" not in headers and headers["content-length"] == str(len(answer))


async def test_sse_cut_midway_ends_with_an_error_event(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(
        200, headers={"content-type": "text/event-stream"}, chunks=[b'data: {"choices":[]}\n\n'], then="cut"
    )
    upstream = await client.send(upstream_request(azure.url + PATH))
    outcomes: list[StreamOutcome] = []

    async def record_end(outcome: StreamOutcome) -> None:
        outcomes.append(outcome)

    assert is_streamed(upstream)
    chunks = await first_chunk(upstream, "azure/gpt-4.1", within_s=5)
    response = relay(upstream, None, chunks, "azure/gpt-4.1", {}, record_end)
    sent: list[bytes] = []

    async def receive() -> dict[str, str]:
        await anyio.sleep_forever()  # the client stays connected
        raise AssertionError

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            sent.append(bytes(message["body"]))  # type: ignore[arg-type]

    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    body = b"".join(sent)
    assert body.startswith(b'data: {"choices":[]}\n\n')
    last_event = orjson.loads(body.rsplit(b"data: ", 1)[1])
    assert last_event["error"]["code"] == "upstream_stream_interrupted"
    assert b"[DONE]" not in body
    assert outcomes[0].error == "The stream from Azure deployment azure/gpt-4.1 was interrupted (ClientPayloadError)."


async def test_a_client_that_leaves_closes_azures_connection(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, headers={"content-type": "text/event-stream"}, chunks=[CONTENT], then="stall")
    upstream = await client.send(upstream_request(azure.url + PATH))
    chunks = await first_chunk(upstream, "azure/gpt-4.1", within_s=5)
    leaving = Client(disconnects=True)
    await run(relay(upstream, None, chunks, "azure/gpt-4.1", GATEWAY, leaving.on_end), leaving)
    assert leaving.outcomes[0].client_disconnected
    assert await azure.ending() == "client left"  # Azure can stop generating for nobody


class Upstream:
    """Azure's answer as the relay reads it (an UpstreamResponse's status, headers and closing), its body
    chunk by chunk: then a failure, or a stall that only the client leaving ends."""

    def __init__(
        self,
        chunks: list[bytes],
        then: Exception | None = None,
        stall: bool = False,
        status: int = 200,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    ) -> None:
        self._chunks = chunks
        self._then = then
        self._stall = stall
        self.status_code = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.closed = False

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        # As aiohttp keeps them: the bytes sent, which its decoded headers hold as surrogates when not UTF-8.
        return tuple((name.encode(), value.encode("utf-8", "surrogateescape")) for name, value in self.headers.items())

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._stall:
            await asyncio.Event().wait()
        if self._then is not None:
            raise self._then

    async def aclose(self) -> None:
        self.closed = True


def answered(status: int, headers: Mapping[str, str] | list[tuple[str, str]] | None = None) -> Upstream:
    """A whole answer's status and headers (its body is relayed from what was read)."""
    return Upstream([], status=status, headers=headers)


class Client:
    """The ASGI side: records what the response sends, and each end reported, in one sequence."""

    def __init__(self, disconnects: bool = False, gone_after: int | None = None) -> None:
        self.events: list[Message | StreamOutcome] = []
        self.outcomes: list[StreamOutcome] = []
        self._disconnects = disconnects
        self._gone_after = gone_after

    async def on_end(self, outcome: StreamOutcome) -> None:
        self.outcomes.append(outcome)
        self.events.append(outcome)

    async def receive(self) -> Message:
        if self._disconnects:
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError

    async def send(self, message: Message) -> None:
        bodies = [event for event in self.events if isinstance(event, dict) and event["type"] == "http.response.body"]
        if self._gone_after is not None and len(bodies) >= self._gone_after:
            raise OSError("the client's socket is gone")
        self.events.append(message)

    @property
    def start(self) -> Message:
        [start] = [event for event in self.events if isinstance(event, dict) and event["type"] == "http.response.start"]
        return start

    @property
    def headers(self) -> dict[str, str]:
        return {name.decode(): value.decode() for name, value in self.start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(
            event["body"] for event in self.events if isinstance(event, dict) and event["type"] == "http.response.body"
        )


def upstream_response(stream: Upstream, content_type: str, **headers: str) -> Upstream:
    stream.headers = CIMultiDictProxy(CIMultiDict({"content-type": content_type, **headers}))
    return stream


async def run(response: object, client: Client) -> None:
    await response({"type": "http"}, client.receive, client.send)  # type: ignore[operator]


async def test_a_whole_body_is_reported_ended_before_it_is_sent() -> None:
    client = Client()
    body = b'{"id":"chatcmpl-1","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'
    upstream = answered(200, {"content-type": "application/json"})
    response = relay(upstream, body, None, "east/gpt-4.1", GATEWAY, client.on_end)
    assert isinstance(response, RelayedBody)
    await run(response, client)
    [outcome] = client.outcomes
    assert outcome == StreamOutcome(
        bytes_sent=len(body), usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    )
    assert client.events[0] is outcome  # the log line exists before the client has its answer
    assert client.body == body and client.start["status"] == 200


async def test_a_whole_body_carries_azures_headers_lower_cased_and_the_gateways() -> None:
    client = Client()
    upstream = answered(
        201,
        [
            ("Content-Type", "application/json"),
            ("X-RateLimit-Remaining-Tokens", "990"),
            ("apim-request-id", "a-1"),
            ("x-request-id", "azure-side"),
            ("Server", "azure"),
            ("Content-Length", "999"),
        ],
    )
    await run(relay(upstream, b"{}", None, "east/gpt-4.1", GATEWAY, client.on_end), client)
    assert client.start["status"] == 201
    assert client.headers["x-ratelimit-remaining-tokens"] == "990" and client.headers["apim-request-id"] == "a-1"
    assert client.headers["x-request-id"] == "req-1"  # the gateway's, never Azure's
    assert client.headers["content-length"] == "2"  # of the body sent, not Azure's
    assert "server" not in client.headers
    assert {name: client.headers[name] for name in GATEWAY} == GATEWAY


async def test_a_missing_body_is_sent_empty() -> None:
    client = Client()
    await run(relay(answered(204), None, None, "east/gpt-4.1", GATEWAY, client.on_end), client)
    assert client.body == b"" and client.outcomes == [StreamOutcome(bytes_sent=0, usage=None)]


async def test_a_stream_is_sent_chunk_by_chunk_and_reported_before_its_last_message() -> None:
    client = Client()
    stream = Upstream([CONTENT, CONTENT, USAGE, DONE])
    upstream = upstream_response(stream, "text/event-stream", **{"x-ratelimit-remaining-tokens": "10"})
    response = relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end)
    assert isinstance(response, RelayedStream)
    await run(response, client)
    chunks = [event for event in client.events if isinstance(event, dict) and event["type"] == "http.response.body"]
    assert [chunk["body"] for chunk in chunks] == [CONTENT, CONTENT, USAGE, DONE, b""]
    assert [chunk.get("more_body") for chunk in chunks] == [True, True, True, True, False]
    [outcome] = client.outcomes
    assert client.events[-2] is outcome  # reported just before the closing message
    assert outcome.bytes_sent == len(CONTENT * 2 + USAGE + DONE) and outcome.error is None
    assert outcome.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}  # the client asked
    assert client.headers["content-type"] == "text/event-stream"
    assert client.headers["x-ratelimit-remaining-tokens"] == "10" and client.headers["x-request-id"] == "req-1"
    assert "content-length" not in client.headers
    assert stream.closed


async def test_a_usage_chunk_the_gateway_asked_for_is_kept_from_the_client() -> None:
    client = Client()
    upstream = upstream_response(Upstream([CONTENT + USAGE[:20], USAGE[20:] + DONE]), "text/event-stream")
    response = relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end, True)
    await run(response, client)
    assert client.body == CONTENT + DONE
    [outcome] = client.outcomes
    assert outcome.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert outcome.bytes_sent == len(CONTENT + DONE)


SPACED_CONTENT = b'data: {"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}}], "usage": null}\r\n\r\n'
SPACED_USAGE = (
    b'data: {"id": "c", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}'
    b"\r\n\r\n"
)
SPACED_DONE = b"data: [DONE]\r\n\r\n"


async def test_a_usage_chunk_serialised_with_spaces_and_crlf_is_kept_from_the_client() -> None:
    client = Client()
    chunks = [SPACED_CONTENT + SPACED_USAGE[:-1], SPACED_USAGE[-1:] + SPACED_DONE]
    upstream = upstream_response(Upstream(chunks), "text/event-stream; charset=utf-8")
    response = relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end, True)
    await run(response, client)
    assert client.body == SPACED_CONTENT + SPACED_DONE
    [outcome] = client.outcomes
    assert outcome.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert outcome.bytes_sent == len(SPACED_CONTENT + SPACED_DONE)


async def test_a_client_that_asked_for_usage_gets_azures_events_each_once_it_has_ended() -> None:
    client = Client()
    chunks = [SPACED_CONTENT, SPACED_USAGE[:30], SPACED_USAGE[30:] + SPACED_DONE]
    upstream = upstream_response(Upstream(chunks), "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end), client)
    sent = [
        event["body"] for event in client.events if isinstance(event, dict) and event["type"] == "http.response.body"
    ]
    assert sent == [SPACED_CONTENT, SPACED_USAGE + SPACED_DONE, b""]
    [outcome] = client.outcomes
    assert outcome.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


async def test_a_stream_cut_before_its_usage_reports_none() -> None:
    client = Client()
    stream = Upstream([SPACED_CONTENT, SPACED_USAGE[:40]], then=cut_short())
    upstream = upstream_response(stream, "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end, True), client)
    [outcome] = client.outcomes
    assert outcome.usage is None and outcome.error is not None
    assert client.body.startswith(SPACED_CONTENT) and SPACED_USAGE[:40] not in client.body


async def test_a_binary_stream_is_passed_on_and_reads_no_usage() -> None:
    client = Client()
    audio = [b"ID3\x04", b'"usage":{"total_tokens":1}', b"\xff\xfb"]
    upstream = upstream_response(Upstream(audio), "audio/mpeg")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/tts", GATEWAY, client.on_end, True), client)
    assert client.body == b"".join(audio)
    assert client.outcomes == [StreamOutcome(bytes_sent=len(b"".join(audio)))]
    assert client.headers["content-type"] == "audio/mpeg"


async def test_a_binary_stream_cut_midway_is_cut_for_the_client_too() -> None:
    client = Client()
    stream = Upstream([b"ID3\x04"], then=cut_short())
    upstream = upstream_response(stream, "audio/mpeg")
    raised: list[Exception] = []
    try:
        await run(relay(upstream, None, upstream.aiter_bytes(), "east/tts", GATEWAY, client.on_end), client)
    except* UpstreamStreamCut as cut:
        raised.extend(cut.exceptions)
    assert [str(error) for error in raised] == [
        "The stream from Azure deployment east/tts was interrupted (ClientPayloadError)."
    ]
    [outcome] = client.outcomes
    assert outcome.bytes_sent == 4 and outcome.error == str(raised[0])
    assert client.body == b"ID3\x04"  # no closing message: the server drops the connection
    assert stream.closed


async def test_a_binary_stream_cut_is_raised_as_the_middleware_expects() -> None:
    client = Client()
    upstream = upstream_response(Upstream([b"ID3\x04"], then=cut_short()), "audio/mpeg")
    with pytest.raises(UpstreamStreamCut):
        await run(relay(upstream, None, upstream.aiter_bytes(), "east/tts", GATEWAY, client.on_end), client)


async def test_a_client_that_leaves_cancels_the_stream_and_closes_azures() -> None:
    client = Client(disconnects=True)
    stream = Upstream([CONTENT], stall=True)
    upstream = upstream_response(stream, "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end), client)
    [outcome] = client.outcomes
    assert outcome.client_disconnected is True and outcome.error == "client disconnected"
    assert stream.closed


async def test_a_client_socket_that_fails_ends_the_stream_as_a_disconnect() -> None:
    client = Client(gone_after=1)
    stream = Upstream([CONTENT, CONTENT, DONE])
    upstream = upstream_response(stream, "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end), client)
    [outcome] = client.outcomes  # reported once, by the final clean-up
    assert (outcome.client_disconnected, outcome.error) == (True, "client disconnected")
    assert client.body == CONTENT
    assert stream.closed


async def test_azures_connection_reset_is_a_cut_not_the_client_leaving() -> None:
    # aiohttp's socket errors are OSErrors too: still Azure's failure, never taken for the client's.
    client = Client()
    stream = Upstream([CONTENT], then=aiohttp.ClientOSError(104, "Connection reset by peer"))
    upstream = upstream_response(stream, "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end), client)
    [outcome] = client.outcomes
    assert not outcome.client_disconnected
    assert outcome.error == "The stream from Azure deployment east/gpt-4.1 was interrupted (ClientOSError)."
    assert orjson.loads(client.body.rsplit(b"data: ", 1)[1])["error"]["code"] == "upstream_stream_interrupted"


def bodies(client: Client) -> list[Message]:
    return [event for event in client.events if isinstance(event, dict) and event["type"] == "http.response.body"]


async def test_a_chat_stream_cut_inside_an_event_ends_in_a_well_formed_error_event() -> None:
    client = Client()  # a client that asked for usage: nothing is removed, yet no part of an event is sent
    stream = Upstream([SPACED_CONTENT + SPACED_USAGE[:40]], then=cut_short())
    upstream = upstream_response(stream, "text/event-stream")
    await run(relay(upstream, None, upstream.aiter_bytes(), "east/gpt-4.1", GATEWAY, client.on_end), client)
    head, error_event = client.body.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n", client.body.split(b"\r\n\r\n", 1)[1]
    assert head == SPACED_CONTENT
    assert orjson.loads(error_event.removeprefix(b"data: "))["error"]["code"] == "upstream_stream_interrupted"
    assert bodies(client)[-1].get("more_body", False) is False  # the response ends cleanly
    [outcome] = client.outcomes
    assert outcome.error == "The stream from Azure deployment east/gpt-4.1 was interrupted (ClientPayloadError)."
    assert outcome.bytes_sent == len(SPACED_CONTENT)


RESPONSE_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 2,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 14,
}


def response_object(status: str, usage: dict[str, object] | None, text: str | None = None) -> dict[str, object]:
    output = [] if text is None else [message_item("completed", text)]
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-4.1",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
    }


def message_item(status: str, text: str | None) -> dict[str, object]:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": []}]
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": status, "content": content}


def sse(payload: dict[str, object], number: int, line_end: bytes = b"\n") -> bytes:
    data = orjson.dumps({**payload, "sequence_number": number})
    return b"event: " + str(payload["type"]).encode() + line_end + b"data: " + data + line_end + line_end


TEXT_PART = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
RESPONSES_PAYLOADS: list[dict[str, object]] = [
    {"type": "response.created", "response": response_object("in_progress", None)},
    {"type": "response.in_progress", "response": response_object("in_progress", None)},
    {"type": "response.output_item.added", "output_index": 0, "item": message_item("in_progress", None)},
    {
        "type": "response.content_part.added",
        **TEXT_PART,
        "part": {"type": "output_text", "text": "", "annotations": []},
    },
    {"type": "response.output_text.delta", **TEXT_PART, "delta": "Hi", "logprobs": []},
    {"type": "response.output_text.delta", **TEXT_PART, "delta": " there", "logprobs": []},
    {"type": "response.output_text.done", **TEXT_PART, "text": "Hi there", "logprobs": []},
    {"type": "response.output_item.done", "output_index": 0, "item": message_item("completed", "Hi there")},
    {"type": "response.completed", "response": response_object("completed", RESPONSE_USAGE, "Hi there")},
]
RESPONSES_EVENTS = [sse(payload, number) for number, payload in enumerate(RESPONSES_PAYLOADS)]


def responses_relay(stream: Upstream, client: Client, strip_usage_chunk: bool = False) -> object:
    upstream = upstream_response(stream, "text/event-stream; charset=utf-8")
    return relay(
        upstream,
        None,
        upstream.aiter_bytes(),
        "east/gpt-4.1",
        GATEWAY,
        client.on_end,
        strip_usage_chunk,
        event_stream="responses",
    )


@pytest.mark.parametrize("strip_usage_chunk", [False, True])
async def test_a_responses_stream_passes_through_unchanged_with_its_usage_read(strip_usage_chunk: bool) -> None:
    client = Client()
    stream = b"".join(RESPONSES_EVENTS)
    chunks = [stream[:100], stream[100:1000], stream[1000:]]
    await run(responses_relay(Upstream(chunks), client, strip_usage_chunk), client)
    assert client.body == stream  # every event, `response.completed` included, even were stripping asked
    [outcome] = client.outcomes
    assert outcome == StreamOutcome(bytes_sent=len(stream), usage=RESPONSE_USAGE)


def last_event(body: bytes) -> tuple[bytes, dict[str, object]]:
    """The last event's `event:` line and its data."""
    event_line, data_line = body.rstrip(b"\n").rsplit(b"\n\n", 1)[-1].split(b"\n")
    return event_line, orjson.loads(data_line.removeprefix(b"data: "))


@pytest.mark.parametrize("cut_inside_an_event", [False, True], ids=["between events", "inside an event"])
async def test_a_responses_stream_cut_ends_in_an_error_event_after_the_last_one_sent(cut_inside_an_event: bool) -> None:
    client = Client()
    sent = b"".join(RESPONSES_EVENTS[:5])  # up to the first delta, number 4
    chunks = [sent + RESPONSES_EVENTS[5][:30]] if cut_inside_an_event else [sent[:50], sent[50:]]
    stream = Upstream(chunks, then=cut_short("ServerDisconnectedError"))
    await run(responses_relay(stream, client), client)
    assert client.body.startswith(sent)
    event_line, data = last_event(client.body)
    message = "The stream from Azure deployment east/gpt-4.1 was interrupted (ServerDisconnectedError)."
    assert event_line == b"event: error"
    assert data == {
        "type": "error",
        "code": "upstream_stream_interrupted",
        "message": message,
        "param": None,
        "sequence_number": 5,
        "error": {"message": message, "type": "server_error", "param": None, "code": "upstream_stream_interrupted"},
    }
    assert len(client.body) == len(sent) + len(b"event: error\ndata: " + orjson.dumps(data) + b"\n\n")
    assert bodies(client)[-1].get("more_body", False) is False  # ended cleanly: no reset after the error
    [outcome] = client.outcomes
    assert (outcome.error, outcome.usage, outcome.bytes_sent) == (message, None, len(sent))
    assert stream.closed


async def test_a_responses_stream_cut_before_any_event_ends_in_error_event_number_zero() -> None:
    client = Client()
    await run(responses_relay(Upstream([RESPONSES_EVENTS[0][:20]], then=cut_short()), client), client)
    event_line, data = last_event(client.body)
    assert (event_line, data["sequence_number"]) == (b"event: error", 0)
    assert client.body.startswith(b"event: error\n")


async def test_a_stream_cut_inside_an_oversize_event_is_cut_for_the_client_too() -> None:
    client = Client()
    huge = sse({"type": "response.output_text.delta", **TEXT_PART, "delta": "x" * LARGEST_READ_EVENT}, 4)
    stream = Upstream([RESPONSES_EVENTS[0], huge[:-100]], then=cut_short())
    with pytest.raises(UpstreamStreamCut):
        await run(responses_relay(stream, client), client)
    assert client.body == RESPONSES_EVENTS[0] + huge[:-101]  # no error event glued to half an event
    [outcome] = client.outcomes
    assert outcome.error is not None and "interrupted" in outcome.error


# The real openai SDK reading the relayed stream from uvicorn on loopback.


def scripted_gateway(chunks: list[bytes], then: Exception | None, outcomes: list[StreamOutcome]) -> Starlette:
    async def on_end(outcome: StreamOutcome) -> None:
        outcomes.append(outcome)

    async def answer(request: Request) -> Response:
        responses = request.url.path.endswith("/responses")
        upstream = upstream_response(Upstream(chunks, then=then), "text/event-stream")
        return relay(
            upstream,
            None,
            upstream.aiter_bytes(),
            "east/gpt-4.1",
            GATEWAY,
            on_end,
            event_stream="responses" if responses else "chat",
        )

    return Starlette(
        routes=[
            Route("/v1/responses", answer, methods=["POST"]),
            Route("/v1/chat/completions", answer, methods=["POST"]),
        ]
    )


async def read_response_texts(sdk: AsyncOpenAI, texts: list[str]) -> None:
    async with sdk.responses.stream(model="gpt-4.1", input="hi") as events:
        async for event in events:
            if event.type == "response.output_text.delta":
                texts.append(event.delta)


async def read_chat_texts(sdk: AsyncOpenAI, texts: list[str | None]) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
    chunks = await sdk.chat.completions.create(
        model="gpt-4.1", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in chunks:
        texts.append(chunk.choices[0].delta.content)


async def test_the_openai_sdk_reads_a_whole_responses_stream() -> None:
    outcomes: list[StreamOutcome] = []
    stream = b"".join(RESPONSES_EVENTS)
    app = scripted_gateway([stream[:333], stream[333:]], None, outcomes)
    async with uvicorn_on_loopback(app) as url:
        sdk = AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        async with sdk.responses.stream(model="gpt-4.1", input="hi") as events:
            final = await events.get_final_response()
        await sdk.close()
    assert final.output_text == "Hi there"
    assert final.usage is not None and final.usage.total_tokens == 14
    assert [outcome.usage for outcome in outcomes] == [RESPONSE_USAGE]


async def test_the_openai_sdk_raises_on_a_cut_responses_stream() -> None:
    outcomes: list[StreamOutcome] = []
    chunks = [b"".join(RESPONSES_EVENTS[:5]) + RESPONSES_EVENTS[5][:25]]
    app = scripted_gateway(chunks, cut_short(), outcomes)
    texts: list[str] = []
    async with uvicorn_on_loopback(app) as url:
        sdk = AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        with pytest.raises(APIError) as raised:
            await read_response_texts(sdk, texts)
        await sdk.close()
    assert texts == ["Hi"]  # what arrived before the cut
    assert raised.value.message == "The stream from Azure deployment east/gpt-4.1 was interrupted (ClientPayloadError)."
    assert raised.value.code == "upstream_stream_interrupted"
    assert [outcome.error for outcome in outcomes] == [raised.value.message]


async def test_the_openai_sdk_raises_on_a_chat_stream_cut_inside_an_event() -> None:
    outcomes: list[StreamOutcome] = []
    app = scripted_gateway([SPACED_CONTENT + SPACED_USAGE[:40]], cut_short(), outcomes)
    texts: list[str | None] = []
    async with uvicorn_on_loopback(app) as url:
        sdk = AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        with pytest.raises(APIError) as raised:
            await read_chat_texts(sdk, texts)
        await sdk.close()
    assert texts == ["hi"]
    assert raised.value.code == "upstream_stream_interrupted"


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_header_bytes_that_are_not_utf8_reach_the_client_as_azure_sent_them(streamed: bool) -> None:
    # aiohttp decodes header values as UTF-8 and keeps any other byte as a surrogate: b"Gen\xe8ve" is "Gen\udce8ve".
    client = Client()
    headers = {"content-type": "text/event-stream", "x-ms-region": "Gen\udce8ve", "apim-request-id": "café"}
    upstream = Upstream([DONE], headers=headers)
    chunks = upstream.aiter_bytes() if streamed else None
    await run(relay(upstream, None if streamed else DONE, chunks, "east/gpt-4.1", GATEWAY, client.on_end), client)
    sent = dict(client.start["headers"])
    assert (sent[b"x-ms-region"], sent[b"apim-request-id"]) == (b"Gen\xe8ve", b"caf\xc3\xa9")
