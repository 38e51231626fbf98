"""reload.py: reading a new config as start-up would, building the next Services from the running ones with their
state carried over, switching to them while requests in flight finish on the old ones, and SIGHUP.

Services are built by the real open_services on a real config file; the tests that send requests serve the app
with uvicorn on loopback, the session's simulator as Azure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.datastructures import State

from gateway.inbound.client_auth import key_id
from gateway.limits import Budget
from gateway.limits.worker_share import WORKER_COUNT_VARIABLE
from gateway.reload import (
    ReloadRefused,
    Reloads,
    changes,
    kept_from_start,
    next_services,
    read_config,
)
from gateway.services import Services, open_services
from gateway.settings import GatewayConfig, load_config
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config

ENVIRON = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
KEY_ID = key_id(CLIENT_KEYS[0])

POLICY = """
start: main
aliases:
  fast: {{models: [{fast}]}}
nodes:
  main: {{models: [gpt-4.1]}}
"""


def config_text(
    endpoint: str = "http://127.0.0.1:9",
    *,
    fast: str = "gpt-4.1-mini",
    tpm: int = 1000,
    extra_deployment: str = "whisper",
    extra: str = "",
) -> str:
    return f"""
log: {{routing_log: "LOG_DIR/routing.log"}}
health: {{consecutive_failures: 2}}
routing: {{policy: policy.yaml}}
resources:
  sim: {{endpoint: "{endpoint}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: {tpm}}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim, tpm: 100000}}
  - {{name: {extra_deployment}, model: {extra_deployment.removesuffix("-b")}, resource: sim}}
{extra}
"""


def write(tmp_path: Path, text: str, *, fast: str = "gpt-4.1-mini") -> Path:
    write_config(tmp_path, POLICY.format(fast=fast), "policy.yaml")
    return write_config(tmp_path, text.replace("LOG_DIR", str(tmp_path)))


def load(tmp_path: Path, text: str, *, fast: str = "gpt-4.1-mini") -> GatewayConfig:
    return load_config(write(tmp_path, text, fast=fast), ENVIRON)


def one_tpm_budget(config: GatewayConfig) -> Budget:
    (item,) = [item for item in config.deployments if item.name == "gpt-4.1"]
    return Budget("dep:sim/gpt-4.1", item.tpm, None)


# -- read_config ---------------------------------------------------------------------------------------------


def test_a_yaml_error_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, config_text() + "  - {name: broken, model: [\n")
    with pytest.raises(ReloadRefused, match=rf"^config error: {path}:\d+: "):
        read_config(path, ENVIRON)


def test_a_policy_error_is_refused_with_the_policy_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(), fast="no-such-model")
    with pytest.raises(ReloadRefused) as refused:
        read_config(path, ENVIRON)
    assert str(refused.value).startswith(f"config error: {tmp_path / 'policy.yaml'}:4: ")
    assert "no-such-model" in str(refused.value)


def test_a_worker_reads_its_share_of_every_budget(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(tpm=1000))
    assert one_tpm_budget(read_config(path, ENVIRON)).tokens_per_minute == 1000
    in_a_worker = {**ENVIRON, WORKER_COUNT_VARIABLE: "2"}
    assert one_tpm_budget(read_config(path, in_a_worker)).tokens_per_minute == 500


def test_azures_quota_is_laid_over_the_file_before_a_worker_takes_its_share(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(tpm=1000))
    quota = {("sim", "gpt-4.1"): (8000, None), ("sim", "gone"): (5, 5)}
    assert one_tpm_budget(read_config(path, ENVIRON, quota)).tokens_per_minute == 8000
    in_a_worker = {**ENVIRON, WORKER_COUNT_VARIABLE: "2"}
    assert one_tpm_budget(read_config(path, in_a_worker, quota)).tokens_per_minute == 4000


def test_a_worker_refuses_a_config_that_says_to_refuse_dividing(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(extra="rate_limits: {workers_without_redis: refuse}"))
    with pytest.raises(ReloadRefused, match=r"set rate_limits\.redis_url"):
        read_config(path, {**ENVIRON, WORKER_COUNT_VARIABLE: "2"})


# -- kept_from_start -----------------------------------------------------------------------------------------


def test_what_only_start_up_reads_stays_as_it_was_and_each_change_is_warned(tmp_path: Path) -> None:
    running = load(tmp_path, config_text())
    new = load(
        tmp_path,
        config_text(tpm=2000).replace("routing.log", "other.log")
        + "server: {drain_seconds: 5}\nrate_limits: {burst_fraction: null, default_max_tokens: 7}\n",
    )
    kept, warnings = kept_from_start(running, new)
    assert kept.server == running.server
    assert kept.log == running.log
    assert kept.rate_limits.burst_fraction == running.rate_limits.burst_fraction
    assert kept.rate_limits.default_max_tokens == 7  # read per request: taken
    assert one_tpm_budget(kept).tokens_per_minute == 2000
    assert [warning.split(" ")[0] for warning in warnings] == [
        "server:",
        "log.routing_log",
        "rate_limits.burst_fraction:",
    ]


def test_a_config_changing_nothing_read_at_start_is_taken_whole_without_warnings(tmp_path: Path) -> None:
    running = load(tmp_path, config_text())
    new = load(tmp_path, config_text(tpm=5), fast="gpt-4.1")
    assert kept_from_start(running, new) == (new, [])


def test_changes_names_the_deployments_added_removed_and_changed(tmp_path: Path) -> None:
    running = load(tmp_path, config_text())
    new = load(tmp_path, config_text(tpm=2000, extra_deployment="gpt-4.1-mini-b"))
    assert changes(running, new) == "added sim/gpt-4.1-mini-b; removed sim/whisper; changed sim/gpt-4.1"
    assert changes(running, running) == "no deployment changed"


# -- next_services -------------------------------------------------------------------------------------------


@asynccontextmanager
async def running_services(config: GatewayConfig) -> AsyncIterator[Services]:
    async with open_services(config, ENVIRON) as services:
        yield services


async def test_the_next_services_keep_every_stateful_part_and_build_the_rest(tmp_path: Path) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        config = load(tmp_path, config_text(tpm=2000, extra_deployment="gpt-4.1-mini-b"), fast="gpt-4.1")
        following = await next_services(running, config, ENVIRON)
        try:
            for kept in ("credentials", "routing_log", "remaining_tokens", "body_budget", "response_homes"):
                assert getattr(following, kept) is getattr(running, kept), kept
            assert following.realtime_slots is running.realtime_slots
            assert following.admission.limiter is running.admission.limiter
            assert following.upstream is running.upstream  # its settings did not change
            for rebuilt in ("router", "dispatcher", "deployments", "admission", "health", "header_policy"):
                assert getattr(following, rebuilt) is not getattr(running, rebuilt), rebuilt
            assert following.config is config
            assert [item.id for item in following.deployments.all] == [
                "sim/gpt-4.1",
                "sim/gpt-4.1-mini",
                "sim/gpt-4.1-mini-b",
            ]
        finally:
            await following.health.aclose()


async def test_a_kept_deployment_keeps_its_usage_under_its_new_limit(tmp_path: Path) -> None:
    async with running_services(load(tmp_path, config_text(tpm=1000))) as running:
        gpt41 = running.deployments.by_id("sim/gpt-4.1")
        assert gpt41 is not None
        admitted = await running.admission.admit(KEY_ID, "gpt-4.1", [gpt41], 300)
        await running.admission.settle(admitted, 300, {})
        following = await next_services(running, load(tmp_path, config_text(tpm=2000)), ENVIRON)
        try:
            (state,) = (await following.admission.deployment_states(following.deployments.all[:1])).values()
            assert (state.limit_tokens, state.remaining_tokens) == (2000, 1700)
            # The old config's admission, still used by requests in flight, sees the same usage.
            (old_state,) = (await running.admission.deployment_states([gpt41])).values()
            assert (old_state.limit_tokens, old_state.remaining_tokens) == (1000, 700)
        finally:
            await following.health.aclose()


async def test_breakers_and_cool_downs_of_remaining_deployments_carry_over_and_added_ones_start_healthy(
    tmp_path: Path,
) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        for _ in range(2):  # consecutive_failures: 2
            running.health.record_failure("sim/gpt-4.1", "HTTP 500")
        running.health.cool_down("sim/gpt-4.1-mini", 30)
        config = load(tmp_path, config_text(extra_deployment="gpt-4.1-mini-b"))
        following = await next_services(running, config, ENVIRON)
        try:
            opened = following.health.snapshot("sim/gpt-4.1")
            assert (opened.state, opened.last_error) == ("open", "HTTP 500")
            assert following.health.snapshot("sim/gpt-4.1-mini").state == "cooling_down"
            assert following.health.snapshot("sim/gpt-4.1-mini-b").state == "healthy"
            with pytest.raises(KeyError):
                following.health.snapshot("sim/whisper")  # removed: its state is dropped
            # A request finishing on the old board reports to the same breaker.
            running.health.record_success("sim/gpt-4.1-mini")
            assert following.health.snapshot("sim/gpt-4.1-mini").recent_requests == 1
        finally:
            await following.health.aclose()


async def test_other_health_settings_start_every_breaker_afresh(tmp_path: Path) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        for _ in range(2):
            running.health.record_failure("sim/gpt-4.1", "HTTP 500")
        config = load(tmp_path, config_text().replace("consecutive_failures: 2", "consecutive_failures: 3"))
        following = await next_services(running, config, ENVIRON)
        try:
            assert following.health.snapshot("sim/gpt-4.1").state == "healthy"
        finally:
            await following.health.aclose()


async def test_the_upstream_client_is_replaced_only_when_its_own_settings_change(tmp_path: Path) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        headers_only = load(tmp_path, config_text(extra="upstream: {forward_headers: [x-team]}"))
        following = await next_services(running, headers_only, ENVIRON)
        assert following.upstream is running.upstream
        assert following.header_policy is not running.header_policy
        await following.health.aclose()
        timeouts = load(tmp_path, config_text(extra="upstream: {read_timeout_seconds: 30}"))
        following = await next_services(running, timeouts, ENVIRON)
        assert following.upstream is not running.upstream
        await following.health.aclose()
        await following.upstream.aclose()


async def test_keys_are_read_again_from_the_environment_and_never_dropped_altogether(tmp_path: Path) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        other_variable = config_text(extra="client_keys: {env: TEAM_KEYS}\nadmin: {env: OPS_KEYS}")
        environ = {**ENVIRON, "TEAM_KEYS": "sk-team", "OPS_KEYS": "ops:sk-ops"}
        following = await next_services(running, load(tmp_path, other_variable), environ)
        assert following.client_keys.ids == {key_id("sk-team")}
        assert following.admin_keys is not running.admin_keys
        await following.health.aclose()
        with pytest.raises(ReloadRefused, match="no client keys in TEAM_KEYS"):
            await next_services(running, load(tmp_path, other_variable), ENVIRON)


# -- Reloads -------------------------------------------------------------------------------------------------


async def test_a_refused_reload_is_logged_with_file_and_line_and_the_running_services_stay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        state = State({"services": running})
        reloads = Reloads(state, running, ENVIRON)
        path = write(tmp_path, config_text() + "deployments: [\n")
        with caplog.at_level(logging.INFO, logger="gateway"):
            assert not await reloads.reload_file(path)
        assert state.services is running and reloads.reloaded == 0
        (refusal,) = [record.getMessage() for record in caplog.records]
        assert refusal.startswith(f"reload refused: config error: {path}:")
        assert "the running config keeps serving" in refusal
        await reloads.aclose()


async def test_a_reload_switches_the_app_to_the_new_services_and_says_what_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        state = State({"services": running})
        reloads = Reloads(state, running, ENVIRON)
        path = write(tmp_path, config_text(tpm=2000) + "server: {drain_seconds: 5}\n", fast="gpt-4.1")
        with caplog.at_level(logging.INFO, logger="gateway"):
            assert await reloads.reload_file(path)
        assert state.services is reloads.services is not running
        assert state.services.config.server == running.config.server
        messages = [record.getMessage() for record in caplog.records]
        assert messages[0].startswith("reload: server: is read at start only")
        assert messages[1].startswith(f"reload: {path} taken: 3 deployments (changed sim/gpt-4.1) (process ")
        await reloads.aclose()


# An UpstreamClient tells whether it is closed to nobody but itself: these tests read its flag.
async def test_a_replaced_upstream_client_is_closed_once_the_requests_that_started_on_it_are_done(
    tmp_path: Path,
) -> None:
    async with running_services(load(tmp_path, config_text())) as running:
        reloads = Reloads(State({"services": running}), running, ENVIRON)
        in_flight = reloads.entered()
        assert await reloads.reload_file(write(tmp_path, config_text(extra="upstream: {read_timeout_seconds: 30}")))
        replaced = reloads.services.upstream
        await asyncio.sleep(0)  # the closing task runs as far as it can
        assert not running.upstream._closed
        after = reloads.entered()  # a request on the new services does not hold the old ones
        in_flight.leave()
        await reloads.settled()
        assert running.upstream._closed
        assert not replaced._closed
        after.leave()
        await reloads.aclose()
        assert replaced._closed  # made by a reload: closed by it, at the app's stop
