"""Streamed answers on one keep-alive connection, with a minimal HTTP/1.1 client: time to the first chunk, and
SSE chunks delivered per second.

A raw asyncio client rather than aiohttp or httpx: their own per-request cost would be added to every
target alike and blur sub-millisecond differences. The clock starts before the request is written; the
first chunk is the first body chunk of the response read, and a stream's rate is its SSE events (each a
chat.completion.chunk, counted by their blank-line ends) over the time from request to last byte.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvloop

from tests.bench.stats import percentile

_REQUEST_TIMEOUT_S = 10.0
# Stop early against a broken target rather than spend the whole budget on timeouts.
_MAX_ERRORS = 10
_DONE = b"data: [DONE]"
_EVENT_END = b"\n\n"


@dataclass(frozen=True)
class StreamResult:
    requests: int
    p50_ms: float  # to the first chunk
    p99_ms: float
    total_p50_ms: float  # the whole stream, first byte written to last byte read
    chunks: int  # SSE events in one stream (the last one measured)
    chunks_per_s_p50: float
    errors: int
    first_error: str | None


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def stream(self, request: bytes) -> tuple[int, int, bytes]:
        """(ns to the first body chunk, ns to the end, body) of one streamed response."""
        started = time.perf_counter_ns()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {head.decode(errors='replace').splitlines()[0]}")
        headers = _header_map(head)
        first = 0
        body = bytearray()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
                first = first or time.perf_counter_ns()
            await self.reader.readline()  # the blank line after the last chunk (no trailers are sent)
        else:
            body += await self.reader.readexactly(int(headers[b"content-length"]))
            first = time.perf_counter_ns()
        if headers.get(b"connection", b"").lower() == b"close":
            raise RuntimeError("the server closed the keep-alive connection")
        return first - started, time.perf_counter_ns() - started, bytes(body)


def _header_map(head: bytes) -> dict[bytes, bytes]:
    fields = (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)
    return {name.strip().lower(): value.strip() for name, _, value in fields}


def measure_streams(url: str, body: bytes, headers: Mapping[str, str], requests: int, warmup: int) -> StreamResult:
    return uvloop.run(_measure(url, body, headers, requests, warmup))


async def _measure(url: str, body: bytes, headers: Mapping[str, str], requests: int, warmup: int) -> StreamResult:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    lines += ["Content-Type: application/json", *(f"{name}: {value}" for name, value in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connection: _Connection | None = None
    firsts: list[float] = []
    totals: list[float] = []
    rates: list[float] = []
    chunks = 0
    errors, first_error = 0, None
    try:
        for index in range(warmup + requests):
            try:
                if connection is None:
                    connection = _Connection(*await asyncio.open_connection(host, port))
                async with asyncio.timeout(_REQUEST_TIMEOUT_S):
                    first_ns, total_ns, received = await connection.stream(request)
                if not received.rstrip().endswith(_DONE):
                    raise RuntimeError(f"the stream did not end with [DONE]: ...{received[-80:]!r}")
            except (OSError, RuntimeError, ValueError, KeyError, TimeoutError, asyncio.IncompleteReadError) as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
                if errors >= _MAX_ERRORS:
                    break
                # The connection's state is unknown after a failure: start afresh.
                if connection is not None:
                    connection.writer.close()
                connection = None
                continue
            if index >= warmup:
                chunks = received.count(_EVENT_END)
                firsts.append(first_ns / 1e6)
                totals.append(total_ns / 1e6)
                rates.append(chunks / (total_ns / 1e9))
    finally:
        if connection is not None:
            connection.writer.close()
    return StreamResult(
        requests=len(firsts),
        p50_ms=round(percentile(firsts, 50), 3),
        p99_ms=round(percentile(firsts, 99), 3),
        total_p50_ms=round(percentile(totals, 50), 3),
        chunks=chunks,
        chunks_per_s_p50=round(percentile(rates, 50), 1),
        errors=errors,
        first_error=first_error,
    )
