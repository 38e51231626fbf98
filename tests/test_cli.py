"""The `gateway` command as an operator runs it: real processes, real ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.gateway_config import SHIPPED_CONFIG, write_config
from tests.support.servers import free_port
from tests.support.tokenizer_files import copy_published_files

GATEWAY = [sys.executable, "-m", "gateway"]
AZURE_ENV = {"AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:9", "AZURE_OPENAI_API_KEY": "k"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    return subprocess.run([*GATEWAY, *args], env={**environ, **(env or {})}, capture_output=True, text=True, timeout=60)


def test_check_accepts_the_shipped_config() -> None:
    result = run("check", "--config", str(SHIPPED_CONFIG), env=AZURE_ENV)
    assert result.returncode == 0, result.stderr
    assert "OK (17 deployments" in result.stdout


def test_check_rejects_a_bad_file_naming_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, SHIPPED_CONFIG.read_text().replace("  port: 8080", "  port: 8080\n  prot: 1"))
    result = run("check", "--config", str(path), env=AZURE_ENV)
    assert result.returncode == 1
    assert f"{path}:" in result.stderr and "unknown key 'prot'" in result.stderr


def test_check_reports_a_missing_env_var() -> None:
    result = run("check", "--config", str(SHIPPED_CONFIG))
    assert result.returncode == 1
    assert "AZURE_OPENAI_ENDPOINT is not set" in result.stderr


@pytest.fixture
def served_without_keys() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    with subprocess.Popen(
        [*GATEWAY, "serve", "--config", str(SHIPPED_CONFIG), "--host", "0.0.0.0", "--port", str(port)],
        env={**environ, **AZURE_ENV},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as process:  # leaving the block closes the stderr pipe
        yield process, port
        process.terminate()
        process.wait(timeout=30)


def test_serve_without_client_keys_binds_loopback_only_and_says_so(
    served_without_keys: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = served_without_keys
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # read until uvicorn reports the address: no sleeping
        seen.append(line)
        if "Uvicorn running on" in line:
            break
    output = "".join(seen)
    assert "binds 127.0.0.1 only" in output
    assert f"http://127.0.0.1:{port}" in output
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}


def _config_reading_tokenizers_from(tmp_path: Path, tokenizer_dir: Path) -> Path:
    policy = (SHIPPED_CONFIG.parent / "../routes/policy.yaml").resolve()
    text = SHIPPED_CONFIG.read_text().replace(
        "  policy: ../routes/policy.yaml", f"  policy: {policy}\n  tokenizer_dir: {tokenizer_dir}"
    )
    assert f"tokenizer_dir: {tokenizer_dir}" in text
    return write_config(tmp_path, text)


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_tokenizer_file_that_is_not_the_published_one_stops_start_up_naming_it(tmp_path: Path, command: str) -> None:
    files = copy_published_files(tmp_path)
    files["o200k_base"].write_bytes(files["o200k_base"].read_bytes()[:-1])  # one byte short
    path = _config_reading_tokenizers_from(tmp_path, tmp_path)
    port = ["--port", str(free_port())] if command == "serve" else []  # were it to start, on a port of its own
    result = run(command, "--config", str(path), *port, env=AZURE_ENV)
    assert result.returncode == 1
    assert f"gateway: start-up error: The o200k_base tokenizer file {files['o200k_base']} has SHA-256" in result.stderr
    assert "Traceback" not in result.stderr and "Uvicorn running" not in result.stderr


def test_a_missing_tokenizer_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    files = copy_published_files(tmp_path)
    files["cl100k_base"].unlink()
    result = run("serve", "--config", str(_config_reading_tokenizers_from(tmp_path, tmp_path)), env=AZURE_ENV)
    assert result.returncode == 1
    assert f"The cl100k_base tokenizer file {files['cl100k_base']} is missing." in result.stderr


def test_a_relative_tokenizer_dir_is_read_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "tokenizers").mkdir()
    copy_published_files(tmp_path / "tokenizers")
    path = _config_reading_tokenizers_from(tmp_path, Path("tokenizers"))
    result = run("check", "--config", str(path), env=AZURE_ENV)
    assert result.returncode == 0, result.stderr


# Serving bounds and redacted server logs, through worker processes (they get uvicorn's config pickled)

CLIENT_KEY = "team:client-key-kept-secret"
QUERY_SECRET = "a-key-put-in-the-url"


@pytest.fixture
def served_with_bounds(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    policy = (SHIPPED_CONFIG.parent / "../routes/policy.yaml").resolve()
    shipped = SHIPPED_CONFIG.read_text()
    text = (
        shipped.replace("  policy: ../routes/policy.yaml", f"  policy: {policy}")
        .replace("  max_header_bytes: 32768 ", "  max_header_bytes: 1024  ")
        .replace("  header_timeout_seconds: 10 ", "  header_timeout_seconds: 1  ")
    )
    assert text.count(": 1024  ") == text.count("header_timeout_seconds: 1  ") == 1
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    argv = ["serve", "--config", str(write_config(tmp_path, text)), "--port", str(port), "--workers", "2"]
    with subprocess.Popen(
        [*GATEWAY, *argv],
        env={**environ, **AZURE_ENV, "GATEWAY_API_KEYS": CLIENT_KEY},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stderr is not None
        started = 0
        for line in process.stderr:  # until both workers have started (each then listens on the socket)
            started += "Application startup complete." in line
            if started == 2:
                break
        yield process, port
        process.terminate()
        process.wait(timeout=30)


def _connect(port: int) -> socket.socket:
    # A worker starts listening just after it logs its start-up: another process's listen() notifies
    # nobody, so a refused connection is tried again, briefly.
    deadline = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)  # the timeout is a safety net
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _exchange(port: int, request: bytes) -> bytes:
    """Everything the gateway sends back on one connection, until it closes it."""
    with _connect(port) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_serve_applies_the_servers_bounds_in_every_worker(
    served_with_bounds: tuple[subprocess.Popen[str], int],
) -> None:
    _, port = served_with_bounds
    assert _exchange(port, b"") == b""  # silent: closed after header_timeout_seconds, unanswered
    oversized = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: " + b"a" * 1024 + b"\r\n\r\n"
    answer = _exchange(port, oversized)
    assert answer.startswith(b"HTTP/1.1 431 ") and b'"code":"request_headers_too_large"' in answer


def test_serve_redacts_keys_from_what_uvicorn_logs(served_with_bounds: tuple[subprocess.Popen[str], int]) -> None:
    process, port = served_with_bounds
    client_key = CLIENT_KEY.partition(":")[2]
    handshake = (
        f"GET /v1/realtime?model=auto&api-key={QUERY_SECRET}&note={client_key} HTTP/1.1\r\nhost: x\r\n"
        "upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\n"
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    with _connect(port) as sock:
        sock.sendall(handshake.encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")  # no Authorization header
    process.terminate()
    _, logged = process.communicate(timeout=30)
    assert '"WebSocket /v1/realtime?model=auto&api-key=[redacted]&note=[redacted]" 401' in logged
    assert QUERY_SECRET not in logged and client_key not in logged


def test_the_gateways_own_log_lines_are_redacted_when_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging
    import logging.config

    from gateway.cli import redacted_log_config
    from tests.support.gateway_config import shipped_config

    config, environ = shipped_config("http://127.0.0.1:9", tmp_path / "routing.log")
    secret = environ["GATEWAY_API_KEYS"].split(",")[0]
    # dictConfig sets up these loggers process-wide: put them back as they were for the tests that follow.
    loggers = [logging.getLogger(name) for name in ("gateway", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(logger.handlers[:], logger.propagate, logger.level, logger.filters[:]) for logger in loggers]
    logging.config.dictConfig(redacted_log_config(config, environ))
    try:
        logging.getLogger("gateway.limits").error("rate limits: Redis said no to %s at %s", secret, "/x?api-key=abc")
    finally:
        for logger, (handlers, propagate, level, filters) in zip(loggers, saved, strict=True):
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:], logger.propagate, logger.filters[:] = handlers, propagate, filters
            logger.setLevel(level)
    err = capsys.readouterr().err
    assert "rate limits: Redis said no to [redacted]" in err
    assert secret not in err and "api-key=abc" not in err


def test_a_stopping_server_cuts_what_is_still_open_after_the_shutdown_timeout() -> None:
    from gateway.cli import server_config
    from gateway.settings import load_config

    environ = {"AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:9", "AZURE_OPENAI_API_KEY": "k", "GATEWAY_API_KEYS": "x"}
    config = load_config(SHIPPED_CONFIG, environ)
    assert (
        server_config(
            "gateway.cli:served_app_from_environment", config, environ, "127.0.0.1", 1
        ).timeout_graceful_shutdown
        == 30
    )
    quick = config.model_copy(update={"server": config.server.model_copy(update={"shutdown_timeout_seconds": 2.5})})
    assert server_config("x:y", quick, environ, "127.0.0.1", 1).timeout_graceful_shutdown == 2.5


def test_the_served_app_is_not_wrapped_in_uvicorns_proxy_headers_middleware() -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from gateway.cli import server_config
    from gateway.settings import load_config

    environ = {"AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:9", "AZURE_OPENAI_API_KEY": "k", "GATEWAY_API_KEYS": "x"}
    served = server_config(Starlette(), load_config(SHIPPED_CONFIG, environ), environ, "127.0.0.1", 1)
    served.load()
    assert not isinstance(served.loaded_app, ProxyHeadersMiddleware)
    assert served.server_header is False  # no `server: uvicorn` on responses


def test_serve_with_workers_and_budgets_in_memory_refuses_to_start_when_told_to(tmp_path: Path) -> None:
    text = """
rate_limits: {workers_without_redis: refuse}
resources:
  sim: {endpoint: "http://127.0.0.1:9", auth: {type: api-key, api_key_env: AZURE_OPENAI_API_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: 1000}
"""
    argv = ["serve", "--config", str(write_config(tmp_path, text)), "--port", str(free_port()), "--workers", "2"]
    result = run(*argv, env=AZURE_ENV)
    assert result.returncode == 1
    assert "allowing 2 times each budget: set rate_limits.redis_url to share them" in result.stderr
    assert "Uvicorn running" not in result.stderr and "Started" not in result.stderr
