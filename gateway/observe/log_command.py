"""`gateway logs`: read a routing log (a file, a growing file, or standard input) and show the requests
that pass the filters, one readable line each, or pass their lines through unchanged (--json), or count
them into a table per model and deployment (--stats).

A line that is not a routing-log JSON object (garbage, a last line cut short) is skipped and counted; the
count goes to standard error at the end, so --json output stays only the log's own lines.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

import httpx
from rich.console import Console

from gateway.observe.feed_lines import FeedRefused, feed_lines
from gateway.observe.log_entry import parse_entry
from gateway.observe.log_filter import LineFilter
from gateway.observe.log_reader import follow_lines, read_lines
from gateway.observe.log_render import render_entry
from gateway.observe.log_stats import LogStats

STANDARD_INPUT = "-"
USAGE_ERROR = 2
UNBOUNDED_COLUMNS = 10_000  # what a table is measured against when no terminal bounds it


@dataclass(frozen=True, slots=True)
class LogsOptions:
    file: str | None  # None: standard input, when it is not a terminal
    follow: bool = False
    url: str | None = None  # a running gateway's live feed instead of a file
    admin_key: str | None = None
    as_json: bool = False
    stats: bool = False
    line_filter: LineFilter = field(default_factory=LineFilter)


def run_logs(options: LogsOptions, stdin: IO[bytes], stdout: TextIO, stderr: TextIO) -> int:
    if options.url is not None:
        if options.file is not None or options.follow:
            print("gateway logs: --url reads a live feed: it takes no --file or --follow", file=stderr)
            return USAGE_ERROR
        return _run_view(options, stdin, stdout, stderr)
    reading_stdin = options.file in (None, STANDARD_INPUT)
    if options.file is None and stdin.isatty():
        print("gateway logs: no log to read: give --file PATH, or pipe the log into standard input", file=stderr)
        return USAGE_ERROR
    if options.follow and reading_stdin:
        print("gateway logs: --follow needs --file PATH (standard input is read until it ends)", file=stderr)
        return USAGE_ERROR
    return _run_view(options, stdin, stdout, stderr)


def _run_view(options: LogsOptions, stdin: IO[bytes], stdout: TextIO, stderr: TextIO) -> int:
    view = _LogView(options, stdout)
    dropped = 0

    def count_dropped(missed: int) -> None:
        nonlocal dropped
        dropped += missed

    try:
        try:
            for raw in _lines(options, stdin, view.flush, count_dropped):
                view.show(raw)
        except KeyboardInterrupt:
            pass  # Ctrl-C ends --follow: what was read is still summed up below
        view.finish()
    except BrokenPipeError:
        _quiet_closed_stdout(stdout)  # `gateway logs ... | head` closed the pipe: nothing more to show
        return 0
    except (FeedRefused, httpx.HTTPError) as error:
        print(f"gateway logs: cannot read the live feed: {error}", file=stderr)
        return 1
    except OSError as error:
        # Opening or reading the log names its file; anything else (writing the output) is said as it is.
        problem = f"cannot read {error.filename}: {error.strerror}" if error.filename else str(error)
        print(f"gateway logs: {problem}", file=stderr)
        return 1
    if view.skipped:
        print(f"gateway logs: skipped {view.skipped} line(s) that are not routing-log JSON", file=stderr)
    if dropped:
        print(f"gateway logs: the feed dropped {dropped} line(s) this reader was too slow for", file=stderr)
    return 0


def _lines(
    options: LogsOptions, stdin: IO[bytes], idle: Callable[[], None], on_dropped: Callable[[int], None]
) -> Iterator[bytes]:
    if options.url is not None:
        yield from feed_lines(options.url, options.admin_key, on_dropped)
    elif options.file in (None, STANDARD_INPUT):
        yield from read_lines(stdin)
    elif options.follow:
        yield from follow_lines(Path(options.file), idle=idle)
    else:
        with Path(options.file).open("rb") as stream:
            yield from read_lines(stream)


class _LogView:
    def __init__(self, options: LogsOptions, stdout: TextIO) -> None:
        self._options = options
        self._stdout = stdout
        # soft_wrap: one request is one line however narrow the terminal, and piped output is not folded.
        self._console = _Console(file=stdout, soft_wrap=True, highlight=False)
        self._stats = LogStats() if options.stats else None
        self.skipped = 0

    def show(self, raw: bytes) -> None:
        entry = parse_entry(raw)
        if entry is None:
            if raw.strip():
                self.skipped += 1
            return
        if not self._options.line_filter.matches(entry):
            return
        if self._stats is not None:
            self._stats.add(entry)
        elif self._options.as_json:
            self._stdout.buffer.write(raw)
        else:
            self._console.print(render_entry(entry))

    def flush(self) -> None:
        self._stdout.flush()

    def finish(self) -> None:
        if self._stats is not None:
            table = self._stats.tables()
            # A terminal's width is the table's to fit into; piped, the table keeps its natural width
            # rather than rich's default of 80 columns, which would cut the model names short.
            if not self._console.is_terminal:
                unbounded = self._console.options.update_width(UNBOUNDED_COLUMNS)
                self._console.width = self._console.measure(table, options=unbounded).maximum
            self._console.print(table)
        self._stdout.flush()


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits with status 1 here; the reader going away (`| head`) is handled as for --json instead.
        self.quiet = True
        raise BrokenPipeError


def _quiet_closed_stdout(stdout: TextIO) -> None:
    # Python flushes stdout once more on exit, which would raise again into a traceback: point its file
    # descriptor at /dev/null first (what the Python docs advise for SIGPIPE). A stream that is not a real
    # file (a test's buffer) has no descriptor, and nothing flushes it on exit.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
