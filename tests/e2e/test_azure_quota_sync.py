"""`azure.sync_seconds`: a running `gateway serve` reads its deployments' quota from Azure's management API (the
session's simulator serves it) and takes it without a restart, keeping what its budgets have used; a reload of
the file keeps the quota Azure gave, and Azure unreachable leaves the quota as last read."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import openai

from tests.conftest import Simulator
from tests.support.gateway_config import ADMIN_KEY, CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.served_gateway import ServedProcess, reading_stderr, start_gateway_serve
from tests.support.servers import free_port

# Only a safety net for a gateway that never gets there: what is asserted is what happened, not how fast.
TIMEOUT = 60.0
SIMULATED_TPM = 1_000_000  # what the session's simulator says each deployment has (its tokens_per_minute)

CONFIG = """
resources:
  sim: {{endpoint: "{simulator}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: 50000}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim, tpm: 60000, rpm: 300}}
azure:
  sync_seconds: 0.2
  subscription: sub-1
  resource_group: rg-1
  accounts: {{sim: {account}}}
  management_url: "{management}"
  token_env: MANAGEMENT_TOKEN
log: {{routing_log: "{log}"}}
"""


class ServedGateway(ServedProcess):
    async def said(self, text: str, times: int = 1) -> list[str]:
        return await asyncio.wait_for(super().said(text, times), TIMEOUT)

    async def deployments(self) -> dict[str, dict[str, Any]]:
        async with httpx.AsyncClient() as http:
            response = await http.get(
                f"{self.url}/gateway/deployments", headers={"authorization": f"Bearer {ADMIN_KEY}"}
            )
        response.raise_for_status()
        return {row["id"]: row for row in response.json()["data"]}


@asynccontextmanager
async def gateway_serve(config: Path) -> AsyncIterator[ServedGateway]:
    port = free_port()
    environ = {
        "SIM_KEY": SIMULATOR_KEY,
        "MANAGEMENT_TOKEN": "management-token-for-tests",
        "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS),
        "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
    }
    gateway = ServedGateway(await start_gateway_serve(config, port, environ), port)
    async with reading_stderr(gateway):
        yield gateway


def write(directory: Path, simulator: Simulator, *, account: str = "simulated-openai", management: str = "") -> Path:
    text = CONFIG.format(
        simulator=simulator.url, account=account, management=management or simulator.url, log=directory / "routing.log"
    )
    return write_config(directory, text)


async def test_a_running_gateway_takes_azures_quota_and_keeps_it_across_a_reload(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = write(tmp_path, simulator)
    async with gateway_serve(config) as gateway:
        await gateway.said("Application startup complete.")
        client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEYS[0])
        answered = await client.chat.completions.with_raw_response.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "Name a river."}]
        )
        assert answered.headers["x-gateway-deployment"] == "sim/gpt-4.1"
        await client.close()

        (synced,) = await gateway.said("azure quota sync: read the quota of")
        await gateway.said(" taken: ")
        rows = await gateway.deployments()
        # The file said 50,000 and 60,000 TPM (and 300 RPM): Azure's quota now holds, without a restart...
        assert rows["sim/gpt-4.1"]["limit_tokens"] == SIMULATED_TPM
        assert rows["sim/gpt-4.1-mini"]["limit_tokens"] == SIMULATED_TPM
        assert rows["sim/gpt-4.1-mini"]["limit_requests"] == SIMULATED_TPM * 6 // 1000
        # ...against what the budget had used before it (the answer's tokens are still counted).
        assert rows["sim/gpt-4.1"]["remaining_tokens"] < SIMULATED_TPM

        # The next rounds find the same quota: nothing more is reloaded; a reload of the file keeps Azure's quota.
        os.kill(gateway.process.pid, signal.SIGHUP)
        await gateway.said(" taken: ", times=2)
        assert (await gateway.deployments())["sim/gpt-4.1"]["limit_tokens"] == SIMULATED_TPM
        assert sum("reloading with it" in line for line in gateway.stderr) == 1, synced


async def test_an_account_azure_does_not_know_leaves_the_quota_of_the_file(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = write(tmp_path, simulator, account="no-such-account")
    async with gateway_serve(config) as gateway:
        warning = (await gateway.said("azure quota sync: "))[0]
        assert "404" in warning and "quota last read stays" in warning
        assert "management-token-for-tests" not in "".join(gateway.stderr)
        assert (await gateway.deployments())["sim/gpt-4.1"]["limit_tokens"] == 50_000
