from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.observe import log_reader
from gateway.observe.log_reader import OVERSIZED, follow_lines, read_lines


def test_lines_come_one_by_one_with_their_newline_and_a_cut_last_line_as_it_is() -> None:
    stream = io.BytesIO(b'{"a": 1}\n\n{"b": 2}\n{"c": ')
    assert list(read_lines(stream)) == [b'{"a": 1}\n', b"\n", b'{"b": 2}\n', b'{"c": ']


def test_a_line_longer_than_the_limit_is_dropped_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_reader, "MAX_LINE_BYTES", 8)
    stream = io.BytesIO(b"short\n" + b"x" * 30 + b"\nafter\n")
    assert list(read_lines(stream)) == [b"short\n", OVERSIZED, b"after\n"]


class Writer:
    """Changes the followed file each time the follower has caught up (one step's actions each time), so
    nothing waits on a clock."""

    def __init__(self, path: Path, steps: list[tuple[bytes | str, ...]]) -> None:
        self.path = path
        self.steps = steps

    def idle(self) -> None:
        if not self.steps:
            raise AssertionError("the follower waited for more after the last step")
        for action in self.steps.pop(0):
            if action == "rotate":
                os.rename(self.path, self.path.with_suffix(".1"))
                self.path.write_bytes(b"")
            elif action == "truncate":
                self.path.write_bytes(b"")
            elif isinstance(action, bytes):
                with self.path.open("ab") as stream:
                    stream.write(action)


def follow(path: Path, steps: list[tuple[bytes | str, ...]], count: int) -> list[bytes]:
    lines: Iterator[bytes] = follow_lines(path, idle=Writer(path, steps).idle, poll_seconds=0)
    return [next(lines) for _ in range(count)]


def test_following_yields_what_the_file_holds_then_what_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b"one\n")
    assert follow(path, [(b"two\n",), (b"three\n",)], 3) == [b"one\n", b"two\n", b"three\n"]


def test_a_line_being_written_is_yielded_once_its_newline_is_there(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b'{"half": ')
    assert follow(path, [(), (b"1}\n",)], 1) == [b'{"half": 1}\n']


def test_a_rotated_file_is_read_to_its_end_then_the_new_one_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b"old\n")
    # A line lands in the old file just before it is rotated away: it is read before the new file is.
    steps: list[tuple[bytes | str, ...]] = [(b"last of old\n", "rotate"), (b"new\n",)]
    assert follow(path, steps, 3) == [b"old\n", b"last of old\n", b"new\n"]


def test_a_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b"before truncation\n")
    assert follow(path, [("truncate",), (b"after\n",)], 2) == [b"before truncation\n", b"after\n"]


def test_following_waits_for_a_writer_in_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b"")
    caught_up = threading.Event()
    lines = follow_lines(path, idle=caught_up.set, poll_seconds=0.01)
    appender = threading.Thread(target=lambda: (caught_up.wait(10), path.write_bytes(b"late\n")))
    appender.start()
    assert next(lines) == b"late\n"
    appender.join()
