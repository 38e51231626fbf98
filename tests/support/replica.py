"""One gateway replica in a process of its own, for tests that run several against one Redis.

    python -m tests.support.replica CONFIG --clock-epoch E --clock-scale S

Serves CONFIG on a loopback port the OS picks and prints `ready <base URL>` once it accepts connections.
Rate limits are judged by a clock that runs S times faster than the wall clock from epoch E (seconds),
the same in every replica given the same E and S, so minutes of limiting take seconds of test time.
Runs until stdin closes, so a replica never outlives the test that started it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from gateway.app import create_app
from gateway.settings import load_config
from tests.support.servers import serve

READY = "ready"


class ScaledClock:
    def __init__(self, epoch: float, scale: float) -> None:
        self.epoch = epoch
        self.scale = scale

    def __call__(self) -> float:
        return self.epoch + (time.time() - self.epoch) * self.scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--clock-epoch", type=float, required=True)
    parser.add_argument("--clock-scale", type=float, required=True)
    args = parser.parse_args()
    app = create_app(
        load_config(args.config, os.environ), os.environ, limits_clock=ScaledClock(args.clock_epoch, args.clock_scale)
    )
    with serve(app) as url:
        print(f"{READY} {url}", flush=True)
        # Stdin reaches end of file when the test closes it or dies: either way this replica is done.
        sys.stdin.buffer.read()


if __name__ == "__main__":
    main()
