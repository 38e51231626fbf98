"""handshake.py: a realtime session's opening steps, each on its own: the hello, the key (header or a
browser's subprotocol), routing as task "realtime", admission of one request of 0 tokens, and the call to
Azure, which here is the project's simulator (it speaks Azure's realtime handshake) on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers, QueryParams

from gateway.errors import (
    InvalidRequest,
    ModelNotFound,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamUnreachable,
)
from gateway.inbound.client_auth import ANONYMOUS, ClientKeys, key_id
from gateway.limits import BudgetState
from gateway.limits.admission import Admitted
from gateway.realtime.handshake import BETA_HEADER_VALUE, Hello, admit, authenticate, call_azure, read_hello, route
from gateway.realtime.subprotocols import Offer
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.router import Router
from gateway.routing.setup import build_router
from gateway.services import Services, open_services
from gateway.settings import load_config
from gateway.settings.schema import EntraAuth
from gateway.upstream.credentials import TokenProvider, UpstreamCredentials
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, shipped_config, write_config
from tests.support.servers import free_port
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4o-mini-realtime-preview"  # the simulator's realtime deployment, under this name everywhere
KEY_ONE, KEY_TWO = CLIENT_KEYS
KEYS = ClientKeys(list(CLIENT_KEYS))
BROWSER_KEY = "openai-insecure-api-key."
BETA = "openai-beta.realtime-v1"

# Every deployment is Azure's MODEL deployment; the gateway's model names tell them apart. `twin` has two.
CONFIG = """
log: {{routing_log: "{log}"}}
client_keys: {{per_key: {{{limited}: {{rpm: 1}}}}}}
resources:
  sim: {{endpoint: "{url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  twin-a: {{endpoint: "{url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  twin-b: {{endpoint: "{url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  gone: {{endpoint: "http://127.0.0.1:{port}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  entra: {{endpoint: "{url}", auth: {{type: entra}}}}
deployments:
  - {{name: {model}, model: {model}, resource: sim, tpm: 1000}}
  - {{name: {model}, model: twin, resource: twin-a}}
  - {{name: {model}, model: twin, resource: twin-b}}
  - {{name: {model}, model: unreachable, resource: gone, tpm: 1000}}
  - {{name: {model}, model: by-entra, resource: entra, tpm: 1000}}
"""


def hello(query: str = "model=auto", headers: dict[str, str] | None = None, offered: list[str] | None = None) -> Hello:
    return read_hello(QueryParams(query), Headers(headers or {}), offered or [])


# -- read_hello --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "model=", "deployment="])
def test_a_hello_without_a_model_is_a_400_naming_the_param(query: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        hello(query)
    error = refused.value
    assert (error.status, error.param, error.code) == (400, "model", "missing_required_parameter")


def test_azure_s_realtime_url_names_the_model_as_its_deployment() -> None:
    # The AzureOpenAI client connects to /openai/realtime?api-version=...&deployment=<name>.
    assert hello("api-version=2025-04-01-preview&deployment=gpt-4o-mini-realtime-preview").model == (
        "gpt-4o-mini-realtime-preview"
    )
    assert hello("model=auto&deployment=other").model == "auto"


def test_a_plain_hello_asks_for_ga_and_no_subprotocol() -> None:
    assert hello("model=auto") == Hello("auto", Offer(), None)


@pytest.mark.parametrize(
    ("headers", "offered", "openai_beta"),
    [
        ({"OpenAI-Beta": "realtime=v1"}, [], "realtime=v1"),
        ({}, ["realtime", BETA], BETA_HEADER_VALUE),  # a browser cannot set the header: it offers it
        ({"openai-beta": "realtime=v1, something-else"}, [BETA], "realtime=v1, something-else"),  # the header wins
        ({}, ["realtime"], None),
    ],
)
def test_openai_beta_comes_from_the_header_or_the_browsers_subprotocol(
    headers: dict[str, str], offered: list[str], openai_beta: str | None
) -> None:
    assert hello(f"model={MODEL}", headers, offered).openai_beta == openai_beta


def test_a_browsers_offer_is_read_with_the_hello() -> None:
    greeting = hello("model=auto", offered=["realtime", f"{BROWSER_KEY}{KEY_ONE}", BETA])
    assert greeting.offer == Offer(key=KEY_ONE, accept="realtime", beta=True)
    assert KEY_ONE not in repr(greeting)  # the key never shows in a traceback


# -- authenticate ------------------------------------------------------------------------------------------


def offer_of(*offered: str) -> Offer:
    return hello(offered=list(offered)).offer


def test_a_browsers_key_subprotocol_counts_as_a_bearer_token() -> None:
    assert authenticate(KEYS, Headers({}), offer_of("realtime", f"{BROWSER_KEY}{KEY_TWO}")) == key_id(KEY_TWO)
    with pytest.raises(Unauthorized):
        authenticate(KEYS, Headers({}), offer_of(f"{BROWSER_KEY}not-a-key"))


@pytest.mark.parametrize(
    ("headers", "offered_key", "expected"),
    [
        ({"authorization": f"Bearer {KEY_ONE}"}, KEY_TWO, key_id(KEY_ONE)),
        ({"api-key": KEY_ONE}, KEY_TWO, key_id(KEY_ONE)),
        ({"authorization": "Bearer not-a-key"}, KEY_TWO, None),  # a wrong header is not rescued by the offer
        ({"api-key": "not-a-key"}, KEY_TWO, None),
    ],
)
def test_an_explicit_header_wins_over_the_offered_key(
    headers: dict[str, str], offered_key: str, expected: str | None
) -> None:
    offer = offer_of(f"{BROWSER_KEY}{offered_key}")
    if expected is None:
        with pytest.raises(Unauthorized):
            authenticate(KEYS, Headers(headers), offer)
    else:
        assert authenticate(KEYS, Headers(headers), offer) == expected


def test_no_key_at_all_is_a_401_unless_no_keys_are_configured() -> None:
    with pytest.raises(Unauthorized) as refused:
        authenticate(KEYS, Headers({}), Offer())
    assert refused.value.status == 401
    assert authenticate(ClientKeys([]), Headers({}), offer_of(f"{BROWSER_KEY}anything")) == ANONYMOUS


# -- route -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    config, _ = shipped_config("http://127.0.0.1:9", tmp_path_factory.mktemp("router") / "routing.log")
    return build_router(config, ModelCatalog())


async def test_auto_walks_the_tree_as_task_realtime(shipped_router: Router) -> None:
    routed = await route(shipped_router, "auto", Headers({}))
    assert routed.features.task == "realtime"
    assert routed.decision.model == MODEL
    assert [step["node"] for step in routed.decision.path_as_dicts()][-1] == "realtime_voice"
    assert routed.prompt_tokens == 0


async def test_a_named_model_is_honoured(shipped_router: Router) -> None:
    routed = await route(shipped_router, MODEL, Headers({}))
    assert routed.decision.model == MODEL and routed.decision.path_as_dicts() == []


async def test_an_unknown_model_is_a_404(shipped_router: Router) -> None:
    with pytest.raises(ModelNotFound) as refused:
        await route(shipped_router, "no-such-model", Headers({}))
    assert (refused.value.status, refused.value.param) == (404, "model")


# -- admit and call_azure: a gateway's services, with the simulator as Azure -------------------------------


@pytest.fixture
async def services(simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    # Loading the tokenizers ahead of the first request (~0.3 s) is start-up latency only, and no test here
    # counts a prompt: skipped, so that every test can have services of its own.
    monkeypatch.setattr("gateway.services.warm_tokenizers", lambda router: None)
    text = CONFIG.format(
        log=tmp_path / "routing.log", url=simulator.url, port=free_port(), model=MODEL, limited=key_id(KEY_TWO)
    )
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    async with open_services(load_config(write_config(tmp_path, text), environ), environ) as opened:
        yield opened


async def budget_of(services: Services, admitted: Admitted) -> BudgetState:
    return (await services.admission.deployment_states([admitted.deployment]))[admitted.deployment.id]


async def test_admit_takes_one_request_of_zero_tokens(services: Services) -> None:
    admitted = await admit(services, key_id(KEY_ONE), MODEL)
    assert admitted.deployment.id == f"sim/{MODEL}"
    assert admitted.estimate == 0
    assert admitted.reservation is not None and admitted.reservation.tokens == 0
    budget = await budget_of(services, admitted)
    # 1,000 tokens a minute come with 6 requests: one request is taken, no token.
    assert (budget.remaining_requests, budget.remaining_tokens) == (5, 1000)


async def test_admit_refuses_a_key_out_of_requests(services: Services) -> None:
    await admit(services, key_id(KEY_TWO), MODEL)  # this key may open one session a minute
    with pytest.raises(RateLimited) as refused:
        await admit(services, key_id(KEY_TWO), MODEL)
    assert refused.value.by_client_key and refused.value.retry_after_s is not None


async def test_admit_passes_over_an_unhealthy_deployment(services: Services) -> None:
    for _ in range(services.config.health.consecutive_failures):
        services.health.record_failure(f"twin-a/{MODEL}", "upstream_unreachable")
    chosen = {(await admit(services, key_id(KEY_ONE), "twin")).deployment.id for _ in range(8)}
    assert chosen == {f"twin-b/{MODEL}"}


async def test_admit_of_a_model_without_deployments_is_a_404(services: Services) -> None:
    with pytest.raises(ModelNotFound):
        await admit(services, key_id(KEY_ONE), "gpt-4.1")


async def test_call_azure_opens_the_session_and_settles_the_opening(services: Services, sim: SimulatorControl) -> None:
    # Azure's handshake says how many tokens the deployment has left: the settle takes that in.
    sim.add_fault(deployment=MODEL, headers={"x-ratelimit-remaining-tokens": "400"})
    admitted = await admit(services, key_id(KEY_ONE), MODEL)
    greeting = hello(f"model={MODEL}", offered=["realtime", BETA])
    client_headers = Headers({"authorization": f"Bearer {KEY_ONE}", "x-custom": "not forwarded"})
    azure = await call_azure(services, admitted, greeting, client_headers, "req-open")
    try:
        first = orjson.loads(await azure.recv())
    finally:
        await azure.close()
    assert first["type"] == "session.created"
    assert "modalities" in first["session"]  # the beta protocol, as the browser offered
    upstream = sim.last_request()
    assert (upstream["path"], upstream["protocol"]) == ("/openai/realtime", "beta")
    headers: dict[str, Any] = upstream["headers"]
    assert headers["api-key"] == SIMULATOR_KEY and headers["openai-beta"] == BETA_HEADER_VALUE
    assert headers["x-ms-client-request-id"] == "req-open"
    assert "authorization" not in headers and "x-custom" not in headers
    assert not any(KEY_ONE in value for value in headers.values())
    health = services.health.snapshot(admitted.deployment.id)
    assert (health.recent_requests, health.error_rate) == (1, 0.0)
    budget = await budget_of(services, admitted)
    assert (budget.remaining_requests, budget.remaining_tokens) == (5, 400)  # kept, and Azure's view taken


async def test_a_429_from_azure_refunds_and_cools_the_deployment_down(
    services: Services, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment=MODEL, status=429, headers={"retry-after-ms": "2500"})
    admitted = await admit(services, key_id(KEY_ONE), MODEL)
    with pytest.raises(UpstreamError) as refused:
        await call_azure(services, admitted, hello(f"model={MODEL}"), Headers({}), "req-429")
    assert refused.value.status == 429 and refused.value.headers()["retry-after-ms"] == "2500"
    budget = await budget_of(services, admitted)
    assert budget.remaining_requests == 6  # refunded
    assert 2.0 < budget.cooling_down_s <= 2.5
    health = services.health.snapshot(admitted.deployment.id)
    assert (health.state, health.error_rate, health.recent_requests) == ("cooling_down", 0.0, 1)


async def test_a_server_error_from_azure_refunds_and_counts_as_a_failure(
    services: Services, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment=MODEL, status=500)
    admitted = await admit(services, key_id(KEY_ONE), MODEL)
    with pytest.raises(UpstreamError) as refused:
        await call_azure(services, admitted, hello(f"model={MODEL}"), Headers({}), "req-500")
    assert refused.value.status == 500 and refused.value.code == "InternalServerError"
    budget = await budget_of(services, admitted)
    assert (budget.remaining_requests, budget.cooling_down_s) == (6, 0.0)
    health = services.health.snapshot(admitted.deployment.id)
    assert (health.state, health.error_rate, health.last_error) == ("healthy", 1.0, "InternalServerError")


async def test_an_unreachable_azure_refunds_and_counts_as_a_failure(services: Services) -> None:
    admitted = await admit(services, key_id(KEY_ONE), "unreachable")
    with pytest.raises(UpstreamUnreachable):
        await call_azure(services, admitted, hello("model=unreachable"), Headers({}), "req-gone")
    assert (await budget_of(services, admitted)).remaining_requests == 6
    assert services.health.snapshot(admitted.deployment.id).last_error == "upstream_unreachable"


async def test_a_session_that_fails_before_dialling_is_refunded_without_blaming_azure(
    services: Services, sim: SimulatorControl
) -> None:
    async def no_token() -> str:
        raise RuntimeError("no Entra ID token here")

    def provider(auth: EntraAuth) -> tuple[TokenProvider, Any]:
        return no_token, None

    failing = dataclasses.replace(services, credentials=UpstreamCredentials({}, entra_provider_factory=provider))
    admitted = await admit(failing, key_id(KEY_ONE), "by-entra")
    with pytest.raises(RuntimeError, match="no Entra ID token"):
        await call_azure(failing, admitted, hello("model=by-entra"), Headers({}), "req-entra")
    assert (await budget_of(services, admitted)).remaining_requests == 6
    assert services.health.snapshot(admitted.deployment.id).recent_requests == 0  # Azure was never asked
    assert sim.requests() == []
