"""The three servers a request can go through, started as processes, and how a client addresses each.

Shared by the suites: later ones (routing cost, admission with Redis) start a gateway with another
config through `start_gateway`'s `overrides`.
"""

from __future__ import annotations

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
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Target:
    """One way of reaching a chat completion: a URL and the headers that authenticate there."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


def chat_body(stream: bool = False) -> bytes:
    # A short prompt: the bench measures the proxy's cost per request, not body copying.
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def start_simulator(servers: ServerGroup) -> tuple[Server, Target]:
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "simulate", "--host", HOST, "--port", str(port)]
    server = servers.start("simulator", [*argv, "--api-key", SIMULATOR_KEY], port, "/sim/health", cwd=REPO_ROOT)
    url = f"{server.base_url}/openai/deployments/{MODEL}/chat/completions?api-version={API_VERSION}"
    return server, Target("direct", url, {"api-key": SIMULATOR_KEY})


def start_bare_proxy(servers: ServerGroup, simulator: Server) -> Target:
    port = free_port()
    argv = [sys.executable, "-m", "tests.bench.bare_proxy", "--port", str(port)]
    argv += ["--upstream", simulator.base_url, "--api-key", SIMULATOR_KEY]
    # No health route on purpose (it is a single catch-all POST): uvicorn accepts only after startup.
    server = servers.start("bare-proxy", argv, port, None, cwd=REPO_ROOT)
    return Target("bare-proxy", f"{server.base_url}/v1/chat/completions")


def start_gateway(
    servers: ServerGroup, workdir: Path, simulator: Server, overrides: Mapping[str, Any] | None = None
) -> Target:
    """The gateway on the shipped config, its routing log written to a file as in production."""
    config = yaml.safe_load(BASE_CONFIG.read_text())
    config["log"] = {"routing_log": str(workdir / "routing.log")}
    # The copy lives elsewhere: paths the shipped file gives relative to itself must stay pointing home.
    config["routing"]["policy"] = str((BASE_CONFIG.parent / config["routing"]["policy"]).resolve())
    config.update(overrides or {})
    config_path = workdir / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--config", str(config_path), "--host", HOST]
    env = {
        "AZURE_OPENAI_ENDPOINT": simulator.base_url,
        "AZURE_OPENAI_API_KEY": SIMULATOR_KEY,
        "GATEWAY_API_KEYS": CLIENT_KEY,
    }
    server = servers.start("gateway", [*argv, "--port", str(port)], port, "/healthz", env, REPO_ROOT)
    return Target("gateway", f"{server.base_url}/v1/chat/completions", {"authorization": f"Bearer {CLIENT_KEY}"})


def probe(target: Target, body: bytes) -> None:
    """One request before measuring: a target that answers errors would yield fast, meaningless numbers."""
    request = urllib.request.Request(target.url, body, {"content-type": "application/json", **target.headers})
    try:
        with _DIRECT.open(request, timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        raise RuntimeError(f"{target.name} answered HTTP {error.code} to the bench request: {detail}") from None
