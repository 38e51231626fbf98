from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from gateway.settings.schema import (
    ApiKeyAuth,
    BodyLimits,
    EntraAuth,
    GatewayConfig,
    HealthSettings,
    KiB,
    MiB,
    RealtimeSettings,
    RetrySettings,
    ServerSettings,
)

RESOURCE = {"endpoint": "https://east.openai.azure.com", "auth": {"type": "api-key", "api_key_env": "K"}}
DEPLOYMENT = {"name": "chat", "model": "gpt-4.1", "resource": "east"}


def config(**sections: Any) -> GatewayConfig:
    # As load_config validates: JSON mode, strict.
    data = {"resources": {"east": RESOURCE}, "deployments": [DEPLOYMENT], **sections}
    return GatewayConfig.model_validate_json(orjson.dumps(data), strict=True)


# HealthSettings


def test_defaults() -> None:
    settings = HealthSettings()
    assert (settings.consecutive_failures, settings.failure_ratio, settings.min_requests) == (5, 0.5, 10)
    assert (settings.window_seconds, settings.open_seconds, settings.half_open_probes) == (30, 30, 1)
    assert settings.sync_seconds == 0.5


def test_whole_numbers_are_accepted_for_seconds() -> None:
    assert HealthSettings.model_validate({"open_seconds": 60}).open_seconds == 60.0


@pytest.mark.parametrize(
    "values",
    [
        {"consecutive_failures": 0},
        {"failure_ratio": 0},
        {"failure_ratio": 1.5},
        {"min_requests": 0},
        {"window_seconds": 0},
        {"open_seconds": -1},
        {"half_open_probes": 0},
        {"sync_seconds": 0},
        {"sync_seconds": 120},
        {"open_seconds": "30"},  # strict: YAML that quotes a number is a mistake worth reporting
        {"open_second": 30},  # a typo must not fall back to the default
    ],
)
def test_rejects(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HealthSettings.model_validate(values)


def test_the_health_package_exports_this_same_class() -> None:
    import gateway.health

    assert gateway.health.HealthSettings is HealthSettings


# The whole file


def test_a_minimal_config_takes_every_default() -> None:
    loaded = config()
    assert loaded.limits == BodyLimits(
        json_bytes=50 * MiB, audio_bytes=25 * MiB, image_bytes=50 * MiB, buffered_bytes=200 * MiB
    )
    assert loaded.retries == RetrySettings()
    assert loaded.health == HealthSettings()
    assert (loaded.server.host, loaded.server.port, loaded.log.routing_log) == ("0.0.0.0", 8080, "stdout")
    assert loaded.client_keys.env == "GATEWAY_API_KEYS"
    [deployment] = loaded.deployments
    assert (deployment.priority, deployment.weight, deployment.api_style, deployment.tpm) == (0, 1, None, None)
    assert loaded.resources["east"].api_style == "classic"
    assert loaded.resources["east"].auth == ApiKeyAuth(api_key_env="K")


def test_the_auth_type_picks_its_shape() -> None:
    entra = {"endpoint": "https://west.openai.azure.com", "auth": {"type": "entra", "managed_identity_client_id": "mi"}}
    loaded = config(resources={"west": entra}, deployments=[{**DEPLOYMENT, "resource": "west"}])
    auth = loaded.resources["west"].auth
    assert auth == EntraAuth(type="entra", managed_identity_client_id="mi")
    assert isinstance(auth, EntraAuth) and auth.scope == "https://cognitiveservices.azure.com/.default"


@pytest.mark.parametrize(
    "sections",
    [
        {"deployments": []},  # at least one deployment
        {"servre": {"port": 1}},  # unknown section
        {"server": {"port": 70000}},
        {"limits": {"json_bytes": 0}},
        {"limits": {"buffered_bytes": 0}},
        {"server": {"max_header_bytes": 100}},  # too small for any real client's headers
        {"server": {"header_timeout_seconds": 0}},
        {"server": {"body_idle_timeout_seconds": -1}},
        {"server": {"body_timeout_seconds": 0}},
        {"server": {"keep_alive_timeout_seconds": 0.5}},  # whole seconds: uvicorn's keep-alive takes an int
        {"server": {"max_concurrent_requests": 0}},
        {"realtime": {"max_sessions_per_key": 0}},
        {"retries": {"max_attempts": 21}},
        {"retries": {"retry_on": [418]}},
        {"rate_limits": {"when_redis_down": "ignore"}},
        {"rate_limits": {"burst_fraction": 1.5}},
        {"resources": {"east": {**RESOURCE, "auth": {"type": "password"}}}},
        {"resources": {"east": {**RESOURCE, "endpoint": "not a url"}}},
        {"resources": {"east": {**RESOURCE, "api_style": "v2"}}},
        {"deployments": [{**DEPLOYMENT, "weight": 0}]},
        {"deployments": [{**DEPLOYMENT, "realtime_api": "preview"}]},
    ],
)
def test_rejects_a_wrong_file(sections: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config(**sections)


def test_settings_are_frozen() -> None:
    loaded = config()
    with pytest.raises(ValidationError):
        loaded.server.port = 9090


# Bounds on what clients hold at once (issue 12)


def test_every_bound_has_a_safe_default() -> None:
    server = config().server
    assert (server.max_header_bytes, server.header_timeout_seconds) == (32 * KiB, 10.0)
    assert (server.body_idle_timeout_seconds, server.body_timeout_seconds) == (30.0, 300.0)
    assert (server.keep_alive_timeout_seconds, server.max_concurrent_requests) == (5, 1000)
    assert config().limits.buffered_bytes == 200 * MiB
    assert RealtimeSettings().max_sessions_per_key == 100  # a cap by default, not unlimited


def test_the_bounds_are_configurable() -> None:
    server = {
        "max_header_bytes": 8192,
        "header_timeout_seconds": 2,
        "body_idle_timeout_seconds": 5.5,
        "body_timeout_seconds": 60,
        "keep_alive_timeout_seconds": 75,
        "max_concurrent_requests": 64,
    }
    loaded = config(server=server, limits={"buffered_bytes": 64 * MiB, "json_bytes": 32 * MiB, "image_bytes": MiB})
    assert loaded.server == ServerSettings(**server)
    assert loaded.limits.buffered_bytes == 64 * MiB


def test_realtime_sessions_may_be_left_uncapped_on_purpose() -> None:
    assert config(realtime={"max_sessions_per_key": None}).realtime.max_sessions_per_key is None


def test_buffered_bytes_must_hold_the_largest_body() -> None:
    with pytest.raises(
        ValidationError, match=r"buffered_bytes \(10,485,760\) must be at least the largest body limit \(52,428,800\)"
    ):
        config(limits={"buffered_bytes": 10 * MiB})
    assert config(limits={"buffered_bytes": 50 * MiB}).limits.buffered_bytes == 50 * MiB  # exactly the largest


# ServerSettings: the drain time, under its name or its former one


@pytest.mark.parametrize(
    ("server", "seconds"),
    [({}, 30.0), ({"drain_seconds": 5}, 5.0), ({"shutdown_timeout_seconds": 7.5}, 7.5)],
)
def test_the_drain_time_is_read_under_either_name(server: dict[str, Any], seconds: float) -> None:
    assert config(server=server).server.drain_time_seconds == seconds


def test_the_drain_time_is_set_under_one_name_only() -> None:
    with pytest.raises(ValidationError, match="set drain_seconds or its former name shutdown_timeout_seconds"):
        config(server={"drain_seconds": 5, "shutdown_timeout_seconds": 5})


# AzureSettings: the quota sync names the accounts it reads


def test_the_quota_sync_is_off_by_default_and_needs_the_accounts_subscription_and_group() -> None:
    assert config().azure.sync_seconds is None
    needs = r"azure\.sync_seconds needs azure\.subscription and azure\.resource_group"
    with pytest.raises(ValidationError, match=needs):
        config(azure={"sync_seconds": 300, "subscription": "sub"})
    synced = config(azure={"sync_seconds": 300, "subscription": "sub", "resource_group": "rg"})
    assert (synced.azure.sync_seconds, synced.azure.management_url) == (300, "https://management.azure.com")
