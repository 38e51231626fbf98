"""The servers a request can go through, started as processes, and how a client addresses each.

    direct      the Azure simulator itself, the upstream of every other target
    floor       bare Starlette + raw aiohttp, forwarding and nothing else (floor_proxy.py)
    bare-httpx  the same over httpx with the httpx-aiohttp transport (bare_httpx_proxy.py), for reference
    gateway     `gateway serve` on the shipped config: client keys on, the routing log written to a file

Suites start a gateway with another config through `start_gateway`'s `overrides` (top-level keys of the
YAML, replaced whole); `HEADLINE` is the one the issue's figures are taken with.
"""

from __future__ import annotations

import importlib.util
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.bench.processes import HOST, Server, ServerGroup, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_CONFIG = REPO_ROOT / "config" / "gateway.yaml"
SIMULATOR_KEY = "bench-simulator-key"
CLIENT_KEY = "bench-client-key"
API_VERSION = "2025-04-01-preview"
MODEL = "gpt-4.1"
# So high that nothing is ever refused: the bench measures the bookkeeping of a budget, not refusals.
UNREACHABLE_TPM = 10**9
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Target:
    """One way of reaching a chat completion: a URL and the headers that authenticate there."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


def chat_body(
    stream: bool = False, *, model: str = MODEL, content: str = "Say hello to the benchmark.", n: int = 1
) -> bytes:
    # Short by default: the bench measures the proxy's cost per request, not body copying.
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    if n != 1:
        body["n"] = n
    return orjson.dumps(body)


def with_tpm_budget(model: str = MODEL, tpm: int = UNREACHABLE_TPM) -> dict[str, Any]:
    """Overrides giving `model`'s deployments of the shipped config a TPM budget (and so Azure's derived RPM)."""
    deployments = yaml.safe_load(BASE_CONFIG.read_text())["deployments"]
    return {"deployments": [dict(item, tpm=tpm) if item["model"] == model else item for item in deployments]}


# The gateway the figures are taken with: shipped config, auth on, routing log on, a TPM budget on
# the deployment of the named model, kept in memory.
HEADLINE: Mapping[str, Any] = with_tpm_budget()


def start_simulator(servers: ServerGroup) -> tuple[Server, Target]:
    port = free_port()
    # Its headers report the TPM the gateway's budget has: Azure saying it has less left than the gateway counts
    # would fill the budget (and send every request to a fallback model).
    argv = [
        sys.executable,
        "-m",
        "gateway",
        "simulate",
        "--host",
        HOST,
        "--port",
        str(port),
        "--tpm",
        str(UNREACHABLE_TPM),
    ]
    server = servers.start("simulator", [*argv, "--api-key", SIMULATOR_KEY], port, "/sim/health", cwd=REPO_ROOT)
    url = f"{server.base_url}/openai/deployments/{MODEL}/chat/completions?api-version={API_VERSION}"
    return server, Target("direct", url, {"api-key": SIMULATOR_KEY})


def start_floor(servers: ServerGroup, simulator: Server, workers: int = 1, name: str = "floor") -> Target:
    return _start_pass_through(servers, simulator, "tests.bench.floor_proxy", name, ["--workers", str(workers)])


def start_bare_httpx(servers: ServerGroup, simulator: Server) -> Target | None:
    """The previous floor, or None where httpx-aiohttp is no longer installed."""
    if importlib.util.find_spec("httpx_aiohttp") is None:
        return None
    return _start_pass_through(servers, simulator, "tests.bench.bare_httpx_proxy", "bare-httpx", [])


def _start_pass_through(servers: ServerGroup, simulator: Server, module: str, name: str, extra: list[str]) -> Target:
    port = free_port()
    argv = [sys.executable, "-m", module, "--port", str(port), "--upstream", simulator.base_url]
    # No health route on purpose (it is a single catch-all POST): uvicorn accepts only after startup.
    server = servers.start(name, [*argv, "--api-key", SIMULATOR_KEY, *extra], port, None, cwd=REPO_ROOT)
    return Target(name, f"{server.base_url}/v1/chat/completions")


def start_gateway(
    servers: ServerGroup,
    workdir: Path,
    simulator: Server,
    overrides: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    name: str = "gateway",
) -> Target:
    """The gateway on the shipped config, its routing log written to `workdir`/routing.log as in production."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(BASE_CONFIG.read_text())
    config["log"] = {"routing_log": str(workdir / "routing.log")}
    # The copy lives elsewhere: paths the shipped file gives relative to itself must stay pointing home.
    config["routing"]["policy"] = str((BASE_CONFIG.parent / config["routing"]["policy"]).resolve())
    config.update(overrides or {})
    config_path = workdir / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--config", str(config_path), "--host", HOST]
    argv += ["--port", str(port), "--workers", str(workers)]
    env = {
        "AZURE_OPENAI_ENDPOINT": simulator.base_url,
        "AZURE_OPENAI_API_KEY": SIMULATOR_KEY,
        "GATEWAY_API_KEYS": CLIENT_KEY,
    }
    server = servers.start(name, argv, port, "/healthz", env, REPO_ROOT)
    return Target(name, f"{server.base_url}/v1/chat/completions", {"authorization": f"Bearer {CLIENT_KEY}"})


def probe(target: Target, body: bytes) -> None:
    """One request before measuring: a target that answers errors would yield fast, meaningless numbers."""
    request = urllib.request.Request(target.url, body, {"content-type": "application/json", **target.headers})
    try:
        with _DIRECT.open(request, timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        raise RuntimeError(f"{target.name} answered HTTP {error.code} to the bench request: {detail}") from None
