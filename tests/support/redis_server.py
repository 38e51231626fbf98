"""Run a real `redis-server` on a free loopback port, for tests; no persistence, stopped afterwards.

The test suite shares one server through the `redis_url` fixture (tests/conftest.py), emptied before each
test; a test that stops, restarts or kills its server takes one of its own (`own_redis_server`, or
`redis_server()` directly).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.servers import free_port

STARTUP_TIMEOUT_S = 10.0
# Logged once the listening socket is open: "Ready to accept connections" (7.0), "... tcp" (7.2 and later).
_READY_LINE = "Ready to accept connections"


class RedisServer:
    """One `redis-server` process; `restart()` stops it and starts a new one on the same port."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self._workdir = workdir
        self._process: subprocess.Popen[str] | None = None
        self._log_reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make redis-server` (apt-get install redis-server)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--loglevel", "notice", "--logfile", ""]  # the log goes to stdout, which is read below
        process = subprocess.Popen(
            command, cwd=self._workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._process = process
        # The server says when it accepts connections: waiting for that line needs no polling. The reader
        # keeps draining the log afterwards, so the pipe never fills, and ends when the process does.
        ready = threading.Event()
        said_ready: list[bool] = []
        self._log_reader = threading.Thread(target=_read_log, args=(process, ready, said_ready), daemon=True)
        self._log_reader.start()
        if not ready.wait(STARTUP_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"redis-server did not start on port {self.port} in {STARTUP_TIMEOUT_S} s")
        if not said_ready:  # the log ended first: the server exited
            code = process.wait()
            self.stop()
            raise RuntimeError(f"redis-server exited with status {code} on port {self.port}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._log_reader is not None:
            self._log_reader.join()  # it closes the pipe once the exited server's log ends
        self._process = None
        self._log_reader = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        """Delete every key in every database (loaded scripts stay)."""
        with redis.Redis.from_url(self.url) as client:
            client.flushall()


def _read_log(process: subprocess.Popen[str], ready: threading.Event, said_ready: list[bool]) -> None:
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            if not ready.is_set() and _READY_LINE in line:
                said_ready.append(True)
                ready.set()
    ready.set()  # end of the log: wakes a start() still waiting for a server that died


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
