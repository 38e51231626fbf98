"""Servers under test as child processes on loopback: start, wait until they answer, always stop.

Each server gets its own process (as in production) so its CPU use is not mixed with the load
generator's. Children run in their own session: a Ctrl-C in the terminal reaches only this runner,
which then stops them itself in `ServerGroup.__exit__`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
_STARTUP_SECONDS = 60.0  # generous: the first import of a cold venv can take several seconds
_STOP_SECONDS = 5.0
# Readiness probes go straight to loopback, whatever *_proxy variables the environment holds.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ServerGroup:
    """Starts servers one by one and stops all of them on exit, whether the block ended well or not."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._servers: list[Server] = []

    def __enter__(self) -> ServerGroup:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for server in reversed(self._servers):
            _stop(server.process)

    def pid_of(self, name: str) -> int:
        """The process id of the server started under `name` (for reading its memory use)."""
        return self._named(name).process.pid

    def stop(self, name: str) -> None:
        """Stop one server before the block ends, so it holds no CPU or memory while others are measured."""
        _stop(self._named(name).process)

    def _named(self, name: str) -> Server:
        return next(server for server in self._servers if server.name == name)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        ready_path: str | None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Server:
        """Run `argv` and wait until GET `ready_path` answers 200 (or, with no path, the port accepts)."""
        log_path = self._workdir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                cwd=cwd,
            )
        server = Server(name, port, process, log_path)
        self._servers.append(server)
        _wait_ready(server, ready_path)
        return server


def rss_mib(pid: int) -> float:
    """Resident memory of one process, as the kernel counts it (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_ready(server: Server, path: str | None) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.process.returncode}:\n{server.log_tail()}")
        if _answers(server, path):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start within {_STARTUP_SECONDS:.0f} s:\n{server.log_tail()}")


def _answers(server: Server, path: str | None) -> bool:
    if path is None:
        try:
            with socket.create_connection((HOST, server.port), timeout=1):
                return True
        except OSError:
            return False
    try:
        with _DIRECT.open(server.base_url + path, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The whole session: uvicorn with workers or a reloader would leave children behind otherwise.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=_STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
