from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.errors import ModelNotFound
from gateway.settings.schema import ApiKeyAuth, EntraAuth, GatewayConfig
from gateway.upstream.deployments import CLASSIC_DEFAULT_API_VERSION, Deployment, DeploymentTable

RESOURCES: dict[str, Any] = {
    "east": {"endpoint": "https://east.openai.azure.com/", "auth": {"type": "api-key", "api_key_env": "EAST_KEY"}},
    "west": {
        "endpoint": "https://west.example.com/prefix/",
        "auth": {"type": "entra"},
        "api_style": "v1",
        "api_version": "preview",
    },
    "dated": {
        "endpoint": "https://dated.openai.azure.com",
        "auth": {"type": "api-key", "api_key_env": "DATED_KEY"},
        "api_version": "2024-10-21",
    },
}


def table(*deployments: dict[str, Any]) -> DeploymentTable:
    config = GatewayConfig.model_validate_json(orjson.dumps({"resources": RESOURCES, "deployments": deployments}))
    return DeploymentTable.from_config(config)


def deployment(name: str, model: str) -> Deployment:
    return Deployment(
        id=f"r/{name}",
        name=name,
        model=model,
        resource="r",
        endpoint="https://r.openai.azure.com",
        api_style="classic",
        api_version="2024-10-21",
        auth=ApiKeyAuth(api_key_env="K"),
    )


def test_a_deployment_is_compiled_from_its_entry_and_its_resource() -> None:
    [compiled] = table({"name": "chat", "model": "gpt-4.1", "resource": "east", "tpm": 1000, "priority": 1}).all
    assert compiled == Deployment(
        id="east/chat",
        name="chat",
        model="gpt-4.1",
        resource="east",
        endpoint="https://east.openai.azure.com",  # no trailing slash
        api_style="classic",
        api_version=CLASSIC_DEFAULT_API_VERSION,  # classic needs a version: the default one
        auth=ApiKeyAuth(api_key_env="EAST_KEY"),
        priority=1,
        weight=1,
        tpm=1000,
        realtime_api=None,
    )


def test_the_resource_sets_style_version_auth_and_endpoint_prefix() -> None:
    [compiled] = table({"name": "chat", "model": "gpt-4.1", "resource": "west", "weight": 3}).all
    assert (compiled.endpoint, compiled.api_style, compiled.api_version) == (
        "https://west.example.com/prefix",
        "v1",
        "preview",
    )
    assert isinstance(compiled.auth, EntraAuth) and compiled.weight == 3


def test_a_resources_dated_version_is_used_for_classic() -> None:
    [compiled] = table({"name": "chat", "model": "gpt-4.1", "resource": "dated"}).all
    assert compiled.api_version == "2024-10-21"


@pytest.mark.parametrize(
    ("overrides", "style", "version"),
    [
        ({"api_style": "v1"}, "v1", None),  # v1 GA: no version, and no classic default either
        ({"api_version": "2025-01-01-preview"}, "classic", "2025-01-01-preview"),
        ({"api_style": "v1", "api_version": "preview"}, "v1", "preview"),
    ],
)
def test_a_deployment_overrides_its_resources_style_and_version(
    overrides: dict[str, str], style: str, version: str | None
) -> None:
    [compiled] = table({"name": "chat", "model": "gpt-4.1", "resource": "east", **overrides}).all
    assert (compiled.api_style, compiled.api_version) == (style, version)


def test_a_deployments_realtime_url_choice_is_kept() -> None:
    [compiled] = table({"name": "rt", "model": "gpt-4o-realtime", "resource": "east", "realtime_api": "ga"}).all
    assert compiled.realtime_api == "ga"


def test_deployments_are_looked_up_by_model_in_config_order() -> None:
    compiled = table(
        {"name": "a", "model": "gpt-4.1", "resource": "east"},
        {"name": "mini", "model": "gpt-4.1-mini", "resource": "east"},
        {"name": "a", "model": "gpt-4.1", "resource": "west"},
    )
    assert [found.id for found in compiled.for_model("gpt-4.1")] == ["east/a", "west/a"]
    assert compiled.first_for_model("gpt-4.1").id == "east/a"
    assert compiled.models == ("gpt-4.1", "gpt-4.1-mini")
    assert [found.id for found in compiled.all] == ["east/a", "east/mini", "west/a"]


def test_an_unserved_model_has_no_deployments() -> None:
    compiled = DeploymentTable([deployment("chat", "gpt-4.1")])
    assert compiled.for_model("gpt-9") == ()
    with pytest.raises(ModelNotFound) as caught:
        compiled.first_for_model("gpt-9")
    assert (caught.value.status, caught.value.param) == (404, "model")
    assert "`gpt-9`" in caught.value.message


def test_an_empty_table_serves_nothing() -> None:
    empty = DeploymentTable([])
    assert (empty.all, empty.models, empty.for_model("gpt-4.1")) == ((), (), ())


def test_a_table_takes_any_iterable_once() -> None:
    compiled = DeploymentTable(deployment(name, "gpt-4.1") for name in ("a", "b"))
    assert [found.name for found in compiled.all] == ["a", "b"]
    assert [found.name for found in compiled.for_model("gpt-4.1")] == ["a", "b"]
