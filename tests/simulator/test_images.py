"""images/generations and images/edits."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from gateway.simulator import media
from tests.simulator.helpers import AUTH, CLASSIC, Live, jpeg_size, png_pixels, sdk_client

GENERATE = CLASSIC.format("gpt-image-1", "images/generations")
EDIT = CLASSIC.format("gpt-image-1", "images/edits")
PNG = media.png(8, 8, (1, 2, 3), (4, 5, 6))
JPEG = media.jpeg(8, 8, (1, 2, 3), (4, 5, 6))
SDK_PNG = media.png(16, 16, (200, 10, 10), (10, 10, 200))


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def generate(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(GENERATE, json={"prompt": "a red fox", **body}, headers=AUTH)


async def test_generation_returns_decodable_pngs(client: httpx.AsyncClient) -> None:
    data = (await generate(client, n=2, size="1024x1536", quality="low")).json()
    assert len(data["data"]) == 2
    pictures = [base64.b64decode(d["b64_json"]) for d in data["data"]]
    for picture in pictures:
        width, height, rows = png_pixels(picture)
        assert (width, height) == (64, 96)
        assert len(rows) == height * (1 + 3 * width)
    assert pictures[0] != pictures[1]
    assert set(data["data"][0]) == {"b64_json"}
    assert (data["size"], data["quality"], data["output_format"]) == ("1024x1536", "low", "png")
    usage = data["usage"]
    assert usage["output_tokens"] == 2 * 408
    assert usage["input_tokens"] == usage["input_tokens_details"]["text_tokens"] == 3
    assert usage["input_tokens_details"]["image_tokens"] == 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_generation_is_deterministic(client: httpx.AsyncClient) -> None:
    first = (await generate(client)).json()["data"][0]["b64_json"]
    again = (await generate(client)).json()["data"][0]["b64_json"]
    other = (await generate(client, prompt="a blue whale")).json()["data"][0]["b64_json"]
    assert first == again != other


async def test_jpeg_output(client: httpx.AsyncClient) -> None:
    data = (await generate(client, output_format="jpeg", size="1536x1024")).json()
    assert jpeg_size(base64.b64decode(data["data"][0]["b64_json"])) == (96, 64)
    assert data["output_format"] == "jpeg"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": None}, "prompt"),
        ({"n": 11}, "n"),
        ({"size": "512x512"}, "size"),
        ({"quality": "hd"}, "quality"),
        ({"output_format": "webp"}, "output_format"),
        ({"response_format": "url"}, "response_format"),
        ({"background": "transparent", "output_format": "jpeg"}, "background"),
    ],
)
async def test_generation_validation(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    payload = {"prompt": "x", **body}
    if payload["prompt"] is None:
        del payload["prompt"]
    response = await client.post(GENERATE, json=payload, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_generation_content_filter(client: httpx.AsyncClient) -> None:
    response = await generate(client, prompt="draw forbidden-content")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "content_filter"
    assert "content_filter_result" in response.json()["error"]["innererror"]


async def test_edit_with_one_image(client: httpx.AsyncClient) -> None:
    response = await client.post(
        EDIT,
        files={"image": ("in.png", PNG, "image/png")},
        data={"prompt": "add a hat", "n": "2", "size": "1024x1024"},
        headers=AUTH,
    )
    assert response.status_code == 200
    data = response.json()
    assert len(data["data"]) == 2
    assert png_pixels(base64.b64decode(data["data"][0]["b64_json"]))[:2] == (64, 64)
    assert data["usage"]["input_tokens_details"]["image_tokens"] > 0


async def test_edit_with_several_images_and_a_mask(client: httpx.AsyncClient) -> None:
    files = [
        ("image[]", ("a.png", PNG, "image/png")),
        ("image[]", ("b.jpg", JPEG, "image/jpeg")),
        ("mask", ("m.png", PNG, "image/png")),
    ]
    one = await client.post(EDIT, files=files[:1], data={"prompt": "merge"}, headers=AUTH)
    two = await client.post(EDIT, files=files, data={"prompt": "merge"}, headers=AUTH)
    assert two.status_code == 200
    details = two.json()["usage"]["input_tokens_details"]
    assert details["image_tokens"] == 2 * one.json()["usage"]["input_tokens_details"]["image_tokens"]


@pytest.mark.parametrize(
    ("files", "data", "param"),
    [
        ([("other", ("notes.txt", b"hi", "text/plain"))], {"prompt": "x"}, "image"),
        ([("image", ("a.gif", b"GIF89a....", "image/gif"))], {"prompt": "x"}, "image"),
        ([("image", ("a.png", PNG, "image/png")), ("mask", ("m.jpg", JPEG, "image/jpeg"))], {"prompt": "x"}, "mask"),
        ([("image", ("a.png", PNG, "image/png"))], {}, "prompt"),
        ([("image", ("a.png", PNG, "image/png"))], {"prompt": "x", "n": "many"}, "n"),
    ],
)
async def test_edit_validation(client: httpx.AsyncClient, files: list[Any], data: dict[str, str], param: str) -> None:
    response = await client.post(EDIT, files=files, data=data, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_edit_needs_multipart(client: httpx.AsyncClient) -> None:
    response = await client.post(EDIT, json={"prompt": "x"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"


def test_images_generate(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-1", prompt="a lighthouse", n=2, size="1024x1024", quality="low")
    assert result.data is not None
    assert len(result.data) == 2
    assert result.data[0].b64_json is not None
    picture = base64.b64decode(result.data[0].b64_json)
    width, height, rows = png_pixels(picture)  # checks the signature, CRCs, and inflates IDAT
    assert (width, height) == (64, 64)
    assert len(rows) == 64 * (1 + 64 * 3)
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * 272


def test_images_edit_with_one_image_and_with_a_list(sdk: openai.OpenAI, live: Live) -> None:
    one = sdk.images.edit(model="gpt-image-1", image=("in.png", SDK_PNG, "image/png"), prompt="add stars")
    several = sdk.images.edit(
        model="gpt-image-1",
        image=[("a.png", SDK_PNG, "image/png"), ("b.png", SDK_PNG, "image/png")],
        prompt="blend",
    )
    for result in (one, several):
        assert result.data is not None
        assert result.data[0].b64_json is not None
        assert png_pixels(base64.b64decode(result.data[0].b64_json))[:2] == (64, 64)
    log = httpx.get(f"{live.url}/sim/requests").json()
    assert set(log[0]["form"]) >= {"image", "prompt", "model"}
    assert len(log[1]["form"]["image[]"]) == 2
