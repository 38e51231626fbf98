"""Small parsers and clients the tests share."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import orjson
from starlette.applications import Starlette

KEY = "simulator-key"
AUTH = {"api-key": KEY}
CLASSIC = "/openai/deployments/{}/{}?api-version=2025-04-01-preview"


@dataclass(frozen=True)
class Live:
    """A simulator served by uvicorn on a loopback port chosen by the OS."""

    url: str
    app: Starlette


async def add_fault(client: httpx.AsyncClient, **fault: Any) -> str:
    """Inject a fault through the control API of an in-process simulator; returns its id."""
    response = await client.post("/sim/faults", json=fault)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def add_live_fault(live: Live, **fault: Any) -> None:
    """Inject a fault through the control API of a simulator served on a socket."""
    assert httpx.post(f"{live.url}/sim/faults", json=fault).status_code == 201


def stream_into(received: bytearray, live: Live, url: str, body: dict[str, Any]) -> httpx.Headers:
    """Read a response piece by piece, keeping what arrived even if the connection breaks."""
    with httpx.Client(base_url=live.url) as client, client.stream("POST", url, json=body, headers=AUTH) as response:
        assert response.status_code == 200
        for piece in response.iter_raw():
            received += piece
        return response.headers


def sdk_client(live: Live) -> openai.OpenAI:
    """The openai SDK pointed at the served simulator's v1 URLs, without retries."""
    return openai.OpenAI(base_url=f"{live.url}/openai/v1", api_key=KEY, max_retries=0)


def sse_events(text: str) -> list[Any]:
    """Parsed `data:` payloads, with "[DONE]" kept as the string."""
    assert text.endswith("\n\n")
    events: list[Any] = []
    for block in text.split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else orjson.loads(payload))
    return events


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG, checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, offset + 8 + length)
        assert crc == zlib.crc32(kind + payload)
        if kind == b"IHDR":
            width, height = struct.unpack_from(">II", payload)
        elif kind == b"IDAT":
            idat += payload
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG markers up to the scan and return the frame size from SOF0."""
    assert data[:2] == b"\xff\xd8"
    assert data[-2:] == b"\xff\xd9"
    offset, size = 2, (0, 0)
    seen = set()
    while data[offset] == 0xFF and data[offset + 1] != 0xDA:
        marker = data[offset + 1]
        (length,) = struct.unpack_from(">H", data, offset + 2)
        if marker == 0xC0:
            height, width = struct.unpack_from(">HH", data, offset + 5)
            size = (width, height)
        seen.add(marker)
        offset += 2 + length
    assert {0xDB, 0xC0, 0xC4} <= seen
    return size
