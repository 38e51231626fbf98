"""`gateway azure import` from the simulator's management API into a config, that config served, and
`gateway azure check` naming a drift: the operator's commands as processes, the gateway for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openai

from gateway.simulator.management import ACCOUNT
from gateway.simulator.settings import DEFAULT_DEPLOYMENTS
from tests.conftest import SECOND_DEPLOYMENTS, GatewayFactory, Simulator
from tests.support.gateway_config import SIMULATOR_KEY

GATEWAY = [sys.executable, "-m", "gateway"]
MANAGEMENT_TOKEN = "arm-token-for-the-e2e-test-never-printed"
ORIGINAL = """\
# Our gateway. The blocks below come from `gateway azure import`.
server:
  port: 8080   # this comment stays

resources:
  placeholder:
    endpoint: https://placeholder.openai.azure.com/
    auth: {type: api-key, api_key_env: SIM_KEY}

# What each model runs on.
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: placeholder}

# Trailing words stay too.
"""


def gateway_command(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    environ |= {"ARM_TOKEN": MANAGEMENT_TOKEN, "SIM_KEY": SIMULATOR_KEY}
    return subprocess.run([*GATEWAY, *args], env=environ, capture_output=True, text=True, timeout=120)


def account_options(simulator: Simulator) -> list[str]:
    return [
        *("--subscription", "sub-1", "--resource-group", "rg-ai", "--account", ACCOUNT, "--resource-name", "azure"),
        *("--management-url", simulator.url, "--token-env", "ARM_TOKEN"),
    ]


def test_import_serve_and_check_drift(simulator: Simulator, make_gateway: GatewayFactory, tmp_path: Path) -> None:
    path = tmp_path / "imported.yaml"
    path.write_text(ORIGINAL, encoding="utf-8")

    imported = gateway_command(
        "azure", "import", *account_options(simulator), "--api-key-env", "SIM_KEY", "--write", str(path)
    )
    assert imported.returncode == 0, imported.stderr
    written = path.read_text(encoding="utf-8")
    assert written.startswith("# Our gateway. The blocks below come from `gateway azure import`.\nserver:\n")
    assert "\n# What each model runs on.\ndeployments:\n" in written and written.endswith(
        "\n# Trailing words stay too.\n"
    )
    assert "placeholder" not in written
    assert (
        '  - {name: gpt-4.1-b, model: gpt-4.1, resource: azure, version: "2025-04-14", tpm: 1000000, rpm: 6000}\n'
        in written
    )

    checked = gateway_command("check", "--config", str(path))
    assert checked.returncode == 0, checked.stderr
    deployment_count = len({**DEFAULT_DEPLOYMENTS, **SECOND_DEPLOYMENTS})  # what the simulator fixture serves
    assert f"OK ({deployment_count} deployments on 1 resource(s))" in checked.stdout

    with (
        make_gateway(written) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-gateway-deployment"] in {"azure/gpt-4.1-mini", "azure/gpt-4.1-mini-b"}

    assert gateway_command("azure", "check", "--config", str(path), *account_options(simulator)).returncode == 0
    line = '{name: gpt-4.1, model: gpt-4.1, resource: azure, version: "2025-04-14", tpm: 1000000,'
    assert line in written
    path.write_text(written.replace(line, line.replace("tpm: 1000000", "tpm: 50000")), encoding="utf-8")
    drifted = gateway_command("azure", "check", "--config", str(path), *account_options(simulator))
    assert drifted.returncode == 1, drifted.stderr
    assert "drift: azure/gpt-4.1: tpm: 50,000 in the config, 1,000,000 in Azure" in drifted.stdout
    for result in (imported, checked, drifted):
        assert MANAGEMENT_TOKEN not in result.stdout + result.stderr
        assert SIMULATOR_KEY not in result.stdout + result.stderr
