"""Gateway configs for tests, written to temporary files so they go through the real loader."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import GatewayConfig, load_config

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "gateway.yaml"
SIMULATOR_KEY = "simulator-key"
CLIENT_KEYS = ("test-key-one", "test-key-two")
ADMIN_KEY = "test-admin-key"  # GATEWAY_ADMIN_KEYS: /gateway/deployments, /gateway/feed, /metrics


def shipped_config(simulator_url: str, routing_log: Path) -> tuple[GatewayConfig, dict[str, str]]:
    """The shipped config/gateway.yaml, pointed at the simulator, logging to `routing_log`."""
    environ = {
        "AZURE_OPENAI_ENDPOINT": simulator_url,
        "AZURE_OPENAI_API_KEY": SIMULATOR_KEY,
        "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS),
        "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
    }
    config = load_config(SHIPPED_CONFIG, environ)
    log = config.log.model_copy(update={"routing_log": str(routing_log)})
    return config.model_copy(update={"log": log}), environ


def write_config(directory: Path, text: str, name: str = "gateway.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
