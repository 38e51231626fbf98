"""One gateway replica in a process of its own, for tests that run several against one Redis.

    python -m tests.support.replica CONFIG --clock-epoch E --clock-scale S

Serves CONFIG on a loopback port the OS picks and prints `ready <port>` once it accepts connections.
Rate limits are judged by a clock that runs S times faster than the wall clock from epoch E (seconds),
the same in every replica given the same E and S, so minutes of limiting take seconds of test time.
Runs until stdin closes, so a replica never outlives the test that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time

import uvicorn
import uvloop

from gateway.app import create_app
from gateway.settings import load_config

READY = "ready"


class ScaledClock:
    def __init__(self, epoch: float, scale: float) -> None:
        self.epoch = epoch
        self.scale = scale

    def __call__(self) -> float:
        return self.epoch + (time.time() - self.epoch) * self.scale


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, port: int) -> None:
        super().__init__(config)
        self._port = port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        print(f"{READY} {self._port}", flush=True)


async def _serve(server: _AnnouncingServer, sock: socket.socket) -> None:
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    # Stdin reaches end of file when the test closes it or dies: either way this replica is done.
    await asyncio.to_thread(sys.stdin.buffer.read)
    server.should_exit = True
    await serving


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--clock-epoch", type=float, required=True)
    parser.add_argument("--clock-scale", type=float, required=True)
    args = parser.parse_args()
    app = create_app(
        load_config(args.config, os.environ), os.environ, limits_clock=ScaledClock(args.clock_epoch, args.clock_scale)
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, loop="uvloop", http="httptools", lifespan="on", access_log=False, log_level="warning")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(_AnnouncingServer(config, port), sock))


if __name__ == "__main__":
    main()
