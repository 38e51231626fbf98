"""Fixtures: an in-process client for most tests, and a real uvicorn server for socket behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulator import SimulatorSettings, create_simulator_app
from tests.simulator.helpers import Live
from tests.support.servers import serve


@pytest.fixture
def app() -> Starlette:
    return create_simulator_app(SimulatorSettings())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as c:
        yield c


@pytest.fixture
def live(app: Starlette) -> Iterator[Live]:
    with serve(app, lifespan="off") as url:
        yield Live(url, app)
