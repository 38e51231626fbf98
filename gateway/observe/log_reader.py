"""Routing-log lines, one at a time, from a file or a pipe, or from a file as it grows (`tail -f`).

Lines are read one by one, so a log of any size is read in the memory of its longest line; a line longer
than MAX_LINE_BYTES (routing-log lines are a few KB) is dropped whole, reported as one broken line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

MAX_LINE_BYTES = 16 * 1024 * 1024
# A file has no change notification without a platform-specific watcher, so a follower looks again after
# this long; a quarter second is what an operator watching the screen does not notice.
FOLLOW_POLL_SECONDS = 0.25

# What a reader returns in place of a line too long to keep (never valid JSON, so it counts as broken).
OVERSIZED = b"\x00"


def read_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Every line of the stream, with its newline (the last may have none, if the writer was cut off)."""
    while line := _read_line(stream):
        yield line


def follow_lines(
    path: Path, *, idle: Callable[[], None] | None = None, poll_seconds: float = FOLLOW_POLL_SECONDS
) -> Iterator[bytes]:
    """Every line the file holds, then each line written to it afterwards, without end. A line being
    written is yielded once its newline is there. A file rotated (a new file at the path) or truncated is
    read again from its start. `idle` is called each time the reader has caught up, before it waits."""
    stream = path.open("rb")
    pending = b""
    try:
        while True:
            chunk = _read_line(stream)
            if chunk.endswith(b"\n") or chunk == OVERSIZED:
                yield pending + chunk if chunk != OVERSIZED else OVERSIZED
                pending = b""
                continue
            pending += chunk
            if len(pending) > MAX_LINE_BYTES:
                yield OVERSIZED
                pending = b""
                _skip_rest_of_line(stream)
                continue
            if idle is not None:
                idle()
            time.sleep(poll_seconds)
            change = _change(path, stream)
            if change is None:
                continue
            if change == "replaced":
                # What the writer added to the old file before it moved away comes first.
                for line in read_lines(stream):
                    yield pending + line
                    pending = b""
            stream.close()
            stream = path.open("rb")
            pending = b""
    finally:
        stream.close()


def _read_line(stream: IO[bytes]) -> bytes:
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
        _skip_rest_of_line(stream)
        return OVERSIZED
    return line


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while (piece := stream.readline(MAX_LINE_BYTES)) and not piece.endswith(b"\n"):
        pass


def _change(path: Path, stream: IO[bytes]) -> Literal["replaced", "truncated"] | None:
    try:
        current = path.stat()
    except FileNotFoundError:
        return None  # rotated away and not yet recreated: keep reading the old file until the new one appears
    opened = os.fstat(stream.fileno())
    if (current.st_ino, current.st_dev) != (opened.st_ino, opened.st_dev):
        return "replaced"
    return "truncated" if current.st_size < stream.tell() else None
