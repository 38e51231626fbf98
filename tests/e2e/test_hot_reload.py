"""Reloading a real `gateway serve` process while clients keep sending to it (reload.py): SIGHUP and
`gateway reload`, a valid config taken, invalid ones refused with file:line, and --workers 2 reloading in place.

The gateway runs as operators run it, in a process of its own, with the session's simulator as Azure. Clients
ask for the policy's alias `fast`; each reload moves it between gpt-4.1 and gpt-4.1-mini, so the model that
answered (x-gateway-model) tells which config a request started on.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson

from tests.conftest import Simulator
from tests.support.gateway_config import ADMIN_KEY, CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.served_gateway import ServedProcess, reading_stderr, start_gateway_serve
from tests.support.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
# Only a safety net for a gateway that never gets there: what is asserted is what happened, not how fast.
TIMEOUT = 60.0
CLIENTS = 4
MESSAGES: list[Any] = [{"role": "user", "content": "Name three rivers."}]

POLICY = """
start: main
aliases:
  fast: {{models: [{fast}]}}
nodes:
  main: {{models: [gpt-4.1]}}
"""

CONFIG = """
routing: {{policy: policy.yaml}}
resources:
  sim: {{endpoint: "{simulator}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: {tpm}}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: sim, tpm: 10000000}}
  - {{name: {third}, model: {third_model}, resource: sim}}
log: {{routing_log: "{log}"}}
"""
BEFORE = {"fast": "gpt-4.1", "tpm": 1_000_000, "third": "whisper", "third_model": "whisper"}
# The alias retargeted, gpt-4.1's TPM doubled, whisper (which no client asks for) removed, gpt-4.1-mini-b added.
AFTER = {"fast": "gpt-4.1-mini", "tpm": 2_000_000, "third": "gpt-4.1-mini-b", "third_model": "gpt-4.1-mini"}


def config_text(directory: Path, simulator: Simulator, **values: Any) -> str:
    return CONFIG.format(simulator=simulator.url, log=directory / "routing.log", **values)


def write_configs(directory: Path, simulator: Simulator, **values: Any) -> Path:
    write_config(directory, POLICY.format(**values), "policy.yaml")
    return write_config(directory, config_text(directory, simulator, **values))


@dataclass
class ServedGateway(ServedProcess):
    pid_file: Path = field(kw_only=True)

    async def said(self, text: str, times: int = 1) -> list[str]:
        return await asyncio.wait_for(super().said(text, times), TIMEOUT)

    async def gateway_reload(self) -> None:
        """`gateway reload --pid-file`, as an operator runs it."""
        command = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "gateway", "reload", "--pid-file", str(self.pid_file)),
            cwd=REPO_ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        _, said = await command.communicate()
        assert command.returncode == 0, said
        assert b"sent SIGHUP to" in said


@asynccontextmanager
async def gateway_serve(config: Path, *extra: str) -> AsyncIterator[ServedGateway]:
    port = free_port()
    pid_file = config.parent / "gateway.pid"
    environ = {
        "SIM_KEY": SIMULATOR_KEY,
        "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS),
        "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
    }
    process = await start_gateway_serve(config, port, environ, "--pid-file", str(pid_file), *extra)
    gateway = ServedGateway(process, port, pid_file=pid_file)
    async with reading_stderr(gateway):
        yield gateway


@dataclass
class Answer:
    phase: int  # the reloads taken before the request started
    # Whether the request ran wholly between a reload's outcome being logged and the next signal; else the
    # config it met may be either one.
    between_reloads: bool
    status: int
    model: str | None


@dataclass
class Load:
    """Clients sending continuously, each request noting how many reloads had been taken when it started."""

    client: openai.AsyncOpenAI
    phase: int = 0
    signals: int = 0  # reload signals sent so far, taken or refused
    outcomes: int = 0  # of which the outcome was logged
    answers: list[Answer] = field(default_factory=list)
    stopping: bool = False
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def one_client(self) -> None:
        while not self.stopping:
            phase, signals, settled = self.phase, self.signals, self.outcomes == self.signals
            status, model = 0, None  # 0: no answer (the connection failed)
            try:
                raw = await self.client.chat.completions.with_raw_response.create(model="fast", messages=MESSAGES)
                status, model = raw.http_response.status_code, raw.headers.get("x-gateway-model")
            except openai.APIStatusError as error:
                status = error.status_code
            except openai.APIConnectionError:
                pass
            answer = Answer(phase, settled and self.signals == signals, status, model)
            async with self._progress:
                self.answers.append(answer)
                self._progress.notify_all()

    def signal_coming(self) -> None:
        self.signals += 1

    def outcome_logged(self, phase: int) -> None:
        self.outcomes, self.phase = self.signals, phase

    async def answered_in_phase(self, count: int) -> None:
        """Returns once `count` requests that started in the current phase have been answered."""
        phase = self.phase
        async with self._progress:
            await asyncio.wait_for(
                self._progress.wait_for(lambda: sum(answer.phase == phase for answer in self.answers) >= count),
                TIMEOUT,
            )


async def deployments(gateway: ServedGateway) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{gateway.url}/gateway/deployments", headers={"authorization": f"Bearer {ADMIN_KEY}"}
        )
    response.raise_for_status()
    return {row["id"]: row for row in response.json()["data"]}


def routing_log(directory: Path) -> list[dict[str, Any]]:
    written = (directory / "routing.log").read_bytes()
    return [orjson.loads(line) for line in written.splitlines() if line]


async def reload_while_loaded(
    gateway: ServedGateway, load: Load, path: Path, simulator: Simulator, tmp_path: Path
) -> None:
    """Reloads taken and refused while `load` runs, each phase waited for until 20 requests started in it."""
    await load.answered_in_phase(20)
    assert (await deployments(gateway))["sim/gpt-4.1"]["limit_tokens"] == 1_000_000

    # 1. SIGHUP: alias retargeted, a TPM changed, a deployment added and one removed.
    write_configs(tmp_path, simulator, **AFTER)
    load.signal_coming()
    gateway.process.send_signal(signal.SIGHUP)
    (taken,) = await gateway.said("reload: ")
    load.outcome_logged(1)
    assert f"reload: {path} taken: 3 deployments (added sim/gpt-4.1-mini-b; removed sim/whisper; " in taken
    await load.answered_in_phase(20)
    # Each line is written once its request is settled; nothing goes to gpt-4.1 any more.
    settled_on_gpt41 = sum(
        line["usage"]["total_tokens"] for line in routing_log(tmp_path) if line["deployment"] == "sim/gpt-4.1"
    )
    after = await deployments(gateway)
    assert sorted(after) == ["sim/gpt-4.1", "sim/gpt-4.1-mini", "sim/gpt-4.1-mini-b"]
    kept = after["sim/gpt-4.1"]
    # The new limit, against the usage it had (at least what its answers used; Azure's remaining tokens may
    # have lowered it further), where a reset budget would have all 2,000,000 left.
    assert kept["limit_tokens"] == 2_000_000
    assert 0 < settled_on_gpt41 <= 2_000_000 - kept["remaining_tokens"]

    # 2. `gateway reload` with a YAML error, then SIGHUP with a policy error: both refused, with file:line.
    write_config(tmp_path, config_text(tmp_path, simulator, **AFTER) + "deployments: [\n")
    load.signal_coming()
    await gateway.gateway_reload()
    (yaml_refusal,) = await gateway.said("reload refused")
    assert re.search(rf"reload refused: config error: {re.escape(str(path))}:\d+: ", yaml_refusal)
    write_configs(tmp_path, simulator, **{**AFTER, "fast": "no-such-model"})
    load.signal_coming()
    gateway.process.send_signal(signal.SIGHUP)
    policy_refusal = (await gateway.said("reload refused", times=2))[1]
    assert f"reload refused: config error: {tmp_path / 'policy.yaml'}:4: " in policy_refusal
    assert "the running config keeps serving" in policy_refusal
    load.outcome_logged(2)
    await load.answered_in_phase(20)

    # 3. `gateway reload` with a valid config: the alias goes back.
    write_configs(tmp_path, simulator, **BEFORE)
    load.signal_coming()
    await gateway.gateway_reload()
    await gateway.said(" taken: ", times=2)
    load.outcome_logged(3)
    await load.answered_in_phase(20)


async def test_reloads_under_load_fail_no_request_and_refused_configs_keep_the_old_one(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = write_configs(tmp_path, simulator, **BEFORE)
    async with gateway_serve(path) as gateway:
        await gateway.said("Uvicorn running on")
        async with openai.AsyncOpenAI(
            base_url=f"{gateway.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, timeout=TIMEOUT
        ) as client:
            load = Load(client)
            clients = [asyncio.create_task(load.one_client()) for _ in range(CLIENTS)]
            try:
                await reload_while_loaded(gateway, load, path, simulator, tmp_path)
            finally:
                load.stopping = True
                await asyncio.gather(*clients)

        gateway.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(gateway.process.wait(), TIMEOUT) == 0

    assert [answer for answer in load.answers if answer.status != 200] == []
    # What a request met, when no reload signal came while it was in flight: the config last taken.
    models = {
        phase: {answer.model for answer in load.answers if answer.phase == phase and answer.between_reloads}
        for phase in range(4)
    }
    assert models == {0: {"gpt-4.1"}, 1: {"gpt-4.1-mini"}, 2: {"gpt-4.1-mini"}, 3: {"gpt-4.1"}}
    assert not path.with_name("gateway.pid").exists()  # removed at the exit


async def test_with_two_workers_each_reloads_in_place(simulator: Simulator, tmp_path: Path) -> None:
    path = write_configs(tmp_path, simulator, **BEFORE)
    async with gateway_serve(path, "--workers", "2") as gateway:
        started = await gateway.said("Application startup complete.", times=2)
        assert len(started) == 2
        workers = {int(pid) for line in gateway.stderr for pid in re.findall(r"Started server process \[(\d+)\]", line)}
        assert len(workers) == 2

        write_configs(tmp_path, simulator, **AFTER)
        await gateway.gateway_reload()
        taken = await gateway.said(" taken: ", times=2)
        assert {int(match) for line in taken for match in re.findall(r"\(process (\d+)\)", line)} == workers
        # A new connection for every request, so that the kernel hands them to either worker.
        http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
        async with openai.AsyncOpenAI(
            base_url=f"{gateway.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, http_client=http
        ) as client:
            answers = await asyncio.gather(
                *(client.chat.completions.with_raw_response.create(model="fast", messages=MESSAGES) for _ in range(20))
            )
        assert {answer.headers["x-gateway-model"] for answer in answers} == {"gpt-4.1-mini"}
        # Reloaded in place: no worker was replaced.
        assert sum("Started server process" in line for line in gateway.stderr) == 2
        gateway.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(gateway.process.wait(), TIMEOUT) == 0
