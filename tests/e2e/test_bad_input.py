"""Bad bodies and headers through the served gateway (issue 12): each is an OpenAI-shaped 4xx with its
routing-log line, or a served answer; a client that hangs up mid-upload ends as `client_disconnected`, logged,
with no traceback anywhere.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from gateway.app import create_app
from gateway.inbound.client_auth import key_id
from tests.conftest import Gateway, Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, shipped_config, write_config
from tests.support.replica import READY
from tests.support.simulator_control import SimulatorControl

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = CLIENT_KEYS[0]
AUTH = {"authorization": f"Bearer {KEY}"}
CHAT = b'{"model": "gpt-4.1-nano", "messages": [{"role": "user", "content": "hello there"}]}'


def assert_refused(gateway: Gateway, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An OpenAI-shaped error with the gateway's headers and a routing-log line that says the same; the error."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)
    line = gateway.log_line(response.headers["x-request-id"])
    assert (line["status"], line["error"], line["key_id"]) == (status, code, key_id(KEY))
    return error


def transcription(text: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]]) -> tuple[bytes, str]:
    built = httpx.Request("POST", "http://x", data=text, files=files)
    return built.read(), built.headers["content-type"]


WAV = ("a.wav", b"RIFF" + b"\x00" * 64, "audio/wav")


# -- multipart -------------------------------------------------------------------------------------------


def test_a_model_uploaded_as_a_file_is_a_400_naming_it(gateway: Gateway, sim: SimulatorControl) -> None:
    raw, content_type = transcription({}, [("model", ("model.txt", b"whisper", "text/plain")), ("file", WAV)])
    response = httpx.post(
        f"{gateway.url}/v1/audio/transcriptions", headers={**AUTH, "content-type": content_type}, content=raw
    )
    assert assert_refused(gateway, response, 400, "invalid_request_error")["param"] == "model"
    assert sim.requests() == []


def test_a_boundary_over_256_characters_is_a_400(gateway: Gateway, sim: SimulatorControl) -> None:
    raw, content_type = transcription({"model": "whisper"}, [("file", WAV)])
    boundary = content_type.partition("boundary=")[2]
    long = "b" * 300
    response = httpx.post(
        f"{gateway.url}/v1/audio/transcriptions",
        headers={**AUTH, "content-type": f"multipart/form-data; boundary={long}"},
        content=raw.replace(boundary.encode(), long.encode()),
    )
    assert "300 characters" in assert_refused(gateway, response, 400, "invalid_content_type")["message"]
    assert sim.requests() == []


def test_a_multipart_body_cut_before_its_closing_boundary_is_a_400(gateway: Gateway, sim: SimulatorControl) -> None:
    raw = b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n'
    raw += b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n'
    response = httpx.post(
        f"{gateway.url}/v1/audio/transcriptions",
        headers={**AUTH, "content-type": "multipart/form-data; boundary=b"},
        content=raw,  # every part whole, but no closing "--b--"
    )
    assert assert_refused(gateway, response, 400, "invalid_multipart")["param"] is None
    assert sim.requests() == []


# -- headers ---------------------------------------------------------------------------------------------


def test_a_content_type_with_a_non_ascii_byte_is_a_400_invalid_header(gateway: Gateway, sim: SimulatorControl) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers=[(b"authorization", AUTH["authorization"].encode()), (b"content-type", b"application/json; x=\xe9")],
        content=CHAT,
    )
    assert "Content-Type" in assert_refused(gateway, response, 400, "invalid_header")["message"]
    assert sim.requests() == []


def test_an_accept_with_a_non_ascii_byte_is_served_without_it(gateway: Gateway, sim: SimulatorControl) -> None:
    accept = b"application/json, text/\xe9"
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers=[
            (b"authorization", AUTH["authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"accept", accept),
        ],
        content=CHAT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    assert gateway.log_line(response.headers["x-request-id"])["status"] == 200
    [reached] = sim.requests()
    assert reached["headers"].get("accept") != accept.decode("latin-1")


# -- a client that hangs up mid-upload: in the app, then over a real socket ------------------------------


@pytest.fixture
def started_app(simulator: Simulator, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    routing_log = tmp_path / "routing.log"
    with TestClient(create_app(*shipped_config(simulator.url, routing_log))) as client:
        yield client, routing_log


def test_a_hang_up_mid_body_ends_as_a_logged_499_and_logs_no_error(
    started_app: tuple[TestClient, Path], sim: SimulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    client, routing_log = started_app
    received: list[str] = []
    sent: list[Message] = []

    async def receive() -> Message:
        # Half the body, then the server's word that the client is gone (what uvicorn says on a closed socket).
        message: Message = (
            {"type": "http.request", "body": CHAT[: len(CHAT) // 2], "more_body": True}
            if not received
            else {"type": "http.disconnect"}
        )
        received.append(message["type"])
        return message

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        headers = [
            (b"host", b"gateway"),
            (b"authorization", AUTH["authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(CHAT)).encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/chat/completions",
            "raw_path": b"/v1/chat/completions",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        await client.app(scope, receive, send)

    assert client.portal is not None
    with caplog.at_level(logging.WARNING):
        client.portal.call(call)
    assert received == ["http.request", "http.disconnect"]
    # The app answers as to any refusal; uvicorn drops what is sent to a closed connection.
    assert sent[0]["status"] == 499
    [line] = [line for line in Gateway("", routing_log).log_lines() if line["endpoint"] == "chat/completions"]
    assert (line["status"], line["error"], line["key_id"]) == (499, "client_disconnected", key_id(KEY))
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert sim.requests() == []


@dataclass
class Replica:
    """A gateway in a process of its own (tests/support/replica.py), its stderr kept in a file."""

    url: str
    routing_log: Path
    stderr: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> str:
        """Stop the gateway and return all it wrote to stderr."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()  # the replica's signal to stop
        self.process.wait(timeout=30)
        self.process.stdout.close()
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def line_where(self, matches: Callable[[dict[str, object]], bool], timeout: float = 10.0) -> dict[str, object]:
        """The routing-log line that `matches`, once the gateway has written it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in Gateway(self.url, self.routing_log).log_lines() if matches(line)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching routing-log line after {timeout} s")
            time.sleep(0.01)  # the file has no change notification to await


@pytest.fixture
def replica(simulator: Simulator, tmp_path: Path) -> Iterator[Replica]:
    config = write_config(
        tmp_path,
        f"""
resources:
  sim: {{endpoint: "{simulator.url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1-nano, model: gpt-4.1-nano, resource: sim}}
  - {{name: whisper, model: whisper, resource: sim}}
log: {{routing_log: {tmp_path / "routing.log"}}}
""",
    )
    stderr = tmp_path / "stderr.txt"
    env = {**os.environ, "SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    argv = [sys.executable, "-m", "tests.support.replica", str(config), "--clock-epoch", str(time.time())]
    with stderr.open("wb") as errors:
        process = subprocess.Popen(
            [*argv, "--clock-scale", "1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            cwd=REPO_ROOT,
        )
    assert process.stdout is not None
    ready = process.stdout.readline().decode().split()  # end of file if the replica dies first
    started = Replica(ready[-1] if ready[:1] == [READY] else "", tmp_path / "routing.log", stderr, process)
    try:
        if not started.url:
            raise RuntimeError(f"the gateway did not start: {started.stop()}")
        yield started
    finally:
        started.stop()


def _half_then_close(url: str, path: str, content_type: str, body: bytes) -> None:
    """Send the request's headers and half its body on a raw socket, then close it."""
    address = urlsplit(url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(head.encode() + body[: len(body) // 2])


@pytest.mark.parametrize("operation", ["chat/completions", "audio/transcriptions"])
def test_a_client_closing_its_socket_mid_upload_is_logged_and_writes_no_traceback(
    replica: Replica, sim: SimulatorControl, operation: str
) -> None:
    if operation == "chat/completions":
        body, content_type = CHAT, "application/json"
    else:
        body, content_type = transcription({"model": "whisper"}, [("file", WAV)])
    _half_then_close(replica.url, f"/v1/{operation}", content_type, body)
    line = replica.line_where(lambda line: line["endpoint"] == operation)
    assert (line["status"], line["error"], line["key_id"]) == (499, "client_disconnected", key_id(KEY))
    # The gateway still serves: a whole request on a new connection is answered.
    answered = httpx.post(
        f"{replica.url}/v1/{operation}", headers={**AUTH, "content-type": content_type}, content=body, timeout=30
    )
    assert answered.status_code == 200, answered.text
    stderr = replica.stop()  # everything the process wrote, now that it has ended
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    assert [line["status"] for line in Gateway(replica.url, replica.routing_log).log_lines()] == [499, 200]
    assert len(sim.requests()) == 1
