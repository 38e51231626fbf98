"""The gateway's YAML configuration: loaded once, validated, and compiled into frozen runtime objects."""

from gateway.settings.errors import ConfigError
from gateway.settings.load import load_config
from gateway.settings.schema import GatewayConfig

__all__ = ["ConfigError", "GatewayConfig", "load_config"]
