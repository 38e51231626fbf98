"""The `gateway` command: serve, check a config, or run the local Azure simulator."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from gateway.settings import ConfigError, GatewayConfig, load_config

DEFAULT_CONFIG = "config/gateway.yaml"
LOCAL_ONLY_HOST = "127.0.0.1"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="OpenAI-compatible gateway for Azure OpenAI.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", default=os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG))
    serve.add_argument("--host", help="address to bind (default: server.host from the config)")
    serve.add_argument("--port", type=int, help="port to bind (default: server.port from the config)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check", help="validate a config file and exit")
    check.add_argument("--config", default=os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG))
    check.set_defaults(run=_check)

    simulate = commands.add_parser("simulate", help="run the local Azure OpenAI simulator")
    simulate.add_argument("--host", default=LOCAL_ONLY_HOST)
    simulate.add_argument("--port", type=int, default=9100)
    simulate.add_argument(
        "--api-key", default=os.environ.get("SIMULATOR_API_KEY", "simulator-key"), help="the key it accepts"
    )
    simulate.set_defaults(run=_simulate)
    return parser


def _load(path: str) -> GatewayConfig | None:
    try:
        return load_config(path)
    except ConfigError as error:
        print(f"gateway: config error: {error}", file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    print(f"{args.config}: OK ({len(config.deployments)} deployments on {len(config.resources)} resource(s))")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import CONFIG_PATH_VARIABLE, create_app
    from gateway.client_auth import ClientKeys

    config = _load(args.config)
    if config is None:
        return 1
    host = args.host or config.server.host
    port = config.server.port if args.port is None else args.port
    if not ClientKeys.from_environ(config.client_keys.env, os.environ).enabled:
        host = LOCAL_ONLY_HOST
        print(
            f"gateway: no client keys configured ({config.client_keys.env} is empty): requests are not "
            f"authenticated, so the gateway binds {LOCAL_ONLY_HOST} only",
            file=sys.stderr,
        )
    if args.workers > 1:
        # Workers import the app themselves, so they find the config through the environment.
        os.environ[CONFIG_PATH_VARIABLE] = args.config
        uvicorn.run(
            "gateway.app:app_from_environment",
            factory=True,
            workers=args.workers,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            access_log=False,
        )
    else:
        uvicorn.run(create_app(config), host=host, port=port, loop="uvloop", http="httptools", access_log=False)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.simulator import SimulatorSettings, create_simulator_app

    app = create_simulator_app(SimulatorSettings(api_key=args.api_key))
    print(f"gateway: Azure OpenAI simulator on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
