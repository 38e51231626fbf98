"""The `gateway` command as an operator runs it: real processes, real ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
