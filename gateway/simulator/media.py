"""Small but real media files, written by hand so the simulator needs no imaging or audio library.

- PNG: an RGB vertical gradient (zlib + CRC chunks).
- JPEG: baseline, 4:4:4, every 8x8 block one flat colour, so only DC coefficients are coded and the
  AC Huffman table needs just the end-of-block symbol.
- WAV / PCM: 16-bit mono 24 kHz sine tone, built by repeating one exact period.
- MP3: silent MPEG-1 Layer III frames (128 kbps, 44.1 kHz); all-zero side info decodes as silence.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array

SAMPLE_RATE = 24_000
_MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)  # 144 * 128000 / 44100 = 417 bytes, no padding bit
_MP3_FRAME_SECONDS = 1152 / 44_100

RGB = tuple[int, int, int]


def png(width: int, height: int, top: RGB, bottom: RGB) -> bytes:
    rows = bytearray()
    for y in range(height):
        pixel = bytes(_mix(top, bottom, y / max(1, height - 1)))
        rows += b"\x00" + pixel * width  # filter byte 0 (None) per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(bytes(rows), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def jpeg(width: int, height: int, top: RGB, bottom: RGB) -> bytes:
    """A vertical gradient in 8-pixel bands; width and height must be multiples of 8."""
    dc_codes = _canonical_codes(_DC_BITS, list(range(12)))
    eob = (0, 1)  # the only AC symbol: a one-bit code "0"
    bits = _BitWriter()
    previous = [0, 0, 0]
    blocks_down = height // 8
    for by in range(blocks_down):
        ycc = _ycbcr(_mix(top, bottom, by / max(1, blocks_down - 1)))
        for _ in range(width // 8):
            for component, value in enumerate(ycc):
                dc = value - 128  # flat block: FDCT gives 8*(v-128), quantised by 8
                diff, previous[component] = dc - previous[component], dc
                size = abs(diff).bit_length()
                bits.put(*dc_codes[size])
                if size:
                    bits.put(diff if diff > 0 else diff + (1 << size) - 1, size)
                bits.put(*eob)
    bits.flush()
    components = b"".join(bytes((cid, 0x11, 0)) for cid in (1, 2, 3))
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xDB, b"\x00" + bytes([8] * 64)),
            _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components),
            _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(range(12))),
            _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
            _segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00"),
            bytes(bits.out),
            b"\xff\xd9",
        )
    )


_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]  # the standard luminance DC table (Annex K)


def _canonical_codes(bits: list[int], values: list[int]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code = index = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _ycbcr(rgb: RGB) -> tuple[int, int, int]:
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    return (_clamp(y), _clamp(cb), _clamp(cr))


def _clamp(value: float) -> int:
    return min(255, max(0, round(value)))


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def put(self, value: int, length: int) -> None:
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._count += length
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing, so entropy data never looks like a marker
        self._acc &= (1 << self._count) - 1

    def flush(self) -> None:
        if self._count:
            pad = 8 - self._count
            self.put((1 << pad) - 1, pad)


def tone_pcm(seconds: float, period: int = 60) -> bytes:
    """16-bit little-endian mono samples at 24 kHz; `period` samples per cycle (60 -> 400 Hz)."""
    cycle = array("h", (round(8000 * math.sin(2 * math.pi * i / period)) for i in range(period)))
    if sys.byteorder == "big":
        cycle.byteswap()
    total = max(1, round(seconds * SAMPLE_RATE)) * 2
    one = cycle.tobytes()
    return (one * (total // len(one) + 1))[:total]


def wav(pcm: bytes) -> bytes:
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        SAMPLE_RATE,
        SAMPLE_RATE * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


def silent_mp3(seconds: float) -> bytes:
    return _MP3_FRAME * max(1, math.ceil(seconds / _MP3_FRAME_SECONDS))


def audio_seconds(data: bytes) -> float | None:
    """The duration of a WAV or constant-bitrate MP3 upload, when its header tells; else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_seconds(data)
    if len(data) >= 4 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        # Our own frames (and most CBR files): 417 bytes per 1152 samples at 44.1 kHz, 128 kbps.
        return len(data) * 8 / 128_000
    return None


def _wav_seconds(data: bytes) -> float | None:
    offset, byte_rate = 12, 0
    while offset + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, offset)
        size = int(size)
        if kind == b"fmt " and offset + 16 <= len(data):
            byte_rate = int(struct.unpack_from("<I", data, offset + 16)[0])
        elif kind == b"data" and byte_rate:
            return min(size, len(data) - offset - 8) / byte_rate
        offset += 8 + size + (size & 1)
    return None
