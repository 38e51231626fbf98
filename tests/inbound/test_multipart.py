from __future__ import annotations

import httpx
import pytest

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.multipart_body import multipart_boundary, parse_multipart_body, replace_text_field

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def encode(data: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]]) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x", data=data, files=files)
    return request.read(), request.headers["content-type"]


def test_parses_text_fields_and_summarises_files() -> None:
    raw, content_type = encode(
        {"model": "gpt-image-1", "prompt": "a red fox"},
        [("image[]", ("a.png", PNG, "image/png")), ("image[]", ("b.png", PNG * 2, "image/png"))],
    )
    body = parse_multipart_body(ENDPOINTS["images/edits"], content_type, raw)
    assert body.model == "gpt-image-1"
    assert body.form["prompt"] == ["a red fox"]
    assert [(part.filename, part.size, part.content_type) for part in body.files["image[]"]] == [
        ("a.png", len(PNG), "image/png"),
        ("b.png", 2 * len(PNG), "image/png"),
    ]
    assert body.raw == raw


def test_missing_required_file_is_a_400_naming_it() -> None:
    raw, content_type = encode({"model": "whisper"}, [("other", ("a.wav", b"RIFF", "audio/wav"))])
    with pytest.raises(InvalidRequest) as caught:
        parse_multipart_body(ENDPOINTS["audio/transcriptions"], content_type, raw)
    assert caught.value.param == "file"
    assert caught.value.status == 400


def test_wrong_content_type_is_a_400() -> None:
    with pytest.raises(InvalidRequest, match="multipart/form-data"):
        parse_multipart_body(ENDPOINTS["audio/transcriptions"], "application/json", b"{}")


def test_truncated_body_is_a_400() -> None:
    raw, content_type = encode({"model": "whisper"}, [("file", ("a.wav", b"RIFF" * 10, "audio/wav"))])
    with pytest.raises(InvalidRequest):
        parse_multipart_body(ENDPOINTS["audio/transcriptions"], content_type, raw[: len(raw) // 2])


def test_replace_text_field_changes_only_that_field() -> None:
    audio = b"--not-a-boundary\r\nmodel\r\n\r\n" * 3
    raw, content_type = encode({"model": "whisper", "language": "en"}, [("file", ("a.wav", audio, "audio/wav"))])
    boundary = multipart_boundary(content_type)
    replaced = replace_text_field(raw, boundary, "model", "whisper-eu")
    body = parse_multipart_body(ENDPOINTS["audio/transcriptions"], content_type, replaced)
    assert body.form == {"model": ["whisper-eu"], "language": ["en"]}
    assert body.files["file"][0].size == len(audio)
    assert replaced.replace(b"whisper-eu", b"whisper") == raw
