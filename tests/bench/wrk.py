"""Fixed-duration HTTP load with wrk: one POST body and header set per run, results read as JSON.

wrk's `done()` hook reports latencies in microseconds straight from its histogram, which is more
precise than parsing the rounded text it prints, so the Lua script prints one JSON line from there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_MARKER = "BENCH_RESULT "
_DONE_HOOK = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"duration_us":%d,"requests":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    MARKER, summary.duration, summary.requests, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    non_2xx: int  # wrk counts any status >= 400 here ("Non-2xx or 3xx responses")
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages the first time (the bench needs root for that)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: apt-get update -qq && apt-get install -y -qq wrk", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("apt-get installed wrk but it is not on PATH")
    return found


def run_wrk(
    url: str, body: bytes, headers: Mapping[str, str], connections: int, seconds: float, timeout_s: float = 5.0
) -> WrkResult:
    script = _script(body, headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        argv = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s:g}s"]
        argv += ["--latency", "-s", file.name, url]
        # The hard timeout only guards against a hung wrk; a normal run ends at `seconds`.
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False)
    finally:
        Path(file.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return _parse(done.stdout)


def _script(body: bytes, headers: Mapping[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}", f"MARKER = {_lua_string(_MARKER)}"]
    lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines += [f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}" for name, value in headers.items()]
    return "\n".join(lines) + "\n" + _DONE_HOOK


def _lua_string(text: str) -> str:
    # A JSON string is a valid Lua string literal for the ASCII bodies and headers used here.
    if not text.isascii():
        raise ValueError("wrk bodies and headers must be ASCII")
    return json.dumps(text)


def _parse(stdout: str) -> WrkResult:
    line = next((line for line in stdout.splitlines() if line.startswith(_MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result line:\n{stdout}")
    raw = json.loads(line[len(_MARKER) :])
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        max_ms=raw["max_us"] / 1000,
        non_2xx=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
    )
