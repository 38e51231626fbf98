"""`gateway logs`: the command run in-process on buffers, and as the shell runs it (a subprocess reading a
file, a pipe, or a file another process appends to)."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from gateway.observe import log_command
from gateway.observe.log_command import LogsOptions, run_logs
from gateway.observe.log_filter import LineFilter, StatusMatch
from gateway.observe.log_reader import follow_lines
from tests.observe.log_samples import (
    BAD_KEY,
    CODING,
    CREATIVE,
    FAILED_EVERYWHERE,
    RESPONSES,
    THROTTLED_THEN_FELL_BACK,
    UNKNOWN_MODEL,
    line,
)

GATEWAY_LOGS = [sys.executable, "-m", "gateway", "logs"]
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [CREATIVE, CODING, UNKNOWN_MODEL, RESPONSES, THROTTLED_THEN_FELL_BACK, BAD_KEY, FAILED_EVERYWHERE]
LOG = b"".join(line(fields) for fields in SAMPLES)
# A line the JSON encoder did not write (spacing, key order, escapes): --json passes its bytes unchanged.
HAND_WRITTEN = b'{ "status" : 503,"model":"gpt-4.1", "error": "\\u00e9t\\u00e9"}  \n'


def plain_environ() -> dict[str, str]:
    # Piped output has no colour unless the environment forces it.
    return {name: value for name, value in os.environ.items() if name not in {"FORCE_COLOR", "TTY_COMPATIBLE"}}


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*GATEWAY_LOGS, *args], input=stdin, capture_output=True, cwd=ROOT, env=plain_environ(), timeout=120
    )


class TerminalInput(io.BytesIO):
    def isatty(self) -> bool:
        return True


def run_in_process(options: LogsOptions, stdin: io.BytesIO | None = None) -> tuple[int, bytes, str]:
    stdout, stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    status = run_logs(options, stdin or io.BytesIO(), stdout, stderr)
    stdout.flush()
    return status, stdout.buffer.getvalue(), stderr.getvalue()  # type: ignore[attr-defined]


def test_a_terminal_as_input_is_refused_with_what_to_do_instead() -> None:
    status, out, err = run_in_process(LogsOptions(file=None), TerminalInput())
    assert (status, out) == (2, b"")
    assert err == "gateway logs: no log to read: give --file PATH, or pipe the log into standard input\n"


def test_follow_needs_a_file() -> None:
    status, _, err = run_in_process(LogsOptions(file="-", follow=True), io.BytesIO(LOG))
    assert status == 2 and "--follow needs --file PATH" in err


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.log"
    for follow in (False, True):
        status, _, err = run_in_process(LogsOptions(file=str(missing), follow=follow))
        assert (status, err) == (1, f"gateway logs: cannot read {missing}: No such file or directory\n")


def test_json_passes_the_matching_lines_through_byte_for_byte() -> None:
    log = LOG + HAND_WRITTEN + b"not json\n" + line(CODING).rstrip(b"\n")  # a last line without its newline
    options = LogsOptions(file=None, as_json=True, line_filter=LineFilter(models={"gpt-4.1"}))
    status, out, err = run_in_process(options, io.BytesIO(log))
    expected = b"".join(line(fields) for fields in (CODING, RESPONSES, THROTTLED_THEN_FELL_BACK, FAILED_EVERYWHERE))
    expected += HAND_WRITTEN
    assert (status, out) == (0, expected + line(CODING).rstrip(b"\n"))
    assert err == "gateway logs: skipped 1 line(s) that are not routing-log JSON\n"


def test_broken_lines_are_skipped_and_counted_blank_lines_ignored() -> None:
    log = b"garbage\n" + line(CODING) + b"\n[1]\n\n" + line(CREATIVE)[:40]  # the writer was cut off
    status, out, err = run_in_process(LogsOptions(file=None), io.BytesIO(log))
    assert status == 0
    assert out.decode().splitlines() == [
        "17:51:15.833  key-4e5a8f4373f5  chat/completions  auto -> gpt-4.1 @ azure/gpt-4.1  "
        "[… legacy completion? no · coding? yes · low cost and latency? no]  11/20 tok  1.7 ms  200"
    ]
    assert err == "gateway logs: skipped 3 line(s) that are not routing-log JSON\n"


def test_stats_count_only_the_lines_that_pass_the_filters() -> None:
    options = LogsOptions(file=None, stats=True, line_filter=LineFilter(status=StatusMatch.parse("4xx")))
    status, out, err = run_in_process(options, io.BytesIO(LOG))
    by_model, by_key = out.decode().split("Requests by client key")
    rows = [row.split("│")[1:-1] for row in by_model.splitlines() if row.startswith("│")]
    assert [[cell.strip() for cell in row][:4] for row in rows] == [["-", "-", "2", "2"], ["all", "", "2", "2"]]
    key_rows = [[cell.strip() for cell in row.split("│")[1:-1]] for row in by_key.splitlines() if row.startswith("│")]
    assert [row[:2] for row in key_rows] == [["-", "1"], ["key-4e5a8f4373f5", "1"], ["all", "2"]]
    assert (status, err) == (0, "")


def test_the_command_reads_a_file_or_the_same_log_piped_in(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(LOG)
    from_file = run("--file", str(path))
    from_pipe = run(stdin=LOG)
    assert from_file.returncode == 0 and from_file.stderr == b""
    assert from_file.stdout == from_pipe.stdout == run("--file", "-", stdin=LOG).stdout
    shown = from_file.stdout.decode().splitlines()
    assert len(shown) == len(SAMPLES) and "\x1b[" not in from_file.stdout.decode()
    assert shown[4].startswith("17:51:15.908  key-4e5a8f4373f5  chat/completions  gpt-4.1 -> gpt-4.1-mini")
    assert shown[4].endswith("2 attempts, fell back gpt-4.1 -> gpt-4.1-mini")


def test_the_command_filters_and_passes_json_through_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(LOG + HAND_WRITTEN)
    errors = run("--file", str(path), "--json", "--errors", "--deployment", "gpt-4.1-mini")
    assert errors.stdout == line(FAILED_EVERYWHERE)
    slow_5xx = run("--file", str(path), "--json", "--status", "5xx", "--slower-than", "10")
    assert slow_5xx.stdout == line(FAILED_EVERYWHERE)
    by_key = run("--file", str(path), "--json", "--key", "key-4e5a8f4373f5", "--model", "gpt-4.5-preview")
    assert by_key.stdout == line(CREATIVE)
    unfiltered = run("--file", str(path), "--json", "--status", "503")
    assert unfiltered.stdout == HAND_WRITTEN


def test_the_command_refuses_a_status_it_cannot_read_and_json_with_stats() -> None:
    bad_status = run("--status", "6xx", stdin=b"")
    assert bad_status.returncode == 2 and b"'6xx' is not a status" in bad_status.stderr
    both = run("--json", "--stats", stdin=b"")
    assert both.returncode == 2 and b"not allowed with argument" in both.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(LOG * 2000)
    for extra in ([], ["--json"]):
        with subprocess.Popen(
            [*GATEWAY_LOGS, "--file", str(path), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
        ) as reader:
            assert reader.stdout is not None and reader.stderr is not None
            assert reader.stdout.readline()  # like `| head -1`
            reader.stdout.close()
            assert reader.wait(timeout=60) == 0
            assert reader.stderr.read() == b""


class Lines:
    """A subprocess's output lines, awaited one by one (with a limit) from a thread that reads them."""

    def __init__(self, stream: io.BufferedReader) -> None:
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: io.BufferedReader) -> None:
        for raw in stream:
            self._lines.put(raw)
        self._lines.put(b"")

    def next(self) -> str:
        return self._lines.get(timeout=30).decode()


def follow(path: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*GATEWAY_LOGS, "--file", str(path), "--follow", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=plain_environ(),
    )


def append(path: Path, raw: bytes) -> None:
    with path.open("ab") as stream:
        stream.write(raw)


def test_follow_shows_lines_as_the_file_grows_until_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(line(CREATIVE))
    with follow(path, "--errors") as follower:
        assert follower.stdout is not None and follower.stderr is not None
        shown = Lines(follower.stdout)  # type: ignore[arg-type]
        append(path, line(CODING) + line(BAD_KEY))  # only the second is an error
        assert "401 invalid_api_key" in shown.next()
        append(path, line(FAILED_EVERYWHERE)[:100])  # being written: nothing to show yet
        append(path, line(FAILED_EVERYWHERE)[100:])
        assert "500 InternalServerError" in shown.next()
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=30) == 0
        assert shown.next() == ""  # nothing more after what it had shown
        assert follower.stderr.read() == b""  # no traceback


def test_ctrl_c_while_following_still_shows_the_stats_of_what_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(line(CODING) + line(THROTTLED_THEN_FELL_BACK) + b"broken\n")

    def interrupted_when_caught_up(path: Path, *, idle: Callable[[], None]) -> Iterator[bytes]:
        def ctrl_c() -> None:
            idle()
            raise KeyboardInterrupt

        return follow_lines(path, idle=ctrl_c, poll_seconds=0)

    monkeypatch.setattr(log_command, "follow_lines", interrupted_when_caught_up)
    status, out, err = run_in_process(LogsOptions(file=str(path), follow=True, stats=True))
    by_model = out.decode().split("Requests by client key")[0]
    rows = [[cell.strip() for cell in row.split("│")[1:-1]] for row in by_model.splitlines() if row.startswith("│")]
    assert [row[:3] for row in rows] == [
        ["gpt-4.1", "azure/gpt-4.1", "1"],
        ["gpt-4.1-mini", "azure/gpt-4.1-mini", "1"],
        ["all", "", "2"],
    ]
    assert (status, err) == (0, "gateway logs: skipped 1 line(s) that are not routing-log JSON\n")


def test_stats_over_a_big_log_are_exact_totals(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    models = [("gpt-4.1", "azure/gpt-4.1"), ("gpt-4.1-mini", "azure/gpt-4.1-mini"), ("gpt-4o", "east/gpt-4o")]
    with path.open("wb") as stream:
        for number in range(200_000):
            model, deployment = models[number % 3]
            status = 429 if number % 50 == 0 else 500 if number % 70 == 1 else 200
            fields = {
                "time": "2026-11-27T17:51:15.812+00:00",
                "request_id": f"{number:032x}",
                "model": model,
                "deployment": deployment,
                "status": status,
                "latency_ms": 1 + number % 1000,
                "usage": {"prompt_tokens": 10, "completion_tokens": number % 7} if status == 200 else None,
                "prompt_tokens": 12,
            }
            stream.write(orjson.dumps(fields) + b"\n")
            if number % 40_000 == 0:
                stream.write(b"{broken\n")
        stream.write(b'{"status": 2')  # cut off at the end
    result = run("--file", str(path), "--stats")
    assert result.returncode == 0
    assert result.stderr == b"gateway logs: skipped 6 line(s) that are not routing-log JSON\n"
    by_model = result.stdout.decode().split("Requests by client key")[0]
    rows = {
        cells[0]: cells
        for row in by_model.splitlines()
        if row.startswith("│")
        for cells in [[cell.strip() for cell in row.split("│")[1:-1]]]
    }
    throttled = len(range(0, 200_000, 50))
    failed = sum(1 for n in range(200_000) if n % 70 == 1 and n % 50 != 0)
    answered = 200_000 - throttled - failed
    tokens_out = sum(n % 7 for n in range(200_000) if n % 50 != 0 and n % 70 != 1)
    assert rows["all"][2:5] == [str(200_000), str(throttled + failed), str(throttled)]
    assert rows["all"][7:10] == [str(answered * 10 + (throttled + failed) * 12), str(tokens_out), "0"]
    p50, p95 = (float(cell.removesuffix(" ms")) for cell in rows["all"][5:7])
    assert p50 == pytest.approx(500, rel=0.01) and p95 == pytest.approx(950, rel=0.01)  # 1..1000 ms evenly
    assert [rows[model][2] for model, _ in models] == ["66667", "66667", "66666"]
