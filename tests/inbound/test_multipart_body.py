from __future__ import annotations

import httpx
import pytest

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import ENDPOINTS, Endpoint
from gateway.inbound.multipart_body import (
    MAX_PARTS,
    MAX_TEXT_FIELD_BYTES,
    add_text_field,
    drop_text_field,
    multipart_boundary,
    parse_multipart_body,
    replace_text_field,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
TRANSCRIPTIONS = ENDPOINTS["audio/transcriptions"]
IMAGE_EDITS = ENDPOINTS["images/edits"]
FIXED = "multipart/form-data; boundary=b"


def encode(data: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]]) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x", data=data, files=files)
    return request.read(), request.headers["content-type"]


def text_part(name: str, value: bytes, header: bytes = b"Content-Disposition") -> bytes:
    return b"--b\r\n" + header + b': form-data; name="' + name.encode() + b'"\r\n\r\n' + value + b"\r\n"


def file_part(name: str, filename: str, content: bytes) -> bytes:
    return (
        b'--b\r\nContent-Disposition: form-data; name="'
        + name.encode()
        + b'"; filename="'
        + filename.encode()
        + b'"\r\nContent-Type: audio/wav\r\n\r\n'
        + content
        + b"\r\n"
    )


END = b"--b--\r\n"


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


def test_add_text_field_puts_a_part_first_and_keeps_every_other_byte() -> None:
    audio = b"--not-a-boundary\r\nmodel\r\n\r\n" * 3
    raw, content_type = encode({"language": "en"}, [("file", ("a.wav", audio, "audio/wav"))])
    boundary = multipart_boundary(content_type)
    added = add_text_field(raw, boundary, "model", "whisper")
    body = parse_multipart_body(ENDPOINTS["audio/transcriptions"], content_type, added)
    assert body.form == {"model": ["whisper"], "language": ["en"]}
    assert body.files["file"][0].size == len(audio)
    assert added.endswith(raw)
    assert add_text_field(b"no delimiter here", boundary, "model", "whisper") == b"no delimiter here"


def test_the_whole_body_is_kept_with_every_part_parsed() -> None:
    raw = text_part("model", b"whisper") + text_part("model", b"second") + file_part("file", "a.wav", b"RIFF") + END
    body = parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert body.form == {"model": ["whisper", "second"]}  # repeated fields keep every value, in order
    assert body.files["file"][0].field == "file"
    assert (body.json, body.content_type, body.raw, body.endpoint) == (None, FIXED, raw, TRANSCRIPTIONS)


def test_a_file_part_without_a_content_type_says_so() -> None:
    raw = (
        text_part("model", b"whisper")
        + b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n'
        + END
    )
    [part] = parse_multipart_body(TRANSCRIPTIONS, FIXED, raw).files["file"]
    assert (part.filename, part.content_type, part.size) == ("a.wav", None, 4)


def test_text_that_is_not_utf8_is_decoded_with_replacement_characters() -> None:
    raw = text_part("model", b"whisper") + text_part("prompt", b"caf\xe9") + file_part("file", "a.wav", b"R") + END
    assert parse_multipart_body(TRANSCRIPTIONS, FIXED, raw).form["prompt"] == ["caf\ufffd"]


@pytest.mark.parametrize("field", ["image", "image[]"])
def test_image_edits_take_either_image_field(field: str) -> None:
    raw, content_type = encode({"model": "gpt-image-1", "prompt": "p"}, [(field, ("a.png", PNG, "image/png"))])
    assert parse_multipart_body(IMAGE_EDITS, content_type, raw).files[field][0].size == len(PNG)


def test_image_edits_without_an_image_name_the_first_form() -> None:
    raw, content_type = encode({"model": "gpt-image-1", "prompt": "p"}, [("mask", ("m.png", PNG, "image/png"))])
    with pytest.raises(InvalidRequest) as caught:
        parse_multipart_body(IMAGE_EDITS, content_type, raw)
    assert (caught.value.param, caught.value.code) == ("image", "missing_required_parameter")
    assert caught.value.message == "Missing required parameter: 'image'."


@pytest.mark.parametrize("raw", [END, b""])
def test_a_body_without_parts_is_a_400(raw: bytes) -> None:
    with pytest.raises(InvalidRequest, match="no parts") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert caught.value.code == "invalid_multipart"


def test_a_body_that_does_not_start_with_the_boundary_is_malformed() -> None:
    with pytest.raises(InvalidRequest, match="malformed") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, b"garbage")
    assert (caught.value.status, caught.value.code) == (400, "invalid_multipart")


def test_more_parts_than_the_limit_is_a_400() -> None:
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", b"R") + text_part("x", b"1") * MAX_PARTS + END
    with pytest.raises(InvalidRequest, match=f"limit is {MAX_PARTS}") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert caught.value.code == "invalid_multipart"


def test_exactly_the_part_limit_is_accepted() -> None:
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", b"R") + text_part("x", b"1") * (MAX_PARTS - 2)
    body = parse_multipart_body(TRANSCRIPTIONS, FIXED, raw + END)
    assert len(body.form["x"]) == MAX_PARTS - 2


def test_a_text_field_over_one_mib_is_a_400() -> None:
    raw = text_part("model", b"whisper") + text_part("prompt", b"a" * (MAX_TEXT_FIELD_BYTES + 1)) + END
    with pytest.raises(InvalidRequest, match="over 1 MiB") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert caught.value.code == "invalid_multipart"


def test_a_file_over_one_mib_is_only_counted() -> None:
    audio = b"a" * (MAX_TEXT_FIELD_BYTES + 10)
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", audio) + END
    assert parse_multipart_body(TRANSCRIPTIONS, FIXED, raw).files["file"][0].size == len(audio)


def test_boundary_is_read_from_the_content_type() -> None:
    assert multipart_boundary("multipart/form-data; boundary=abc123") == b"abc123"
    assert multipart_boundary('Multipart/Form-Data; charset=utf-8; boundary="a b"') == b"a b"


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("multipart/form-data", "multipart/form-data"),
        ("multipart/form-data; boundary=", "multipart/form-data; boundary="),
        ("multipart/mixed; boundary=b", "multipart/mixed; boundary=b"),
        ("", "none"),
    ],
)
def test_a_content_type_without_a_form_boundary_is_a_400(content_type: str, shown: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        multipart_boundary(content_type)
    assert caught.value.code == "invalid_content_type"
    assert caught.value.message.startswith(f"Invalid Content-Type header ({shown}):")


def test_replace_text_field_never_touches_a_file_part_of_that_name() -> None:
    raw = text_part("model", b"whisper") + file_part("model", "model.txt", b"whisper") + END
    replaced = replace_text_field(raw, b"b", "model", "whisper-eu")
    assert replaced == text_part("model", b"whisper-eu") + file_part("model", "model.txt", b"whisper") + END


def test_drop_text_field_removes_every_text_part_of_that_name_and_nothing_else() -> None:
    kept = text_part("model", b"whisper") + file_part("language", "l.txt", b"en") + file_part("file", "a.wav", b"R")
    raw = text_part("language", b"en") + kept + text_part("language", b"fr") + END
    dropped = drop_text_field(raw, b"b", "language")
    assert dropped == kept + END
    body = parse_multipart_body(TRANSCRIPTIONS, FIXED, dropped)
    assert "language" not in body.form and body.files["language"][0].filename == "l.txt"


def test_drop_text_field_reads_the_header_as_the_parser_does() -> None:
    # Header name in any case, the name unquoted: still the field the parser calls "language".
    head = text_part("model", b"whisper") + file_part("file", "a.wav", b"R")
    raw = head + b"--b\r\ncontent-disposition: form-data; name=language\r\n\r\nen\r\n" + END
    assert parse_multipart_body(TRANSCRIPTIONS, FIXED, raw).form["language"] == ["en"]
    assert drop_text_field(raw, b"b", "language") == head + END


def test_drop_text_field_keeps_a_body_without_that_field_byte_for_byte() -> None:
    raw, content_type = encode({"model": "whisper"}, [("file", ("a.wav", b"RIFF", "audio/wav"))])
    assert drop_text_field(raw, multipart_boundary(content_type), "language") == raw


def test_drop_text_field_keeps_a_body_with_no_parts() -> None:
    assert drop_text_field(END, b"b", "model") == END
    assert drop_text_field(b"not multipart", b"b", "model") == b"not multipart"


def test_model_sent_as_a_file_part_is_a_400() -> None:
    raw = file_part("model", "model.txt", b"whisper") + file_part("file", "a.wav", b"RIFF") + END
    with pytest.raises(InvalidRequest) as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert caught.value.param == "model"


def test_a_boundary_over_256_characters_is_a_400() -> None:
    boundary = "a" * 300
    raw = f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--{boundary}--\r\n'
    with pytest.raises(InvalidRequest):
        parse_multipart_body(TRANSCRIPTIONS, f"multipart/form-data; boundary={boundary}", raw.encode())


def test_a_boundary_of_256_characters_is_the_longest_accepted() -> None:
    boundary = "a" * 256
    raw = f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n'.encode()
    raw += file_part("file", "a.wav", b"R").replace(b"--b", f"--{boundary}".encode(), 1) + f"--{boundary}--".encode()
    assert parse_multipart_body(TRANSCRIPTIONS, f"multipart/form-data; boundary={boundary}", raw).form == {
        "model": ["whisper"]
    }
    with pytest.raises(InvalidRequest, match="257 characters") as caught:
        multipart_boundary(f"multipart/form-data; boundary={boundary}a")
    assert (caught.value.status, caught.value.code) == (400, "invalid_content_type")


def test_a_body_cut_off_anywhere_before_its_closing_boundary_is_a_400() -> None:
    whole = text_part("model", b"whisper") + file_part("file", "a.wav", b"RIFF----") + END
    assert parse_multipart_body(TRANSCRIPTIONS, FIXED, whole).files["file"][0].size == 8
    # The closing delimiter is whole without its CRLF: every shorter cut loses something the client sent.
    for cut in range(len(whole) - len(b"--\r\n")):
        with pytest.raises(InvalidRequest) as caught:
            parse_multipart_body(TRANSCRIPTIONS, FIXED, whole[:cut])
        assert (caught.value.status, caught.value.code) == (400, "invalid_multipart"), cut


def test_a_body_whose_parts_are_whole_but_whose_end_is_missing_is_a_400() -> None:
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", b"RIFF")
    with pytest.raises(InvalidRequest, match="closing boundary") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert caught.value.code == "invalid_multipart"


@pytest.mark.parametrize("ending", [b"--b--", b"--b--\r\n", b"--b--\r\nan epilogue, which RFC 2046 says to ignore"])
def test_the_closing_boundary_may_come_without_crlf_or_with_an_epilogue(ending: bytes) -> None:
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", b"RIFF") + ending
    assert parse_multipart_body(TRANSCRIPTIONS, FIXED, raw).form == {"model": ["whisper"]}


@pytest.mark.parametrize(
    "head",
    [b"--b\r\nNo colon here\r\n\r\n", b"--b\r\nContent-Dispo\x00sition: form-data\r\n\r\n", b"--bX\r\n"],
)
def test_a_malformed_part_is_a_400(head: bytes) -> None:
    raw = head + b"x\r\n" + text_part("model", b"whisper") + file_part("file", "a.wav", b"R") + END
    with pytest.raises(InvalidRequest) as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw)
    assert (caught.value.status, caught.value.code) == (400, "invalid_multipart")


def test_a_model_sent_as_text_and_again_as_a_file_is_a_400() -> None:
    # The gateway routes on the text; Azure must not be left to read the file instead.
    raw = text_part("model", b"whisper") + file_part("model", "m.txt", b"gpt-4o") + file_part("file", "a.wav", b"R")
    with pytest.raises(InvalidRequest, match="must be a text field, not a file upload") as caught:
        parse_multipart_body(TRANSCRIPTIONS, FIXED, raw + END)
    assert (caught.value.status, caught.value.param) == (400, "model")


@pytest.mark.parametrize(
    ("endpoint", "raw", "param", "kind"),
    [
        (TRANSCRIPTIONS, text_part("model", b"whisper") + text_part("file", b"RIFF"), "file", "a file upload"),
        (
            IMAGE_EDITS,
            text_part("model", b"gpt-image-1") + text_part("prompt", b"p") + text_part("image", b"PNG"),
            "image",
            "a file upload",
        ),
        (
            IMAGE_EDITS,
            text_part("model", b"gpt-image-1") + file_part("prompt", "p.txt", b"p") + file_part("image", "a.png", PNG),
            "prompt",
            "a text field",
        ),
    ],
)
def test_a_required_field_in_the_wrong_kind_of_part_is_a_400_naming_it(
    endpoint: Endpoint, raw: bytes, param: str, kind: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_multipart_body(endpoint, FIXED, raw + END)
    error = caught.value
    assert (error.status, error.param, error.code) == (400, param, "invalid_request_error")
    assert error.message.startswith(f"Invalid multipart part for '{param}': it must be {kind}")


def test_fields_that_are_not_required_may_come_in_either_kind_of_part() -> None:
    raw = text_part("model", b"whisper") + file_part("file", "a.wav", b"R") + file_part("prompt", "p.txt", b"hi")
    body = parse_multipart_body(TRANSCRIPTIONS, FIXED, raw + text_part("mask", b"x") + END)
    assert (body.form, sorted(body.files)) == ({"model": ["whisper"], "mask": ["x"]}, ["file", "prompt"])
