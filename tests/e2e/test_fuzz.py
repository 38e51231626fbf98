"""Fuzz suite: every endpoint driven with generated requests (issue 12, point 3).

Each endpoint gets 1,000 generated requests (tests/e2e/fuzz_strategies.py: wrong types, odd unicode, deep and
wide nesting, huge numbers, hostile tool and response_format schemas, odd headers, broken multipart forms),
sent to the gateway the shipped config builds, with the simulator as Azure. Every request must end well:

- a status under 500 (the simulator answers valid requests with 200, so no 5xx is anybody's right);
- an error is OpenAI-shaped, `{"error": {"message", "type", "param", "code"}}`, and every response has an
  x-request-id;
- exactly one routing-log line, with the status the client got;
- every reservation it took ended exactly once (settled or refunded), and a refused request left every
  budget as it found it;
- the event loop never stalled for 100 ms or more (a probe in the gateway's loop sleeps 10 ms at a time and
  records how late it wakes).

The gateway runs in-process: its ASGI app, inside its started lifespan, on an event loop of its own (an anyio
blocking portal, uvloop as served), driven through httpx's ASGITransport, so thousands of requests take
seconds. Hypothesis is derandomized, so every run (and CI) tries the same requests.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

import gateway.services
from gateway.app import create_app
from gateway.inbound.endpoints import ENDPOINTS
from gateway.limits import Budget, BudgetState, LimitDecision, MemoryLimiter, Observation, Reservation
from gateway.services import Services
from gateway.settings.schema import GatewayConfig, KeyRateLimit
from tests.conftest import Simulator
from tests.e2e.fuzz_strategies import FuzzRequest, fuzz_requests
from tests.support.gateway_config import shipped_config
from tests.support.simulator_control import SimulatorControl

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    # Generated bodies are large by design, and each example is a whole request: slow is expected.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
LOOP_LAG_LIMIT_S = 0.1
PROBE_INTERVAL_S = 0.01
# Budgets small enough that generated max_tokens and n values hit them (a 429 is a fine answer), large enough
# that plain requests pass. The simulator reports 1,000,000 TPM per deployment: the gateway's figure matches.
KEY_LIMITS = KeyRateLimit(tpm=200_000, rpm=1_000)
DEPLOYMENT_TPM = 1_000_000
CLOCK_START_S = 1_000_000.0
WINDOW_PASSED_S = 61.0  # longer than every budget's 60-s window
NEVER = 10**9  # failures before a breaker opens
COLLECT_EVERY = 500  # requests between the test's own full garbage collections


class SteppedClock:
    """The budgets' clock: it stands still while a request runs, and the test moves it on between requests,
    so every request finds every budget's window empty and a budget's state before and after compares exactly."""

    def __init__(self) -> None:
        self.now = CLOCK_START_S

    def __call__(self) -> float:
        return self.now

    def pass_window(self) -> None:
        self.now += WINDOW_PASSED_S


class LedgerLimiter:
    """The gateway's own MemoryLimiter, watched: which reservations are open, and any ended twice."""

    suspends = False

    def __init__(self, inner: MemoryLimiter) -> None:
        self.inner = inner
        self.budgets: dict[str, Budget] = {}  # every limited budget a request was admitted against
        self.open: set[str] = set()
        self.ended_twice: list[str] = []
        self.admitted = 0

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        self.budgets.update((budget.key, budget) for budget in budgets if budget.is_limited)
        decision = await self.inner.admit(budgets, tokens)
        if decision.reservation is not None:
            self.open.add(decision.reservation.id)
            self.admitted += 1
        return decision

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        return await self.inner.states(budgets)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        self._end(reservation)
        await self.inner.settle(reservation, actual_tokens)

    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        if reservation is not None:
            self._end(reservation)  # settled, with the usage or (None) the estimate left charged
        await self.inner.settle_and_observe(reservation, actual_tokens, observed)

    async def refund(self, reservation: Reservation) -> None:
        self._end(reservation)
        await self.inner.refund(reservation)

    async def cool_down(self, key: str, seconds: float) -> None:
        await self.inner.cool_down(key, seconds)

    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None:
        await self.inner.observe_remaining(key, limit, remaining_tokens)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def take_faults(self) -> tuple[set[str], list[str]]:
        """Reservations still open and those ended twice, forgotten once taken: each request is judged alone."""
        left_open, ended_twice = self.open, self.ended_twice
        self.open, self.ended_twice = set(), []
        return left_open, ended_twice

    def _end(self, reservation: Reservation) -> None:
        if reservation.id in self.open:
            self.open.remove(reservation.id)
        else:
            self.ended_twice.append(reservation.id)


class LoopLagProbe:
    """Sleeps 10 ms at a time in the gateway's event loop and keeps each oversleep: how long the loop was busy
    with something that did not yield.

    A request is charged only the part of an oversleep that fell while it was in the gateway. Between requests
    the test's own thread generates the next example, and a long C call there (hypothesis, orjson) holds the
    interpreter, so the probe cannot wake on time: that is the test's doing, not the gateway's.
    """

    def __init__(self) -> None:
        self._stalls: list[tuple[float, float]] = []  # (when the probe should have woken, when it did)
        self._requests: list[tuple[float, float]] = []  # (first byte sent, last byte received)
        self._previous_requests: list[tuple[float, float]] = []
        self._request_started: float | None = None
        self._stopped = False
        self._waiting: list[anyio.Event] = []

    async def run(self) -> None:
        while not self._stopped:
            waiting, self._waiting = self._waiting, []
            due = time.perf_counter() + PROBE_INTERVAL_S
            await anyio.sleep(PROBE_INTERVAL_S)
            woke = time.perf_counter()
            if woke > due:
                self._stalls.append((due, woke))
            for event in waiting:
                event.set()

    def request_started(self) -> None:
        self._request_started = time.perf_counter()

    def request_ended(self) -> None:
        assert self._request_started is not None
        self._requests.append((self._request_started, time.perf_counter()))
        self._request_started = None

    def take_worst(self) -> float:
        """The worst lag within a request since the last take. A stall that ends a request may only be seen
        (when the probe wakes) after it: that request is kept for the next take too, so it is still charged."""
        requests = self._previous_requests + self._requests
        worst = max(
            (min(woke, end) - max(due, start) for due, woke in self._stalls for start, end in requests), default=0.0
        )
        self._previous_requests, self._requests, self._stalls = self._requests[-1:], [], []
        return max(0.0, worst)

    async def take_worst_until_now(self) -> float:
        """`take_worst`, once the probe has woken from a sleep begun after this call: a stall still under way
        is included."""
        measured = anyio.Event()
        self._waiting.append(measured)
        await measured.wait()
        return self.take_worst()

    def stop(self) -> None:
        self._stopped = True


class RoutingLogTail:
    """The routing log's lines written since the last look."""

    def __init__(self, path: Path) -> None:
        path.touch()
        self._file = path.open("rb")
        self._pending = b""

    def new_lines(self) -> list[dict[str, Any]]:
        self._pending += self._file.read()
        complete, _, self._pending = self._pending.rpartition(b"\n")
        return [orjson.loads(line) for line in complete.splitlines() if line]

    def close(self) -> None:
        self._file.close()


@dataclass
class Exchange:
    request: FuzzRequest
    status: int
    headers: httpx.Headers
    body: bytes
    states_after: tuple[BudgetState, ...]
    log_lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FuzzedGateway:
    app: Starlette
    portal: BlockingPortal
    client: httpx.AsyncClient
    clock: SteppedClock
    limiter: LedgerLimiter
    probe: LoopLagProbe
    log: RoutingLogTail
    config: GatewayConfig
    _sent: int = 0

    def send(self, request: FuzzRequest, *, pass_window: bool = True) -> Exchange:
        self._sent += 1
        if self._sent % COLLECT_EVERY == 0:
            self._collect_garbage()
        exchange = self.portal.call(self._exchange, request, pass_window)
        exchange.log_lines = self.log.new_lines()
        return exchange

    def _collect_garbage(self) -> None:
        """A full collection, with the stall it causes kept out of the probe's reading: see `no_full_collections`."""
        lag = self.portal.call(self.probe.take_worst_until_now)
        assert lag < LOOP_LAG_LIMIT_S, f"the event loop stalled {lag * 1000:.0f} ms"
        gc.collect()
        self.portal.call(self.probe.take_worst_until_now)

    async def _exchange(self, request: FuzzRequest, pass_window: bool) -> Exchange:
        if pass_window:
            self.clock.pass_window()
        self.probe.request_started()
        try:
            response = await self.client.post(f"/v1/{request.operation}", content=request.body, headers=request.headers)
        finally:
            self.probe.request_ended()
        states = await self.limiter.states(list(self.limiter.budgets.values()))
        return Exchange(request, response.status_code, response.headers, response.content, states)


def fuzz_config(simulator_url: str, routing_log: Path) -> tuple[GatewayConfig, dict[str, str]]:
    """The shipped config, with budgets for the client key and every deployment, quick retries (a body Azure
    fails on should cost milliseconds of backoff, not seconds), and breakers that never open: each request is
    judged alone, not refused with a 503 because an earlier one upset Azure."""
    config, environ = shipped_config(simulator_url, routing_log)
    client_keys = config.client_keys.model_copy(update={"limits": KEY_LIMITS})
    deployments = tuple(item.model_copy(update={"tpm": DEPLOYMENT_TPM}) for item in config.deployments)
    retries = config.retries.model_copy(
        update={"max_attempts": 3, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05}
    )
    health = config.health.model_copy(update={"consecutive_failures": NEVER, "min_requests": NEVER})
    update = {"client_keys": client_keys, "deployments": deployments, "retries": retries, "health": health}
    return config.model_copy(update=update), environ


@contextmanager
def no_full_collections() -> Iterator[None]:
    """Python's automatic full collections, off. Hypothesis keeps every example it tried, and a full collection
    over that heap stops every thread of the process for 100-200 ms: the probe would blame the gateway for the
    test's own memory, which no served gateway has. Young generations are still collected as usual; the test
    collects fully every COLLECT_EVERY requests, outside the probe's reading."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 2**31 - 1)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@contextmanager
def running_gateway(config: GatewayConfig, environ: dict[str, str], routing_log: Path) -> Iterator[FuzzedGateway]:
    clock = SteppedClock()
    limiters: list[LedgerLimiter] = []
    build_limiter = gateway.services.build_limiter

    def watched_limiter(config: GatewayConfig, clock: Any = None, environ: Any = None) -> Any:
        built = build_limiter(config, clock)
        assert isinstance(built, MemoryLimiter)  # no Redis in this config
        limiters.append(LedgerLimiter(built))
        return limiters[-1]

    app = create_app(config, environ, limits_clock=clock)
    probe = LoopLagProbe()
    with start_blocking_portal("asyncio", backend_options={"use_uvloop": True}) as portal, ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gateway.services, "build_limiter", watched_limiter)
            stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
        client = portal.call(_client_for, app)
        stack.callback(portal.call, client.aclose)
        probing = portal.start_task_soon(probe.run)
        stack.callback(probing.result, 10)
        stack.callback(probe.stop)
        log = stack.enter_context(closing(RoutingLogTail(routing_log)))
        yield FuzzedGateway(app, portal, client, clock, limiters[0], probe, log, config)


async def _client_for(app: Any) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test", timeout=60)
    # Only the generated headers (and Host, Content-Length) reach the gateway: not httpx's own defaults.
    for name in ("accept", "accept-encoding", "connection", "user-agent"):
        del client.headers[name]
    return client


@pytest.fixture(scope="module")
def fuzzed(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedGateway]:
    routing_log = tmp_path_factory.mktemp("fuzz") / "routing.log"
    config, environ = fuzz_config(simulator.url, routing_log)
    with no_full_collections(), running_gateway(config, environ, routing_log) as running:
        _first_hypothesis_run()
        running.portal.call(running.probe.take_worst_until_now)  # start-up (tokenizers, policy) is not a request
        yield running


def _first_hypothesis_run() -> None:
    """Hypothesis collects garbage fully the first time it runs a test in a thread (registering its random
    generator): done now, before the probe's readings count."""

    @settings(max_examples=1, database=None)
    @given(st.none())
    def nothing(_: None) -> None:
        pass

    nothing()


def check(exchange: Exchange, fuzzed: FuzzedGateway) -> None:
    """Everything that must hold after any request, whatever it sent."""
    # What this request left behind is taken first, so that a failed check cannot pass it on to the next one.
    left_open, ended_twice = fuzzed.limiter.take_faults()
    lag = fuzzed.probe.take_worst()
    status, request = exchange.status, exchange.request
    assert status < 500, f"{status} for {request!r}: {exchange.body[:2000]!r}"
    request_id = exchange.headers.get("x-request-id")
    assert request_id, f"no x-request-id on a {status}"
    if status >= 400:
        _check_openai_error(exchange)
    lines = [line for line in exchange.log_lines if line.get("request_id") == request_id]
    assert len(lines) == 1, f"{len(lines)} routing-log lines for a {status} (request {request_id})"
    assert lines[0]["status"] == status, f"the routing log says {lines[0]['status']}, the client got {status}"
    assert not left_open, f"{len(left_open)} reservations left open after a {status}"
    assert not ended_twice, f"{len(ended_twice)} reservations ended twice, after a {status}"
    if status >= 400:
        # Every window was empty when the request came (see SteppedClock): a refused request leaves it so.
        charged = [state for state in exchange.states_after if not _untouched(state)]
        assert not charged, f"a refused request ({status}) left budgets charged: {charged}"
    assert lag < LOOP_LAG_LIMIT_S, f"the event loop stalled {lag * 1000:.0f} ms during this request"


def _check_openai_error(exchange: Exchange) -> None:
    content_type = exchange.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"a {exchange.status} with Content-Type {content_type!r}"
    body = orjson.loads(exchange.body)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"not OpenAI-shaped: {exchange.body[:500]!r}"
    assert {"message", "type", "param", "code"} <= error.keys(), f"not OpenAI-shaped: {error}"
    assert isinstance(error["message"], str) and error["message"], f"no message: {error}"
    for name in ("type", "param", "code"):
        assert error[name] is None or isinstance(error[name], str), f"{name} is not a string: {error}"


def _untouched(state: BudgetState) -> bool:
    return (
        state.remaining_tokens == state.limit_tokens
        and state.remaining_requests == state.limit_requests
        and not state.reset_tokens_s
        and not state.reset_requests_s
        and not state.cooling_down_s
    )


@pytest.mark.usefixtures("sim")  # no faults: the simulator answers as Azure would
@pytest.mark.parametrize("operation", sorted(ENDPOINTS))
def test_generated_requests_never_break_the_gateway(fuzzed: FuzzedGateway, operation: str) -> None:
    """1,000 generated requests to one endpoint, each checked alone (`check`).

    The budget check is exact: the budgets' clock passes a whole window before each request and stands still
    while it runs, so every request finds every budget empty. One the client was refused (any 4xx) must leave
    them empty; and whatever the answer, every reservation taken was settled or refunded exactly once (the
    gateway's own limiter, watched by LedgerLimiter, sees each end).
    """
    served: list[int] = []

    @FUZZ
    @given(request=fuzz_requests(operation))
    def one_request(request: FuzzRequest) -> None:
        exchange = fuzzed.send(request)
        check(exchange, fuzzed)
        served.append(exchange.status)

    one_request()
    lag = fuzzed.portal.call(fuzzed.probe.take_worst_until_now)
    assert lag < LOOP_LAG_LIMIT_S, f"the event loop stalled {lag * 1000:.0f} ms at the end of the run"
    # The generated requests are meant to get past the gateway's own checks often, not just to be refused.
    assert served.count(200) >= len(served) // 5, f"only {served.count(200)} of {len(served)} were answered"


REFUSED_PHASE = settings(FUZZ, max_examples=400)


def test_budgets_come_back_when_azure_refuses_everything(fuzzed: FuzzedGateway, sim: SimulatorControl) -> None:
    """Budgets are exactly where they started once every request has ended, when nothing was served.

    Azure (the simulator, through a fault) answers every request with a 400, so a request is refused either by
    the gateway or by Azure after admission; either way it must give back whatever it reserved. The budgets'
    clock starts the phase with every window empty and then stands still, so nothing leaves a window on its
    own: any token or request not given back stays visible, and the check is exact (remaining == limit, no
    reset pending, for every budget any request was admitted against, deployments' and the client key's).
    """
    sim.add_fault(status=400, times=-1)
    fuzzed.portal.call(_pass_window, fuzzed.clock)
    admitted_before = fuzzed.limiter.admitted
    statuses: list[int] = []

    @REFUSED_PHASE
    @given(request=st.sampled_from(sorted(ENDPOINTS)).flatmap(fuzz_requests))
    def one_request(request: FuzzRequest) -> None:
        exchange = fuzzed.send(request, pass_window=False)
        check(exchange, fuzzed)
        statuses.append(exchange.status)

    one_request()
    assert 200 not in statuses
    assert fuzzed.limiter.admitted - admitted_before >= 50, "too few requests were admitted to test refunds"
    budgets = list(fuzzed.limiter.budgets.values())
    states = fuzzed.portal.call(fuzzed.limiter.states, budgets)
    assert [state for state in states if not _untouched(state)] == []
    deployments = fuzzed.portal.call(_deployment_states, fuzzed)
    assert len(deployments) == len(fuzzed.config.deployments)
    assert [state for state in deployments.values() if not _untouched(state)] == []


async def _pass_window(clock: SteppedClock) -> None:
    clock.pass_window()  # in the gateway's loop, between requests


async def _deployment_states(fuzzed: FuzzedGateway) -> dict[str, BudgetState]:
    services: Services = fuzzed.app.state.services
    return await services.admission.deployment_states(services.deployments.all)
