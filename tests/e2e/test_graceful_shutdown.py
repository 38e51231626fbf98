"""Stopping a real `gateway serve` process with SIGTERM while it serves: the drain (inbound/draining.py).

The gateway runs as operators run it, in a process of its own, with the session's simulator as Azure; the
simulator holds each stream after its first chunk, so the signal lands while every stream is mid-answer.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2  # the locked openai SDK's HTTP layer: what a cut stream raises through it
import openai
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.served_gateway import ServedProcess, reading_stderr, start_gateway_serve
from tests.support.servers import free_port
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4.1"
REALTIME_MODEL = "gpt-4o-mini-realtime-preview"
MESSAGES: list[Any] = [{"role": "user", "content": "Name three rivers."}]
STREAMS = 50
# Only a safety net for a gateway that never gets there: what is asserted is what happened, not how fast.
STARTUP_TIMEOUT = 60.0

CONFIG = """
server: {{drain_seconds: {drain}}}
resources:
  sim: {{endpoint: "{simulator}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: {model}, model: {model}, resource: sim, tpm: 100000000}}
  - {{name: {realtime}, model: {realtime}, resource: sim, tpm: 100000000}}
log: {{routing_log: "{log}"}}
"""


@dataclass
class ServedGateway(ServedProcess):
    routing_log: Path = field(kw_only=True)

    def log_lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.routing_log.read_bytes().splitlines() if line]

    def sdk(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, timeout=60)


@asynccontextmanager
async def gateway_serve(simulator: Simulator, tmp_path: Path, drain_seconds: float) -> AsyncIterator[ServedGateway]:
    log = tmp_path / "routing.log"
    text = CONFIG.format(drain=drain_seconds, simulator=simulator.url, model=MODEL, realtime=REALTIME_MODEL, log=log)
    port = free_port()
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    process = await start_gateway_serve(write_config(tmp_path, text), port, environ)
    gateway = ServedGateway(process, port, routing_log=log)
    async with reading_stderr(gateway):
        await asyncio.wait_for(gateway.said("Uvicorn running on"), STARTUP_TIMEOUT)
        yield gateway


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


async def open_stream(client: openai.AsyncOpenAI) -> tuple[str, AsyncIterator[str], list[str]]:
    """A chat stream that has delivered its first event: its request id, its remaining lines, the lines so far."""
    opened = client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES, stream=True)
    response = await opened.__aenter__()
    lines = response.iter_lines()
    seen = []
    async for line in lines:
        seen.append(line)
        if line.startswith("data: "):
            break
    return response.headers["x-request-id"], lines, seen


async def rest_of(lines: AsyncIterator[str], seen: list[str]) -> list[str]:
    async for line in lines:
        seen.append(line)
    return seen


def content_and_ending(lines: list[str]) -> tuple[str, str | None, str]:
    """The text a chat stream's events carry, its last finish_reason, and its last data line."""
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    chunks = [orjson.loads(item) for item in data if item != "[DONE]"]
    text = "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
    reasons = [choice["finish_reason"] for chunk in chunks for choice in chunk["choices"] if choice["finish_reason"]]
    return text, (reasons[-1] if reasons else None), data[-1]


async def realtime_session(gateway: ServedGateway) -> ClientConnection:
    url = f"ws://127.0.0.1:{gateway.port}/v1/realtime?model={REALTIME_MODEL}"
    ws = await connect(url, additional_headers={"Authorization": f"Bearer {CLIENT_KEYS[0]}"})
    assert orjson.loads(await ws.recv())["type"] == "session.created"
    return ws


async def until_event(ws: ClientConnection, last: str) -> list[str]:
    kinds = [orjson.loads(await ws.recv())["type"]]
    while kinds[-1] != last:
        kinds.append(orjson.loads(await ws.recv())["type"])
    return kinds


async def test_sigterm_lets_fifty_streams_and_a_session_finish_then_exits_0(
    simulator: Simulator, sim: SimulatorControl, tmp_path: Path
) -> None:
    drain_seconds = 30.0
    async with gateway_serve(simulator, tmp_path, drain_seconds) as gateway, gateway.sdk() as client:
        whole = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        expected = whole.choices[0].message.content
        assert expected
        session = await realtime_session(gateway)
        await asyncio.to_thread(sim.add_fault, deployment=MODEL, hold="stream-rest", times=STREAMS)
        streams = await asyncio.gather(*(open_stream(client) for _ in range(STREAMS)))  # each mid-answer

        gateway.process.send_signal(signal.SIGTERM)
        await gateway.said("Waiting for connections to close")
        assert refuses_connections(gateway.port)  # the listener is closed: nothing new comes in
        # The session goes on while the streams drain: a response is answered in full.
        await session.send(orjson.dumps({"type": "response.create"}).decode())
        assert (await until_event(session, "response.done"))[-1] == "response.done"

        await asyncio.to_thread(sim.release, "stream-rest")
        finished = await asyncio.gather(*(rest_of(lines, seen) for _, lines, seen in streams))
        # Only once no HTTP request is left does the session end, with 1001 "going away".
        await session.wait_closed()
        assert (session.close_code, session.close_reason) == (1001, "the gateway is shutting down")
        assert await asyncio.wait_for(gateway.process.wait(), drain_seconds) == 0

    for lines in finished:
        assert content_and_ending(lines) == (expected, "stop", "[DONE]")
    logged = gateway.log_lines()  # the process has exited: the log was flushed and closed
    for request_id, _, _ in streams:
        lines_of_request = [line for line in logged if line["request_id"] == request_id]
        assert [(line["status"], line["error"]) for line in lines_of_request] == [(200, None)]
        assert lines_of_request[0]["usage"]["completion_tokens"] > 0  # settled with what the stream used
    (session_line,) = [line for line in logged if line["endpoint"] == "realtime"]
    assert session_line["status"] == 101
    assert session_line["realtime"]["closed_by"] == "gateway"
    assert session_line["realtime"]["close_code"] == 1001
    assert session_line["realtime"]["responses"] == 1
    assert "Cancel" not in "".join(gateway.stderr)  # uvicorn's backstop never had to cancel anything


async def test_what_outlasts_the_drain_time_is_cut_and_the_process_still_exits_0(
    simulator: Simulator, sim: SimulatorControl, tmp_path: Path
) -> None:
    async with gateway_serve(simulator, tmp_path, drain_seconds=1) as gateway, gateway.sdk() as client:
        await asyncio.to_thread(sim.add_fault, deployment=MODEL, hold="stream-rest")
        stream_id, lines, seen = await open_stream(client)
        # A whole answer Azure is still sending: the client's answer has not begun when the drain ends.
        await asyncio.to_thread(sim.add_fault, deployment=MODEL, hold="body-rest")
        waiting = asyncio.create_task(client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
        await asyncio.to_thread(sim.wait_for_hold, "body-rest")

        gateway.process.send_signal(signal.SIGTERM)
        # Nothing is released: both are still in flight when the drain time is over.
        assert await asyncio.wait_for(gateway.process.wait(), 60) == 0
        with pytest.raises(httpx2.RemoteProtocolError):  # the stream is cut, never ended cleanly
            await rest_of(lines, seen)
        with pytest.raises(openai.APIStatusError) as refused:
            await waiting

    assert "[DONE]" not in "".join(seen)
    assert refused.value.status_code == 503
    assert refused.value.body == {
        "message": "The gateway is shutting down and could not finish this request within its drain time (1 s); "
        "send it again.",
        "type": "server_error",
        "param": None,
        "code": "gateway_shutting_down",
    }
    logged = {line["request_id"]: line for line in gateway.log_lines()}
    assert logged[stream_id]["stream"] is True  # the cut stream's line was written before the exit
    assert logged[stream_id]["bytes_out"] > 0
    assert logged[refused.value.response.headers["x-request-id"]]["status"] == 499
    assert "drain: 2 request(s) still in flight after 1 s: cut" in "".join(gateway.stderr)
