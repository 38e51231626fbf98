from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from gateway.app import create_app
from gateway.settings import load_config
from gateway.simulator import SimulatorSettings, create_simulator_app
from gateway.simulator.settings import DEFAULT_DEPLOYMENTS
from tests.support.gateway_config import ADMIN_KEY, CLIENT_KEYS, SIMULATOR_KEY, shipped_config, write_config
from tests.support.redis_server import RedisServer, redis_server
from tests.support.servers import serve
from tests.support.simulator_control import SimulatorControl

SECOND_DEPLOYMENTS = {"gpt-4.1-b": "gpt-4.1", "gpt-4.1-mini-b": "gpt-4.1-mini", "whisper-b": "whisper"}


@dataclass
class Simulator:
    url: str
    control: SimulatorControl


@dataclass
class Gateway:
    url: str
    routing_log: Path
    client_key: str = CLIENT_KEYS[0]
    admin_key: str = ADMIN_KEY

    def log_lines(self) -> list[dict[str, object]]:
        # Only whole lines: the gateway may be writing the last one while the test reads.
        written = self.routing_log.read_bytes()
        complete = written[: written.rfind(b"\n") + 1]
        return [orjson.loads(line) for line in complete.splitlines() if line]

    def log_line(self, request_id: str, timeout: float = 10.0) -> dict[str, object]:
        """The request's routing-log line. A stream's line is written just after its last byte went out, so
        a client that read the whole stream can look before it exists: the file is read until it appears.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.log_lines() if line["request_id"] == request_id]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no routing-log line for request {request_id} after {timeout} s")
            time.sleep(0.01)  # the file has no change notification to await


@pytest.fixture(autouse=True)
def _nothing_stays_frozen() -> Iterator[None]:
    """A test serving the gateway as `gateway serve` does freezes what start-up built (gc.freeze): in a test
    process that would keep every later test's garbage from the collector, and sets the collector's thresholds.
    Thawed and reset after each test."""
    thresholds = gc.get_threshold()
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    # Besides one deployment per model named after it, second deployments for tests of load balancing,
    # retries and fallbacks between deployments of one model.
    deployments = {**DEFAULT_DEPLOYMENTS, **SECOND_DEPLOYMENTS}
    with serve(create_simulator_app(SimulatorSettings(api_key=SIMULATOR_KEY, deployments=deployments))) as url:
        control = SimulatorControl(url)
        yield Simulator(url, control)
        control.close()


@pytest.fixture(scope="session")
def gateway(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The shipped config, served for real, with the simulator as Azure."""
    log_path = tmp_path_factory.mktemp("gateway") / "routing.log"
    config, environ = shipped_config(simulator.url, log_path)
    with serve(create_app(config, environ)) as url:
        yield Gateway(url, log_path)


@pytest.fixture
def sim(simulator: Simulator) -> Iterator[SimulatorControl]:
    """The simulator's control API, with faults and the request log cleared before and after the test."""
    simulator.control.reset()
    yield simulator.control
    simulator.control.reset()


GatewayFactory = Callable[[str], AbstractContextManager[Gateway]]


@pytest.fixture
def make_gateway(simulator: Simulator, tmp_path: Path) -> GatewayFactory:
    """Serve a gateway from YAML text; `${SIMULATOR_URL}` in it names the simulator."""

    @contextmanager
    def start(yaml_text: str) -> Iterator[Gateway]:
        log_path = tmp_path / "routing.log"
        text = yaml_text.replace("${SIMULATOR_URL}", simulator.url) + f"\nlog: {{routing_log: {log_path}}}\n"
        environ = {
            "SIM_KEY": SIMULATOR_KEY,
            "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS),
            "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
        }
        config = load_config(write_config(tmp_path, text), environ)
        with serve(create_app(config, environ)) as url:
            yield Gateway(url, log_path)

    return start


@pytest.fixture(scope="session")
def shared_redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole session, started the first time a test asks for it: see `redis_url`."""
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(shared_redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, emptied (FLUSHALL) before the test. Tests must leave it running:
    one that stops or restarts its server takes `own_redis_server`."""
    shared_redis_server.flush()
    return shared_redis_server.url


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A redis-server for this test alone, which it may stop, start and restart; stopped after the test."""
    with redis_server() as server:
        yield server
