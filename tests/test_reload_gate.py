"""ReloadGate (reload_gate.py): SIGHUP reloads while installed, and a stream in flight finishes on the config it
started on while the next request follows the new one."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson
import uvicorn
from starlette.datastructures import State

from gateway.app import create_app
from gateway.reload_gate import ReloadGate, reloading_on_signal
from gateway.settings import GatewayConfig, load_config
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.servers import serve_config_in_loop
from tests.support.simulator_control import SimulatorControl
from tests.test_reload import ENVIRON, config_text, write


def test_sighup_calls_the_reload_while_installed_and_the_previous_handler_comes_back() -> None:
    calls: list[str] = []
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with reloading_on_signal(lambda: calls.append("reload")):
            signal.raise_signal(signal.SIGHUP)
            signal.raise_signal(signal.SIGHUP)
        assert calls == ["reload", "reload"]
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


@asynccontextmanager
async def served_with_gate(config: GatewayConfig, config_path: Path) -> AsyncIterator[tuple[str, State]]:
    """The app behind a ReloadGate, served by uvicorn in this loop; its lifespan run here."""
    app = create_app(config, ENVIRON)
    gate = ReloadGate(app, app.state, config_path)
    async with app.router.lifespan_context(app):

        def uvicorn_config(port: int) -> uvicorn.Config:
            return uvicorn.Config(gate, port=port, lifespan="off", access_log=False, log_level="warning")

        async with serve_config_in_loop(uvicorn_config) as url:
            yield url, app.state


async def test_a_stream_in_flight_finishes_on_the_old_config_and_the_next_request_follows_the_new(
    simulator: Simulator, sim: SimulatorControl, tmp_path: Path
) -> None:
    path = write(tmp_path, config_text(simulator.url, tpm=100_000))
    async with (
        served_with_gate(load_config(path, ENVIRON), path) as (url, state),
        httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {CLIENT_KEYS[0]}"}, timeout=30) as http,
    ):
        await asyncio.to_thread(sim.add_fault, deployment="gpt-4.1-mini", hold="stream-rest")
        body = {"model": "fast", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with http.stream("POST", "/v1/chat/completions", json=body) as stream:
            assert stream.headers["x-gateway-model"] == "gpt-4.1-mini"
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith("data: ")  # mid-answer
            first = state.services
            # Retargeted alias, and a new upstream client: the old one must outlive this stream.
            newer = config_text(simulator.url, tpm=100_000, extra="upstream: {read_timeout_seconds: 30}")
            write(tmp_path, newer, fast="gpt-4.1")
            assert await state.reloads.reload_file(path)
            after = await http.post("/v1/chat/completions", json={**body, "stream": False})
            assert (after.status_code, after.headers["x-gateway-model"]) == (200, "gpt-4.1")
            assert not first.upstream._closed
            await asyncio.to_thread(sim.release, "stream-rest")
            rest = [line async for line in lines if line.startswith("data: ")]
        assert rest[-1] == "data: [DONE]"
        assert any(
            orjson.loads(line[6:])["choices"][0]["finish_reason"] == "stop" for line in rest[:-1] if "choices" in line
        )
        await state.reloads.settled()
        assert first.upstream._closed
