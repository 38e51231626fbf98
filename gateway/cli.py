"""The `gateway` command: serve, check a config, or run the local Azure simulator."""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from gateway.settings import ConfigError, GatewayConfig, load_config

if TYPE_CHECKING:
    from starlette.types import ASGIApp
    from uvicorn.supervisors import Multiprocess

    from gateway.inbound.connection_guard import ServedConfig
    from gateway.observe.log_filter import StatusMatch

DEFAULT_CONFIG = "config/gateway.yaml"
LOCAL_ONLY_HOST = "127.0.0.1"
# What uvicorn exits with when the server did not start (a port in use, a failed start-up).
STARTUP_FAILURE = 3
# Where `gateway serve` writes its process id and `gateway reload` finds it, when --pid-file is not given.
PID_FILE_VARIABLE = "GATEWAY_PID_FILE"


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
    serve.add_argument(
        "--local-simulator",
        action="store_true",
        help="when AZURE_OPENAI_ENDPOINT is unset, run the Azure simulator in this process and use it",
    )
    serve.add_argument("--simulator-port", type=int, default=9100)
    serve.add_argument(
        "--pid-file",
        default=os.environ.get(PID_FILE_VARIABLE),
        help=f"write this process's id there, for `gateway reload` (default: ${PID_FILE_VARIABLE})",
    )
    serve.set_defaults(run=_serve)

    reload = commands.add_parser(
        "reload",
        help="have a running gateway reload its config and policy (sends it SIGHUP)",
        description="Send SIGHUP to a running `gateway serve`: it reads its config file again (and the routing "
        "policy), checks it, and serves every request that starts afterwards with it; a config it refuses is "
        "logged on its stderr with file:line, and the running one keeps serving.",
    )
    which = reload.add_mutually_exclusive_group()
    which.add_argument(
        "--pid-file",
        default=os.environ.get(PID_FILE_VARIABLE),
        help=f"the file `gateway serve --pid-file` wrote (default: ${PID_FILE_VARIABLE})",
    )
    which.add_argument("--pid", type=int, help="the gateway's process id (with --workers N: the parent's)")
    reload.set_defaults(run=_reload)

    check = commands.add_parser("check", help="validate a config file and exit")
    check.add_argument("--config", default=os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG))
    check.set_defaults(run=_check)

    explain = commands.add_parser("explain", help="show where a request would go and why, without calling Azure")
    explain.add_argument("endpoint", help="the endpoint path, e.g. /v1/chat/completions")
    explain.add_argument("body", help="a file holding the request body, or - for standard input")
    explain.add_argument(
        "-H", "--header", action="append", default=[], metavar="'NAME: VALUE'", help="a request header (repeatable)"
    )
    explain.add_argument("--config", default=os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG))
    explain.set_defaults(run=_explain)

    simulate = commands.add_parser("simulate", help="run the local Azure OpenAI simulator")
    simulate.add_argument("--host", default=LOCAL_ONLY_HOST)
    simulate.add_argument("--port", type=int, default=9100)
    simulate.add_argument(
        "--api-key", default=os.environ.get("SIMULATOR_API_KEY", "simulator-key"), help="the key it accepts"
    )
    simulate.add_argument(
        "--tpm", type=int, default=1_000_000, help="the tokens per minute its x-ratelimit-* headers report"
    )
    simulate.set_defaults(run=_simulate)
    _add_logs_command(commands)
    from gateway.azure_manage.commands import add_azure_command  # `gateway azure import` and `check`

    add_azure_command(commands)
    return parser


def _load(path: str, environ: Mapping[str, str] | None = None) -> GatewayConfig | None:
    from gateway.routing.encodings import EncodingUnavailable
    from gateway.routing.model_facts import ModelDataUnavailable
    from gateway.routing.setup import check_model_data, load_routing_policy

    try:
        config = load_config(path, environ)
        load_routing_policy(config)  # its errors name the policy file and line
    except ConfigError as error:
        print(f"gateway: config error: {error}", file=sys.stderr)
        return None
    try:
        check_model_data(config)
    except (EncodingUnavailable, ModelDataUnavailable) as error:
        print(f"gateway: start-up error: {error}", file=sys.stderr)
        return None
    return config


def _check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    print(f"{args.config}: OK ({len(config.deployments)} deployments on {len(config.resources)} resource(s))")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import CONFIG_PATH_VARIABLE
    from gateway.inbound.client_auth import ClientKeys

    if args.local_simulator and not os.environ.get("AZURE_OPENAI_ENDPOINT"):
        _start_local_simulator(args.simulator_port)
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
    # A SIGHUP before the app has started (which sets the reload handler) would otherwise end the process.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    written_pid = _write_pid_file(args.pid_file)
    try:
        if args.workers > 1:
            from gateway.limits import worker_share

            refused = worker_share.refusal(config, args.workers)
            if refused is not None:
                print(f"gateway: config error: {refused}", file=sys.stderr)
                return 1
            for line in worker_share.start_up_notice(config, args.workers):
                print(f"gateway: {line}", file=sys.stderr)
            # Workers build the app themselves, so they find the config through the environment, and how many
            # they are (each enforces its share of budgets kept in memory).
            os.environ[CONFIG_PATH_VARIABLE] = args.config
            os.environ[worker_share.WORKER_COUNT_VARIABLE] = str(args.workers)
            factory = f"{__name__}:{served_app_from_environment.__name__}"
            served = server_config(factory, config, os.environ, host, port, workers=args.workers)
            forget_metrics = _share_metrics_between_workers()
            try:
                _reloading_workers()(served, sockets=[served.bind_socket()]).run()
            finally:
                forget_metrics()
            return 0
        app = served_app(config, config_path=args.config)
        server = uvicorn.Server(server_config(app, config, os.environ, host, port))
        # uvicorn drains on SIGTERM, then raises it again for the handler it found: this one ends like Ctrl-C
        # (exit code 0), where the default one would kill the process at the end of a clean stop.
        signal.signal(signal.SIGTERM, _stopped)
        server.run()
    except KeyboardInterrupt:
        return 0
    finally:
        _remove_pid_file(args.pid_file, written_pid)
    return 0 if server.started else STARTUP_FAILURE


def served_app(
    config: GatewayConfig, environ: Mapping[str, str] | None = None, *, config_path: str | None = None
) -> ASGIApp:
    """The gateway's app as `gateway serve` serves it: within the most requests it serves at once, draining on
    SIGTERM or SIGINT (inbound/draining.py), and reloading `config_path` on SIGHUP (reload.py)."""
    from gateway.app import create_app
    from gateway.inbound.draining import Drain, DrainGate
    from gateway.inbound.in_flight import InFlightLimit
    from gateway.reload_gate import ReloadGate

    app = create_app(config, environ, freeze_after_start=True)
    drain = Drain(config.server.drain_time_seconds)
    app.state.drain = drain  # for /readyz and realtime sessions
    limited = InFlightLimit(app, config.server.max_concurrent_requests)
    return DrainGate(ReloadGate(limited, app.state, config_path, config.azure.sync_seconds), drain)


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _reload(args: argparse.Namespace) -> int:
    pid = args.pid
    if pid is None:
        if not args.pid_file:
            print(f"gateway: which gateway? Give --pid-file (or set {PID_FILE_VARIABLE}), or --pid", file=sys.stderr)
            return 2
        try:
            pid = int(Path(args.pid_file).read_text(encoding="utf-8").strip())
        except (OSError, ValueError) as error:
            print(f"gateway: cannot read a process id from {args.pid_file}: {error}", file=sys.stderr)
            return 1
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"gateway: no process {pid} (is the gateway running? a stale pid file?)", file=sys.stderr)
        return 1
    except PermissionError:
        print(f"gateway: not allowed to signal process {pid}", file=sys.stderr)
        return 1
    print(f"gateway: sent SIGHUP to {pid}: its log says whether the new config was taken", file=sys.stderr)
    return 0


def _write_pid_file(path: str | None) -> int | None:
    if not path:
        return None
    pid = os.getpid()
    Path(path).write_text(f"{pid}\n", encoding="utf-8")
    return pid


def _remove_pid_file(path: str | None, pid: int | None) -> None:
    """Only the file this process wrote: another gateway may have written its own there since."""
    if not path or pid is None:
        return
    try:
        if Path(path).read_text(encoding="utf-8").strip() == str(pid):
            Path(path).unlink()
    except OSError:
        pass


def _reloading_workers() -> type[Multiprocess]:
    """uvicorn's supervisor, except that SIGHUP reaches each worker, which reloads in place (reload.py), where
    uvicorn would start new workers, whose budgets kept in memory and breakers would start empty."""
    from uvicorn.supervisors import Multiprocess

    class ReloadingWorkers(Multiprocess):
        def handle_hup(self) -> None:
            for process in self.processes:
                if process.pid is not None and process.exitcode is None:
                    os.kill(process.pid, signal.SIGHUP)

    return ReloadingWorkers


def _share_metrics_between_workers() -> Callable[[], None]:
    """prometheus-client's multiprocess mode, so that any worker's /metrics counts every worker's requests: the
    workers (started after this) write their values to files in PROMETHEUS_MULTIPROC_DIR, which must start
    empty. The operator's directory, when set, is emptied of those files; else a fresh temporary one is made.
    The returned function removes what this made, once the workers are gone."""
    import shutil
    import tempfile

    from gateway.observe.metrics import MULTIPROCESS_DIR_VARIABLE

    chosen = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        for stale in Path(chosen).glob("*.db"):  # a previous run's values would be added to this one's
            stale.unlink()
        return lambda: None
    made = tempfile.mkdtemp(prefix="gateway-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = made
    return lambda: shutil.rmtree(made, ignore_errors=True)


def served_app_from_environment() -> ASGIApp:
    """Factory for uvicorn's worker processes: the config path, and the worker count, come from the environment."""
    from gateway.app import CONFIG_PATH_VARIABLE
    from gateway.limits.worker_share import for_this_worker

    # As in `gateway serve`: a SIGHUP the parent passes on before this worker's app has started is ignored.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    path = os.environ.get(CONFIG_PATH_VARIABLE, DEFAULT_CONFIG)
    return served_app(for_this_worker(load_config(path), os.environ), config_path=path)


def server_config(
    app: ASGIApp | str,
    config: GatewayConfig,
    environ: Mapping[str, str],
    host: str,
    port: int,
    *,
    workers: int = 1,
) -> ServedConfig:
    """How uvicorn serves the gateway: uvloop and httptools, with the connection bounds of `server:` (see
    inbound/connection_guard.py), and every line uvicorn logs redacted. `app` given as "module:function"
    is a factory each worker process calls."""
    from gateway.inbound.connection_guard import ConnectionBounds, ServedConfig
    from gateway.inbound.draining import DrainingWebSocketProtocol

    return ServedConfig(
        app,
        connection_bounds=ConnectionBounds.from_settings(config.server),
        factory=isinstance(app, str),
        workers=workers,
        host=host,
        port=port,
        loop="uvloop",
        access_log=False,
        # Nothing reads a client's address or scheme (logs name keys, not addresses): uvicorn's proxy-headers
        # middleware would only wrap every request for nothing.
        proxy_headers=False,
        # No `server: uvicorn` on every response: it tells a scanner what to try, and tells a client nothing.
        server_header=False,
        timeout_keep_alive=config.server.keep_alive_timeout_seconds,
        # An open live feed (/gateway/feed) or a long stream would otherwise hold a stopping server forever.
        # The drain (inbound/draining.py) ends what is left first: this is its backstop.
        timeout_graceful_shutdown=config.server.drain_time_seconds,
        # Open realtime sessions are the app's to close when the drain ends (1001), not uvicorn's at once (1012).
        ws=DrainingWebSocketProtocol,
        log_config=redacted_log_config(config, environ),
    )


def redacted_log_config(config: GatewayConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    """uvicorn's logging set-up, with every handler redacting secrets: the keys the config names by value,
    and key-like URL parameters by shape (uvicorn logs a WebSocket handshake's path with its query string)."""
    from uvicorn.config import LOGGING_CONFIG

    from gateway.observe.redact import RedactingFilter, Redactor

    # Filters on handlers, not loggers: a logger's filters never see what its children propagate to it.
    # The dict reaches worker processes with the rest of uvicorn's Config, so its filter is built in each.
    logging_config = copy.deepcopy(LOGGING_CONFIG)
    logging_config["filters"] = {"redact": {"()": RedactingFilter, "redactor": Redactor.from_config(config, environ)}}
    for handler in logging_config["handlers"].values():
        handler["filters"] = ["redact"]
    # The gateway's own lines (unexpected errors with their tracebacks, Redis away, breakers) go through the
    # same redacting handler, not Python's last-resort one.
    logging_config["loggers"]["gateway"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return logging_config


def _explain(args: argparse.Namespace) -> int:
    from starlette.testclient import TestClient

    from gateway.app import create_app

    # Explaining calls no upstream: unset variables (endpoint, keys) get placeholders, and the local
    # caller is not asked for a gateway key.
    environ = _PlaceholderEnviron(os.environ)
    config = _load(args.config, environ)
    if config is None:
        return 1
    environ.blank.add(config.client_keys.env)
    body = sys.stdin.buffer.read() if args.body == "-" else Path(args.body).read_bytes()
    headers = {"content-type": "application/json"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    endpoint = args.endpoint.removeprefix("/")
    with TestClient(create_app(config, environ)) as client:
        response = client.post(f"/gateway/explain/{endpoint}", content=body, headers=headers)
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.status_code == 200 else 1


class _PlaceholderEnviron(dict[str, str]):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.blank: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        if key in self.blank:
            return ""
        return super().get(key) or "http://unset.invalid"


def _start_local_simulator(port: int) -> None:
    """The simulator on a daemon thread: it ends with the gateway, however the gateway is stopped."""
    import threading

    import uvicorn

    from gateway.simulator import SimulatorSettings, create_simulator_app

    key = os.environ.get("SIMULATOR_API_KEY", "simulator-key")
    app = create_simulator_app(SimulatorSettings(api_key=key))
    config = uvicorn.Config(app, host=LOCAL_ONLY_HOST, port=port, access_log=False, log_level="warning")
    threading.Thread(target=uvicorn.Server(config).run, name="azure-simulator", daemon=True).start()
    # The gateway's config reads these; workers inherit them.
    os.environ["AZURE_OPENAI_ENDPOINT"] = f"http://{LOCAL_ONLY_HOST}:{port}"
    os.environ["AZURE_OPENAI_API_KEY"] = key
    print(
        f"gateway: AZURE_OPENAI_ENDPOINT is unset: the Azure simulator answers on http://{LOCAL_ONLY_HOST}:{port}",
        file=sys.stderr,
    )


def _simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.simulator import SimulatorSettings, create_simulator_app

    app = create_simulator_app(SimulatorSettings(api_key=args.api_key, tokens_per_minute=args.tpm))
    print(f"gateway: Azure OpenAI simulator on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", access_log=False)
    return 0


def _add_logs_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    logs = commands.add_parser(
        "logs",
        help="show the routing log: one readable line per request, filtered, or a table of totals",
        description="Read a routing log (a file, or standard input) and show one line per request: time, key, "
        "endpoint, requested -> model @ deployment, the last decision steps, tokens in/out, latency, status, "
        "attempts and fallbacks. Filters combine with and; a repeated filter matches any of its values.",
    )
    logs.add_argument("--file", help="the routing log to read, or - for standard input (the default when piped)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep reading the file as it grows (Ctrl-C stops)")
    logs.add_argument(
        "--url",
        help="a running gateway's base URL: read its live feed (admin key from GATEWAY_ADMIN_KEY; Ctrl-C stops)",
    )
    logs.add_argument("--model", action="append", default=[], help="asked for, served by, or tried")
    logs.add_argument(
        "--deployment", action="append", default=[], help="served by or tried: resource/name, or the name alone"
    )
    logs.add_argument("--key", action="append", default=[], help="a key id, as the log writes it (key-...)")
    logs.add_argument("--status", type=_status_match, help="e.g. 429, 5xx, or 429,5xx")
    logs.add_argument("--errors", action="store_true", help="only requests answered with status 400 or more")
    logs.add_argument("--slower-than", type=float, metavar="MS", help="only requests that took longer than MS")
    output = logs.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="pass the matching lines through unchanged")
    output.add_argument("--stats", action="store_true", help="a table per model and deployment over the matching lines")
    logs.set_defaults(run=_logs)


def _status_match(text: str) -> StatusMatch:
    from gateway.observe.log_filter import StatusMatch

    try:
        return StatusMatch.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _logs(args: argparse.Namespace) -> int:
    from gateway.observe.log_command import LogsOptions, run_logs
    from gateway.observe.log_filter import LineFilter

    line_filter = LineFilter(
        models=frozenset(args.model),
        deployments=frozenset(args.deployment),
        keys=frozenset(args.key),
        status=args.status,
        errors_only=args.errors,
        slower_than_ms=args.slower_than,
    )
    from gateway.observe.feed_lines import ADMIN_KEY_VARIABLE

    options = LogsOptions(
        args.file,
        follow=args.follow,
        url=args.url,
        admin_key=os.environ.get(ADMIN_KEY_VARIABLE),
        as_json=args.json,
        stats=args.stats,
        line_filter=line_filter,
    )
    return run_logs(options, sys.stdin.buffer, sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
