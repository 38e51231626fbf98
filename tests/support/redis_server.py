"""Run a real `redis-server` on a free loopback port, for tests; no persistence, stopped afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

STARTUP_TIMEOUT_S = 10.0


class RedisServer:
    """One `redis-server` process; `restart()` stops it and starts a new one on the same port."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make redis-server` (apt-get install redis-server)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            command, cwd=self._workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_ready(self._process)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if _answers_ping(self.port):
                return
            try:
                # Both the pause between polls and a check that the server has not died on start.
                code = process.wait(timeout=0.01)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"redis-server exited with status {code} on port {self.port}")
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} in {STARTUP_TIMEOUT_S} s")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A started `RedisServer` (its URL is `.url`), stopped when the block ends."""
    with tempfile.TemporaryDirectory(prefix="redis-") as workdir:
        server = RedisServer(Path(workdir), free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()
