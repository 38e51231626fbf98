"""azure_paths: which api-versions Azure-style URLs accept, and the path's deployment standing for `model`."""

from __future__ import annotations

import orjson
import pytest

from gateway.errors import InvalidRequest
from gateway.inbound.azure_paths import check_dated_api_version, check_v1_api_version, model_from_path, named_by_path
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import parse_multipart_body


@pytest.mark.parametrize("version", ["2024-10-21", "2025-04-01-preview", "2024-02-15-preview"])
def test_dated_versions_are_accepted(version: str) -> None:
    check_dated_api_version({"api-version": version})


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "missing_required_parameter"),
        ({"api-version": "v1"}, "unsupported_api_version"),  # the v1 URLs take that, not deployment URLs
        ({"api-version": "2024-10-21-beta"}, "unsupported_api_version"),
        ({"api-version": "x" * 500}, "unsupported_api_version"),
    ],
)
def test_other_versions_are_refused_naming_the_parameter(query: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_dated_api_version(query)
    assert (refused.value.param, refused.value.code) == ("api-version", code)
    assert len(refused.value.message) < 120  # a long value is not echoed whole


def test_v1_urls_take_v1_preview_or_nothing() -> None:
    for query in ({}, {"api-version": "v1"}, {"api-version": "preview"}):
        check_v1_api_version(query)
    with pytest.raises(InvalidRequest):
        check_v1_api_version({"api-version": "2024-10-21"})


def test_the_path_names_the_model_of_a_json_body_in_its_bytes_too() -> None:
    # A v1 upstream reads `model` from the bytes: they must name what the path named, not the body's model.
    raw = b'{"model": "gpt-4.1", "input": "hi"}'
    body = ClientBody(ENDPOINTS["embeddings"], raw, "application/json", json={"model": "gpt-4.1", "input": "hi"})
    named = named_by_path(body, "text-embedding-ada-002")
    assert named.model == "text-embedding-ada-002"
    assert orjson.loads(named.raw) == {"model": "text-embedding-ada-002", "input": "hi"}
    assert body.model == "gpt-4.1" and body.raw == raw  # the client's body is not changed in place
    assert named_by_path(named, "text-embedding-ada-002") is named
    same = ClientBody(ENDPOINTS["embeddings"], raw, "application/json", json={"model": "gpt-4.1", "input": "hi"})
    assert named_by_path(same, "gpt-4.1") is same  # already named so: the bytes stay as sent


def _form(*fields: tuple[str, str]) -> bytes:
    parts = [f'--x\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields]
    file_part = '--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n'
    return ("".join(parts) + file_part + "--x--\r\n").encode()


def test_the_path_names_the_model_of_a_form_without_one_by_adding_the_part() -> None:
    endpoint = model_from_path(ENDPOINTS["audio/transcriptions"])
    raw = _form(("language", "en"))
    body = parse_multipart_body(endpoint, "multipart/form-data; boundary=x", raw)
    named = named_by_path(body, "whisper")
    assert named.model == "whisper"
    reparsed = parse_multipart_body(ENDPOINTS["audio/transcriptions"], "multipart/form-data; boundary=x", named.raw)
    assert reparsed.form["model"] == ["whisper"] and reparsed.form["language"] == ["en"]
    assert b"\r\n\r\nRIFF\r\n--x--" in named.raw and reparsed.files["file"][0].size == 4


def test_the_path_names_the_model_of_a_form_that_names_another() -> None:
    raw = _form(("model", "gpt-4o-transcribe"))
    body = parse_multipart_body(ENDPOINTS["audio/transcriptions"], "multipart/form-data; boundary=x", raw)
    named = named_by_path(body, "whisper")
    reparsed = parse_multipart_body(ENDPOINTS["audio/transcriptions"], "multipart/form-data; boundary=x", named.raw)
    assert reparsed.form["model"] == ["whisper"] and named.form["model"] == ["whisper"]


def test_a_deployment_url_does_not_require_model_in_the_body() -> None:
    served = model_from_path(ENDPOINTS["chat/completions"])
    assert "model" not in served.required and "messages" in served.required
    assert served.operation == "chat/completions"
    assert "model" in ENDPOINTS["chat/completions"].required  # the /v1 endpoint is unchanged
