from __future__ import annotations

from typing import Any

import pytest

from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody, FilePart

CHAT = ENDPOINTS["chat/completions"]
TRANSCRIPTIONS = ENDPOINTS["audio/transcriptions"]
FORM_TYPE = "multipart/form-data; boundary=b"


def json_body(fields: dict[str, Any]) -> ClientBody:
    return ClientBody(endpoint=CHAT, raw=b"{}", content_type="application/json", json=fields)


def form_body(form: dict[str, list[str]], files: dict[str, list[FilePart]] | None = None) -> ClientBody:
    return ClientBody(endpoint=TRANSCRIPTIONS, raw=b"", content_type=FORM_TYPE, form=form, files=files or {})


def test_json_model_is_the_model_field() -> None:
    assert json_body({"model": "gpt-4.1", "messages": []}).model == "gpt-4.1"


def test_form_model_is_the_first_model_field() -> None:
    assert form_body({"model": ["whisper", "gpt-4o-transcribe"]}).model == "whisper"


@pytest.mark.parametrize(
    ("fields", "stream"),
    [
        ({"model": "m", "stream": True}, True),
        ({"model": "m", "stream": False}, False),
        ({"model": "m"}, False),
        ({"model": "m", "stream": "true"}, False),  # only JSON true streams
        ({"model": "m", "stream": 1}, False),
    ],
)
def test_json_stream_is_only_a_true_boolean(fields: dict[str, Any], stream: bool) -> None:
    assert json_body(fields).stream is stream


@pytest.mark.parametrize(
    ("form", "stream"),
    [
        ({"model": ["whisper"], "stream": ["true"]}, True),
        ({"model": ["whisper"], "stream": ["True"]}, True),
        ({"model": ["whisper"], "stream": ["TRUE"]}, True),
        ({"model": ["whisper"], "stream": ["false"]}, False),
        ({"model": ["whisper"], "stream": ["1"]}, False),
        ({"model": ["whisper"]}, False),
        ({"model": ["whisper"], "stream": ["false", "true"]}, False),  # the first value counts
    ],
)
def test_form_stream_is_the_text_true_in_any_case(form: dict[str, list[str]], stream: bool) -> None:
    assert form_body(form).stream is stream


def test_a_body_with_json_reads_json_even_when_it_has_form_fields() -> None:
    body = ClientBody(
        endpoint=CHAT,
        raw=b"{}",
        content_type="application/json",
        json={"model": "gpt-4.1", "stream": False},
        form={"model": ["other"], "stream": ["true"]},
    )
    assert (body.model, body.stream) == ("gpt-4.1", False)


def test_defaults_are_empty_and_not_shared() -> None:
    first = ClientBody(endpoint=TRANSCRIPTIONS, raw=b"", content_type=FORM_TYPE)
    second = ClientBody(endpoint=TRANSCRIPTIONS, raw=b"", content_type=FORM_TYPE)
    assert (first.json, first.form, first.files) == (None, {}, {})
    first.files["file"] = [FilePart("file", "a.wav", "audio/wav", 4)]
    assert second.files == {}
