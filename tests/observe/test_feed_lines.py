"""`gateway logs --url`: a running gateway's live feed read in the terminal, as an operator runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import orjson

from gateway.observe.feed_lines import ADMIN_KEY_VARIABLE
from tests.conftest import Gateway

REPO_ROOT = Path(__file__).resolve().parents[2]
GUARD_SECONDS = 30


def _logs(gateway: Gateway, *options: str, admin_key: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, ADMIN_KEY_VARIABLE: admin_key}
    argv = [sys.executable, "-m", "gateway", "logs", "--url", gateway.url, *options]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)


def _chat(gateway: Gateway) -> str:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hello feed"}]},
        headers={"authorization": f"Bearer {gateway.client_key}"},
        timeout=GUARD_SECONDS,
    )
    assert response.status_code == 200
    return response.headers["x-request-id"]


def test_the_live_feed_is_read_line_by_line_until_ctrl_c(gateway: Gateway) -> None:
    reader = _logs(gateway, "--json", admin_key=gateway.admin_key)
    timer = threading.Timer(GUARD_SECONDS, reader.kill)  # a failing test must not hang
    timer.start()
    try:
        assert reader.stdout is not None
        # The feed opens with the lines this process already holds: once one arrives, the reader is attached.
        _chat(gateway)
        request_id = _chat(gateway)
        seen = None
        for raw in reader.stdout:
            line = orjson.loads(raw)
            if line["request_id"] == request_id:
                seen = line
                break
        assert seen is not None and seen["status"] == 200 and seen["model"] == "gpt-4.1-mini"
        reader.send_signal(signal.SIGINT)
        assert reader.wait(GUARD_SECONDS) == 0
    finally:
        timer.cancel()
        reader.kill()
        reader.wait()
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.close()
        reader.stderr.close()


def test_a_feed_that_refuses_the_key_says_why(gateway: Gateway) -> None:
    reader = _logs(gateway, admin_key=gateway.client_key)  # a client key is not an admin key
    _, stderr = reader.communicate(timeout=GUARD_SECONDS)
    assert reader.returncode == 1
    assert b"cannot read the live feed" in stderr and b"403" in stderr
    assert gateway.client_key.encode() not in stderr


def test_url_takes_no_file() -> None:
    argv = [sys.executable, "-m", "gateway", "logs", "--url", "http://127.0.0.1:9", "--file", "x"]
    done = subprocess.run(argv, capture_output=True, cwd=REPO_ROOT, timeout=GUARD_SECONDS, check=False)
    assert done.returncode == 2 and b"--url reads a live feed" in done.stderr
