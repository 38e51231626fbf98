"""A `redis-server` started with the arguments a test gives (TLS, ACL users, cluster mode, Sentinel).

redis_server.py runs the plain server the suite shares; this runs the configured ones, each in its own folder
(a cluster node writes its nodes.conf there, a Sentinel its config), stopped or killed by the test.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from pathlib import Path

from tests.support.redis_server import STARTUP_TIMEOUT_S

# What a server logs once it listens; a Sentinel logs the master it watches instead.
SERVER_READY = "Ready to accept connections"
SENTINEL_READY = "+monitor master"


class RedisNode:
    """One redis-server process on 127.0.0.1:`port`; `args` are added to its command line."""

    def __init__(self, workdir: Path, port: int, args: list[str], *, ready_line: str = SERVER_READY) -> None:
        self.port = port
        self.workdir = workdir
        self._args = args
        self._ready_line = ready_line
        self._process: subprocess.Popen[str] | None = None
        self._log_reader: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make redis-server`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [binary, *self._args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--loglevel", "notice", "--logfile", ""]
        process = subprocess.Popen(
            command, cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._process = process
        ready = threading.Event()
        said_ready: list[bool] = []
        reader_args = (process, self._ready_line, ready, said_ready)
        self._log_reader = threading.Thread(target=_read_log, args=reader_args, daemon=True)
        self._log_reader.start()
        if not ready.wait(STARTUP_TIMEOUT_S) or not said_ready:
            self.stop()
            raise RuntimeError(f"redis-server {self._args} did not start on port {self.port}")

    def kill(self) -> None:
        """Gone at once, as a crashed machine: no goodbye to the clients or to the other nodes."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
        self.stop()

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
            self._log_reader.join()
        self._process = None
        self._log_reader = None


def _read_log(process: subprocess.Popen[str], ready_line: str, ready: threading.Event, said_ready: list[bool]) -> None:
    """Sets `ready` at `ready_line` (or when the log ends: the server died), and drains the log to its end."""
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            if not ready.is_set() and ready_line in line:
                said_ready.append(True)
                ready.set()
    ready.set()
