"""Embeddings: shapes, encodings, dimensions, limits."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.simulator.helpers import AUTH, CLASSIC, Live, sdk_client

URL = CLASSIC.format("text-embedding-ada-002", "embeddings")


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def embed(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=AUTH)


async def test_single_string(client: httpx.AsyncClient) -> None:
    data = (await embed(client, input="hello world")).json()
    assert data["object"] == "list"
    assert data["model"] == "ada"
    (item,) = data["data"]
    assert item["object"] == "embedding"
    assert item["index"] == 0
    assert len(item["embedding"]) == 1536
    assert math.isclose(math.sqrt(sum(x * x for x in item["embedding"])), 1.0, rel_tol=1e-5)
    assert data["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


async def test_vectors_are_deterministic_per_input(client: httpx.AsyncClient) -> None:
    both = (await embed(client, input=["a", "b"])).json()["data"]
    alone = (await embed(client, input="b")).json()["data"][0]
    assert [d["index"] for d in both] == [0, 1]
    assert both[1]["embedding"] == alone["embedding"]
    assert both[0]["embedding"] != both[1]["embedding"]


async def test_token_inputs(client: httpx.AsyncClient) -> None:
    one = (await embed(client, input=[1, 2, 3])).json()
    many = (await embed(client, input=[[1, 2, 3], [4, 5]])).json()
    assert len(one["data"]) == 1
    assert one["usage"]["prompt_tokens"] == 3
    assert len(many["data"]) == 2
    assert many["usage"]["prompt_tokens"] == 5
    assert many["data"][0]["embedding"] == one["data"][0]["embedding"]


async def test_base64_is_little_endian_float32_of_the_same_vector(client: httpx.AsyncClient) -> None:
    floats = (await embed(client, input="x", dimensions=8)).json()["data"][0]["embedding"]
    encoded = (await embed(client, input="x", dimensions=8, encoding_format="base64")).json()["data"][0]
    raw = base64.b64decode(encoded["embedding"])
    assert len(raw) == 8 * 4
    assert list(struct.unpack("<8f", raw)) == floats
    assert math.isclose(sum(x * x for x in floats), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "input"),
        ({"input": ""}, "input"),
        ({"input": []}, "input"),
        ({"input": ["ok", 3.5]}, "input"),
        ({"input": ["x"] * 2049}, "input"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "dimensions": 1537}, "dimensions"),
        ({"input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
async def test_invalid(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    response = await embed(client, **body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_maximum_batch_is_accepted(client: httpx.AsyncClient) -> None:
    response = await embed(client, input=[f"t{i}" for i in range(2048)], dimensions=4)
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2048


def test_embeddings_base64_default_is_decoded(sdk: openai.OpenAI) -> None:
    result = sdk.embeddings.create(model="text-embedding-ada-002", input=["one", "two"])
    assert [len(d.embedding) for d in result.data] == [1536, 1536]
    assert abs(sum(x * x for x in result.data[0].embedding) - 1.0) < 1e-4
    short = sdk.embeddings.create(model="text-embedding-ada-002", input="one", dimensions=64)
    assert len(short.data[0].embedding) == 64
