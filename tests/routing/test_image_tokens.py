"""Image prompt tokens: sizes read from data-URL headers (decoding only a prefix), the tile rule, content parts."""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.routing import image_tokens
from gateway.routing.image_tokens import (
    base64_image_size,
    base64_image_tokens,
    data_url_image_size,
    image_part_tokens,
    image_url_tokens,
    tile_tokens,
)


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    pixels = zlib.compress(b"\x00" * 64)
    idat = struct.pack(">I", len(pixels)) + b"IDAT" + pixels + struct.pack(">I", zlib.crc32(b"IDAT" + pixels))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x00" * 32


def webp(chunk: bytes, payload: bytes) -> bytes:
    return (
        b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    )


def webp_vp8(width: int, height: int) -> bytes:
    return webp(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 16)


def webp_vp8l(width: int, height: int) -> bytes:
    return webp(b"VP8L", b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14) + b"\x00" * 16)


def webp_vp8x(width: int, height: int) -> bytes:
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return webp(b"VP8X", b"\x00\x00\x00\x00" + size + b"\x00" * 16)


def jpeg(width: int, height: int, exif_bytes: int = 0) -> bytes:
    segments = [b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"]
    while exif_bytes > 0:  # large APP1 segments (EXIF, thumbnails) before the frame header
        body = b"\x00" * min(exif_bytes, 60_000)
        segments.append(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
        exif_bytes -= len(body)
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    segments.append(b"\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame)
    return b"\xff\xd8" + b"".join(segments) + b"\xff\xda" + b"\x00" * 64 + b"\xff\xd9"


def data_url(image: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(image).decode()}"


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (png(1024, 768), (1024, 768)),
        (gif(320, 200), (320, 200)),
        (webp_vp8(640, 480), (640, 480)),
        (webp_vp8l(1000, 3000), (1000, 3000)),
        (webp_vp8x(4000, 3000), (4000, 3000)),
        (jpeg(1920, 1080), (1920, 1080)),
        (jpeg(800, 600, exif_bytes=150_000), (800, 600)),
    ],
)
def test_image_size_from_data_url_header(image: bytes, size: tuple[int, int]) -> None:
    assert data_url_image_size(data_url(image)) == size


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (png(1024, 768), (1024, 768)),
        (gif(320, 200), (320, 200)),
        (webp_vp8x(4000, 3000), (4000, 3000)),
        (jpeg(800, 600, exif_bytes=150_000), (800, 600)),
        (b"not an image at all", None),
        (b"", None),
    ],
)
def test_image_size_from_bare_base64(image: bytes, size: tuple[int, int] | None) -> None:
    # A Responses API image_generation_call's `result`: the image's base64 without a data: prefix.
    assert base64_image_size(base64.b64encode(image).decode()) == size


@pytest.mark.parametrize(
    ("payload", "detail", "tokens"),
    [
        (base64.b64encode(png(1024, 1536)).decode(), "auto", 85 + 170 * 6),  # 768x1152: 2x3 tiles
        (base64.b64encode(png(1024, 1536)).decode(), "low", 85),
        (base64.b64encode(png(512, 512)).decode(), None, 85 + 170),
        ("!!!!", "high", 765),  # not base64: assumed 1024x1024
        (None, "auto", 765),
        (["x"], "auto", 765),
    ],
)
def test_base64_image_tokens(payload: Any, detail: Any, tokens: int) -> None:
    assert base64_image_tokens(payload, detail) == tokens


@pytest.mark.parametrize(
    ("url", "detail", "tokens"),
    [
        (data_url(png(512, 512)), "high", 85 + 170),
        (data_url(png(512, 512)), "low", 85),
        (data_url(png(1024, 512)), "auto", 85 + 170 * 2),
        (data_url(png(1024, 512)), None, 85 + 170 * 2),
        ("https://example.com/cat.png", "auto", 765),
        (None, "auto", 765),  # a Responses input_image given by file_id
        (None, "low", 85),
        (3, ["low"], 765),
    ],
)
def test_image_url_tokens_by_detail(url: Any, detail: Any, tokens: int) -> None:
    # A Responses API input_image part carries `image_url` (a string) and `detail` side by side.
    assert image_url_tokens(url, detail) == tokens


def test_only_a_small_prefix_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []

    def spy(chunk: str) -> bytes:
        decoded.append(len(chunk))
        return binascii.a2b_base64(chunk)

    monkeypatch.setattr(image_tokens, "binascii", SimpleNamespace(a2b_base64=spy, Error=binascii.Error))
    url = data_url(jpeg(800, 600, exif_bytes=2_000_000))
    assert data_url_image_size(url) == (800, 600)
    assert max(decoded) <= 64 and sum(decoded) < 2_000


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "data:image/png,not-base64",
        "data:image/png;base64,",
        "data:image/png;base64,!!!!",
        "data:text/plain;base64," + base64.b64encode(b"hello, this is not an image at all").decode(),
        "data:image/png;base64," + base64.b64encode(png(1024, 1024))[:20].decode(),  # truncated
    ],
)
def test_unknown_sizes(url: str) -> None:
    assert data_url_image_size(url) is None
    assert image_part_tokens({"url": url, "detail": "high"}) == 765  # assumed 1024x1024


@pytest.mark.parametrize(
    ("width", "height", "tokens"),
    [
        (1024, 1024, 765),  # OpenAI's examples: scaled to 768x768, 4 tiles
        (2048, 4096, 1105),  # 1024x2048, then 768x1536: 6 tiles
        (4096, 8192, 1105),
        (512, 512, 255),  # small images are not scaled up
        (100, 100, 255),
        (768, 768, 765),
        (1536, 512, 85 + 170 * 3),
        (8000, 100, 85 + 170 * 4),  # 2048x25
    ],
)
def test_tile_rule(width: int, height: int, tokens: int) -> None:
    assert tile_tokens(width, height, "high") == tokens
    assert tile_tokens(width, height, "low") == 85


@pytest.mark.parametrize(
    ("image_url", "tokens"),
    [
        ({"url": data_url(png(4000, 4000)), "detail": "low"}, 85),  # low detail: 85 whatever the size
        ({"url": data_url(png(4000, 4000)), "detail": "high"}, 765),  # 2048x2048, then 768x768: 4 tiles
        ({"url": data_url(png(512, 512)), "detail": "high"}, 255),
        ({"url": data_url(png(1024, 512)), "detail": "high"}, 85 + 170 * 2),  # not scaled: 2x1 tiles
        ({"url": data_url(gif(100, 2000), "image/gif")}, 85 + 170 * 4),  # no detail is high: 1x4 tiles
        ({"url": data_url(jpeg(3000, 1000), "image/jpeg"), "detail": "auto"}, 85 + 170 * 8),  # 2048x682: 4x2
        (data_url(webp_vp8(640, 480), "image/webp"), 85 + 170 * 2),  # a bare URL string, detail auto
        ({"url": "https://example.com/cat.png", "detail": "low"}, 85),
        ({"url": "https://example.com/cat.png"}, 765),  # an http(s) image is assumed 1024x1024
        ({"url": 7, "detail": "high"}, 765),
        ({"detail": "high"}, 765),
        (None, 765),
        (42, 765),
        (["https://example.com/cat.png"], 765),
    ],
)
def test_image_part_tokens_by_detail_and_size(image_url: Any, tokens: int) -> None:
    assert image_part_tokens(image_url) == tokens


@pytest.mark.parametrize(
    ("width", "height", "tokens"),
    [
        (1, 1, 85 + 170),  # at least one tile
        (512, 1024, 85 + 170 * 2),  # exact multiples of 512 are not a tile more
        (513, 513, 85 + 170 * 4),
        (2048, 2048, 765),  # 768x768
        (3000, 768, 85 + 170 * 8),  # 2048x524: 4x2 tiles
    ],
)
def test_tile_rule_edges(width: int, height: int, tokens: int) -> None:
    assert tile_tokens(width, height, "high") == tokens
    assert tile_tokens(width, height, "auto") == tokens


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (png(65_535, 10), (65_535, 10)),
        (png(65_536, 10), None),  # larger than any real image: a misread header
        (png(0, 10), None),
        (gif(10, 0), None),
    ],
)
def test_implausible_sizes_are_unknown(image: bytes, size: tuple[int, int] | None) -> None:
    assert data_url_image_size(data_url(image)) == size


@pytest.mark.parametrize(
    "url",
    [
        "data:" + "x" * 600 + ";base64," + base64.b64encode(png(10, 10)).decode(),  # no comma in the first 512
        "data:image/png;base64, " + base64.b64encode(png(10, 10)).decode(),  # whitespace shifts every group
        "data:image/png;base64,\u00e9" + base64.b64encode(png(10, 10)).decode(),  # not ASCII
    ],
)
def test_malformed_data_urls_are_unknown(url: str) -> None:
    assert data_url_image_size(url) is None


def jpeg_with(segments: bytes, sof_marker: bytes = b"\xff\xc0", width: int = 800, height: int = 600) -> bytes:
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + segments + sof_marker + struct.pack(">H", len(frame) + 2) + frame + b"\x00" * 32


EMPTY_APP1 = b"\xff\xe1\x00\x02"  # a segment holding nothing but its length


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (jpeg_with(b"\xff\xff\xff"), (800, 600)),  # fill bytes before a marker
        (jpeg_with(b"\xff\xd0\xff\x01"), (800, 600)),  # markers without a length field
        (jpeg_with(b"", b"\xff\xc2", 1024, 768), (1024, 768)),  # progressive
        (jpeg_with(EMPTY_APP1 * 100), (800, 600)),
        (jpeg_with(EMPTY_APP1 * 130), None),  # gives up after 128 segments
        (b"\xff\xd8\xff\xe0\x00\x10" + b"\x00" * 14 + b"\xff\xd9" + b"\x00" * 20, None),  # no frame header
        (b"\xff\xd8\xff\xe1\x00\x00" + b"\x00" * 40, None),  # a length that is no length
    ],
)
def test_jpeg_segments_are_walked_to_the_frame_header(image: bytes, size: tuple[int, int] | None) -> None:
    assert data_url_image_size(data_url(image, "image/jpeg")) == size
