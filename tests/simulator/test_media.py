"""Small but real media files written by hand (media.py): PNG, JPEG, WAV/PCM and silent MP3, and reading an
upload's duration back."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from gateway.simulator import media
from tests.simulator.helpers import jpeg_size, png_pixels

RED, BLUE = (200, 10, 10), (10, 10, 200)
# The standard luminance DC Huffman table (JPEG Annex K.3), code -> size category.
_DC_CODES = {
    "00": 0, "010": 1, "011": 2, "100": 3, "101": 4, "110": 5, "1110": 6, "11110": 7, "111110": 8,
    "1111110": 9, "11111110": 10, "111111110": 11,
}  # fmt: skip


def jpeg_block_colours(data: bytes, width: int, height: int) -> list[list[tuple[int, int, int]]]:
    """Decode a DC-only baseline JPEG (every block flat, AC all end-of-block) into one RGB colour per block."""
    sos = data.index(b"\xff\xda")
    (length,) = struct.unpack_from(">H", data, sos + 2)
    scan = data[sos + 2 + length : -2]
    assert b"\xff" not in scan.replace(b"\xff\x00", b""), "entropy data must stuff every 0xFF"
    bits = "".join(f"{byte:08b}" for byte in scan.replace(b"\xff\x00", b"\xff"))
    position, previous = 0, [0, 0, 0]
    rows = []
    for _ in range(height // 8):
        row = []
        for _ in range(width // 8):
            ycc = []
            for component in range(3):
                code = ""
                while code not in _DC_CODES:
                    code += bits[position]
                    position += 1
                size = _DC_CODES[code]
                raw = bits[position : position + size]
                position += size
                value = int(raw, 2) if size else 0
                diff = value if not size or raw[0] == "1" else value - (1 << size) + 1
                previous[component] += diff
                ycc.append(previous[component] + 128)
                assert bits[position] == "0", "the only AC symbol is end-of-block"
                position += 1
            y, cb, cr = ycc
            red, green, blue = (
                y + 1.402 * (cr - 128),
                y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
                y + 1.772 * (cb - 128),
            )
            row.append((round(red), round(green), round(blue)))
        rows.append(row)
    assert set(bits[position:]) <= {"1"}, "the last byte is padded with one-bits"
    return rows


def test_png_is_a_vertical_gradient_from_top_to_bottom() -> None:
    width, height, rows = png_pixels(media.png(3, 5, RED, BLUE))
    assert (width, height) == (3, 5)
    stride = 1 + 3 * width
    scanlines = [rows[i * stride : (i + 1) * stride] for i in range(height)]
    assert all(line[0] == 0 for line in scanlines)  # filter type None
    assert scanlines[0][1:] == bytes(RED) * 3
    assert scanlines[-1][1:] == bytes(BLUE) * 3
    assert scanlines[2][1:4] == bytes((105, 10, 105))
    reds = [line[1] for line in scanlines]
    assert reds == sorted(reds, reverse=True)


def test_png_of_one_row_is_the_top_colour() -> None:
    _, _, rows = png_pixels(media.png(2, 1, RED, BLUE))
    assert rows == b"\x00" + bytes(RED) * 2


def test_jpeg_decodes_to_the_gradient_in_8_pixel_bands() -> None:
    data = media.jpeg(24, 24, RED, BLUE)
    assert jpeg_size(data) == (24, 24)
    bands = jpeg_block_colours(data, 24, 24)
    assert [len(band) for band in bands] == [3, 3, 3]
    for band in bands:
        assert len(set(band)) == 1  # every block of a band is the same flat colour
    for decoded, expected in zip([band[0] for band in bands], [RED, (105, 10, 105), BLUE], strict=True):
        assert all(abs(a - b) <= 2 for a, b in zip(decoded, expected, strict=True)), (decoded, expected)


def test_jpeg_stuffs_ff_bytes_in_its_entropy_data() -> None:
    # Black to white is a luma DC step of +255, coded as eight one-bits; six blocks across put them on a
    # byte boundary, so the encoder must write 0xFF 0x00 there for the data not to read as a marker.
    data = media.jpeg(48, 16, (0, 0, 0), (255, 255, 255))
    sos = data.index(b"\xff\xda")
    assert b"\xff\x00" in data[sos + 14 : -2]
    assert jpeg_size(data) == (48, 16)
    assert jpeg_block_colours(data, 48, 16) == [[(0, 0, 0)] * 6, [(255, 255, 255)] * 6]


def test_tone_is_a_sine_of_the_given_period_at_24_khz() -> None:
    pcm = media.tone_pcm(0.01, period=60)
    assert len(pcm) == 240 * 2
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    assert samples[:60] == samples[60:120]
    assert (samples[0], samples[15], samples[45]) == (0, 8000, -8000)
    assert samples[7] == round(8000 * math.sin(2 * math.pi * 7 / 60))
    assert len(media.tone_pcm(0)) == 2  # never empty


def test_wav_wraps_pcm_in_a_24_khz_mono_16_bit_header() -> None:
    pcm = media.tone_pcm(0.25)
    data = media.wav(pcm)
    assert data[:4] == b"RIFF" and struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    with wave.open(io.BytesIO(data)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 24_000)
        assert clip.readframes(clip.getnframes()) == pcm


@pytest.mark.parametrize(("seconds", "frames"), [(0, 1), (0.026, 1), (0.027, 2), (1.0, 39)])
def test_silent_mp3_is_whole_frames_covering_the_duration(seconds: float, frames: int) -> None:
    data = media.silent_mp3(seconds)
    assert len(data) == 417 * frames
    assert data[:4] == b"\xff\xfb\x90\x64"
    assert data[4:417] == bytes(413)


def test_audio_seconds_of_wav_and_mp3() -> None:
    assert media.audio_seconds(media.wav(media.tone_pcm(1.5))) == 1.5
    assert media.audio_seconds(media.silent_mp3(1.0)) == 39 * 417 * 8 / 128_000
    assert media.audio_seconds(b"OggS" + bytes(100)) is None
    assert media.audio_seconds(b"") is None


def test_wav_seconds_skip_other_chunks_and_trust_only_what_arrived() -> None:
    wav = media.wav(media.tone_pcm(1.0))
    fmt, data = wav[12:36], wav[36:]
    odd_chunk = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\x00"  # odd size, padded to even
    assert media.audio_seconds(wav[:12] + odd_chunk + fmt + data) == 1.0
    # A truncated upload lasts as long as the samples it holds, not as its header claims.
    assert media.audio_seconds(wav[: 44 + 24_000]) == 0.5
    # Samples before the format say nothing about time.
    assert media.audio_seconds(wav[:12] + data + fmt) is None
