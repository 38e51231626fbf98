"""`gateway azure import` and `gateway azure check` (commands.py), run as the CLI runs them: against the
simulator's management API on loopback, and against respx where Azure's answers must be ones the simulator
does not give (several accounts, a deployment still provisioning, refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
import yaml

from gateway.cli import main
from gateway.settings import load_config
from gateway.simulator import SimulatorSettings, create_simulator_app
from gateway.simulator.management import ACCOUNT
from tests.support.servers import serve

TOKEN = "management-token-that-must-never-be-printed"
ARM = "https://arm.test"


@pytest.fixture(scope="module")
def management_url() -> Iterator[str]:
    settings = SimulatorSettings(deployments={"chat": "gpt-4o", "mini": "gpt-4.1-mini"}, tokens_per_minute=30_000)
    with serve(create_simulator_app(settings), lifespan="off") as url:
        yield url


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARM_TOKEN", TOKEN)


def azure(action: str, url: str, *extra: str, account: str = ACCOUNT) -> int:
    return main(
        [
            "azure",
            action,
            *("--subscription", "sub-1", "--resource-group", "rg-ai", "--account", account),
            *("--management-url", url, "--token-env", "ARM_TOKEN"),
            *extra,
        ]
    )


def test_import_prints_the_blocks_for_the_account(management_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert azure("import", management_url) == 0
    printed = capsys.readouterr().out
    parsed = yaml.safe_load(printed)
    assert parsed["resources"] == {
        ACCOUNT: {"endpoint": f"{management_url}/", "auth": {"type": "api-key", "api_key_env": "AZURE_OPENAI_API_KEY"}}
    }
    assert parsed["deployments"] == [
        {"name": "chat", "model": "gpt-4o", "resource": ACCOUNT, "version": "2024-11-20", "tpm": 30_000, "rpm": 180},
        {
            "name": "mini",
            "model": "gpt-4.1-mini",
            "resource": ACCOUNT,
            "version": "2025-04-14",
            "tpm": 30_000,
            "rpm": 180,
        },
    ]


def test_import_writes_into_a_config_that_then_loads(
    management_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("# ours\nserver: {port: 9000}\n", encoding="utf-8")
    assert azure("import", management_url, "--write", str(path), "--resource-name", "sim", "--api-key-env", "K") == 0
    assert "wrote 2 deployment(s) on 1 resource(s)" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8").startswith("# ours\nserver: {port: 9000}\n")
    config = load_config(path, {"K": "key"})
    assert config.server.port == 9000
    assert [(item.resource, item.name, item.tpm) for item in config.deployments] == [
        ("sim", "chat", 30_000),
        ("sim", "mini", 30_000),
    ]


def test_a_file_that_cannot_be_rewritten_safely_is_left_alone(
    management_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gateway.yaml"
    original = "resources: {}\nresources: {}\n"
    path.write_text(original, encoding="utf-8")
    assert azure("import", management_url, "--write", str(path)) == 1
    assert "not written" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == original


def test_check_passes_on_an_imported_config_and_exits_1_naming_a_drift(
    management_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gateway.yaml"
    assert azure("import", management_url, "--write", str(path)) == 0
    assert azure("check", management_url, "--config", str(path)) == 0
    assert "matches Azure (2 deployment(s) on 1 resource(s))" in capsys.readouterr().out

    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: mini, model: gpt-4.1-mini", "name: mini, model: gpt-4o"), encoding="utf-8")
    assert azure("check", management_url, "--config", str(path)) == 1
    out = capsys.readouterr().out
    assert f"drift: {ACCOUNT}/mini: model: gpt-4o in the config, gpt-4.1-mini in Azure" in out
    assert "version: 2025-04-14 in the config" not in out  # the version stayed as imported
    path.write_text(text.replace('version: "2025-04-14"', 'version: "2024-07-18"'), encoding="utf-8")
    assert azure("check", management_url, "--config", str(path)) == 1
    assert f"drift: {ACCOUNT}/mini: version: 2024-07-18 in the config, 2025-04-14 in Azure" in capsys.readouterr().out


def test_check_exits_2_when_azure_cannot_be_asked(
    management_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gateway.yaml"
    assert azure("import", management_url, "--write", str(path)) == 0
    assert azure("check", management_url, "--config", str(path), account="nope") == 2
    assert "no account nope (resource group rg-ai, subscription sub-1) (404 ResourceNotFound" in capsys.readouterr().err


def test_check_exits_2_on_a_config_it_cannot_read(
    management_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert azure("check", management_url, "--config", str(tmp_path / "missing.yaml")) == 2
    assert "cannot read file" in capsys.readouterr().err


def test_an_unset_token_variable_asks_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ARM_TOKEN")
    with respx.mock:  # any request would fail the test: no route is mocked
        assert azure("import", ARM) == 2
    assert "ARM_TOKEN is empty or unset" in capsys.readouterr().err


def test_resource_names_must_match_the_accounts(management_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert azure("import", management_url, "--resource-name", "a", "--resource-name", "b") == 2
    assert "give --resource-name once per --account (1)" in capsys.readouterr().err


def arm_account(name: str) -> dict[str, object]:
    return {"name": name, "properties": {"endpoint": f"https://{name}.openai.azure.com/"}}


def arm_deployment(name: str, state: str = "Succeeded") -> dict[str, object]:
    return {
        "name": name,
        "sku": {"name": "GlobalStandard", "capacity": 10},
        "properties": {
            "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
            "provisioningState": state,
        },
    }


@respx.mock
def test_several_accounts_become_several_resources(capsys: pytest.CaptureFixture[str]) -> None:
    for account, deployments in (("contoso-swe", ["chat", "new"]), ("contoso-eus", ["chat"])):
        path = (
            f"{ARM}/subscriptions/sub-1/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/{account}"
        )
        respx.get(path).respond(200, json=arm_account(account))
        documents = [arm_deployment(name, "Creating" if name == "new" else "Succeeded") for name in deployments]
        respx.get(f"{path}/deployments").respond(200, json={"value": documents})
    assert (
        main(
            [
                *("azure", "import", "--subscription", "sub-1", "--resource-group", "rg-ai"),
                *("--account", "contoso-swe", "--account", "contoso-eus", "--management-url", ARM),
                *("--token-env", "ARM_TOKEN"),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    parsed = yaml.safe_load(captured.out)
    assert parsed["resources"]["contoso-swe"]["auth"]["api_key_env"] == "AZURE_OPENAI_API_KEY_CONTOSO_SWE"
    assert parsed["resources"]["contoso-eus"]["endpoint"] == "https://contoso-eus.openai.azure.com/"
    assert [(item["resource"], item["name"], item["tpm"], item["rpm"]) for item in parsed["deployments"]] == [
        ("contoso-swe", "chat", 10_000, 60),
        ("contoso-eus", "chat", 10_000, 60),
    ]
    assert "contoso-swe: left out new: provisioningState is Creating, not Succeeded" in captured.err


@respx.mock
def test_a_refused_token_is_explained_and_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    respx.route(host="arm.test").mock(
        return_value=httpx.Response(401, json={"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}})
    )
    assert azure("import", ARM) == 2
    captured = capsys.readouterr()
    assert "401 ExpiredAuthenticationToken" in captured.err and "az login" in captured.err
    assert TOKEN not in captured.err + captured.out


def test_check_needs_no_keys_or_endpoints_in_the_environment(
    management_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gateway.yaml"
    assert azure("import", management_url, "--write", str(path), "--api-key-env", "UNSET_KEY") == 0
    path.write_text(path.read_text(encoding="utf-8").replace(f"{management_url}/", "${UNSET_ENDPOINT}"), "utf-8")
    monkeypatch.delenv("UNSET_KEY", raising=False)
    monkeypatch.delenv("UNSET_ENDPOINT", raising=False)
    assert azure("check", management_url, "--config", str(path)) == 0
    assert "matches Azure" in capsys.readouterr().out
