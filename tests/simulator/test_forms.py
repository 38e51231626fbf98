"""multipart/form-data bodies (forms.py): fields and files as the handlers and the request log see them."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from starlette.requests import Request
from starlette.types import Message

from gateway.simulator.errors import SimulatorError
from gateway.simulator.forms import FormBody, Upload, read_form
from tests.simulator.helpers import AUTH


async def test_request_log_records_multipart_fields_and_files(client: httpx.AsyncClient) -> None:
    audio = b"RIFF....WAVEdata"
    await client.post(
        "/openai/v1/audio/transcriptions",
        files={"file": ("a.wav", audio, "audio/wav")},
        data={"model": "whisper", "timestamp_granularities[]": ["word", "segment"], "language": "en"},
        headers=AUTH,
    )
    (record,) = (await client.get("/sim/requests")).json()
    assert record["json"] is None
    assert record["deployment"] == "whisper"
    form = record["form"]
    assert form["model"] == "whisper"
    assert form["language"] == "en"
    assert form["timestamp_granularities[]"] == ["word", "segment"]
    assert form["file"] == {
        "filename": "a.wav",
        "content_type": "audio/wav",
        "size": len(audio),
        "sha256": hashlib.sha256(audio).hexdigest(),
    }


def request_for(content: bytes, content_type: str | None) -> Request:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": content, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


def multipart(files: dict[str, tuple[str, bytes, str]], data: dict[str, str | list[str]]) -> tuple[bytes, str]:
    built = httpx.Request("POST", "http://x/", files=files, data=data)
    return built.read(), built.headers["content-type"]


async def test_read_form_keeps_every_value_of_a_field_and_every_file() -> None:
    files = {"image[]": ("a.png", b"one", "image/png")}
    content, content_type = multipart(files, {"prompt": "p", "tag": ["x", "y"]})
    form = await read_form(request_for(content, content_type))
    assert form.fields == {"prompt": ["p"], "tag": ["x", "y"]}
    assert form.files == {"image[]": [Upload("a.png", "image/png", b"one")]}
    assert form.first_fields() == {"prompt": "p", "tag": "x"}


@pytest.mark.parametrize("content_type", [None, "application/json", "application/x-www-form-urlencoded"])
async def test_read_form_wants_multipart(content_type: str | None) -> None:
    with pytest.raises(SimulatorError) as refused:
        await read_form(request_for(b"prompt=x", content_type))
    assert refused.value.status == 400
    error = refused.value.body["error"]
    assert error["code"] == "invalid_content_type"
    assert error["message"].startswith(f"Invalid Content-Type header ({content_type or 'none'})")


async def test_a_broken_multipart_body_is_a_bad_request() -> None:
    content_type = "multipart/form-data"  # no boundary
    with pytest.raises(SimulatorError) as refused:
        await read_form(request_for(b"--x\r\n", content_type))
    assert refused.value.status == 400
    assert refused.value.body["error"]["message"].startswith("Could not parse multipart form:")


def test_describe_shows_one_value_plainly_and_several_as_a_list() -> None:
    one, two = Upload("a.png", "image/png", b"1"), Upload(None, None, b"")
    form = FormBody({"model": ["m"], "tag": ["x", "y"]}, {"image": [one], "image[]": [one, two]})
    described = form.describe()
    assert described["model"] == "m"
    assert described["tag"] == ["x", "y"]
    assert described["image"] == one.describe()
    assert described["image[]"] == [one.describe(), two.describe()]
    assert two.describe() == {
        "filename": None,
        "content_type": None,
        "size": 0,
        "sha256": hashlib.sha256(b"").hexdigest(),
    }
