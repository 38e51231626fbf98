"""embeddings: deterministic unit vectors, one per input, as float lists or base64 float32."""

from __future__ import annotations

import base64
import hashlib
import math
import sys
from array import array
from typing import Any

from gateway.routing.json_text import json_bytes  # any depth: seeds are digests of what clients sent
from gateway.simulator import textgen
from gateway.simulator.delivery import Reply, json_reply
from gateway.simulator.errors import bad_request, invalid_value, missing
from gateway.simulator.params import Call

FULL_DIMENSIONS = 1536
MAX_INPUTS = 2048


def embeddings(call: Call) -> Reply:
    inputs = _inputs(call.body.get("input"))
    params = call.params
    dimensions = params.integer("dimensions", FULL_DIMENSIONS, 1, FULL_DIMENSIONS)
    as_base64 = params.choice("encoding_format", ("float", "base64"), "float") == "base64"
    data = []
    for index, item in enumerate(inputs):
        vector = _vector(json_bytes(item), dimensions)
        embedding: Any = _base64(vector) if as_base64 else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(i) if isinstance(i, list) else textgen.estimate_tokens(len(i)) for i in inputs)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return json_reply({"object": "list", "data": data, "model": call.model.response_model, "usage": usage})


def _inputs(value: Any) -> list[str | list[int]]:
    """A string, a list of strings, a token list, or a list of token lists, as OpenAI accepts."""
    if value is None:
        raise missing("input")
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(_is_token(t) for t in value):
        items = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise invalid_value("input", "expected a non-empty string or array.")
    if len(items) > MAX_INPUTS:
        raise bad_request(
            f"Too many inputs. The max number of inputs is {MAX_INPUTS}. We hope to increase the number of "
            "inputs per request soon. Please contact us through an Azure support request at: "
            "https://go.microsoft.com/fwlink/?linkid=2213926 for further questions.",
            "input",
        )
    for item in items:
        valid_text = isinstance(item, str) and item
        valid_tokens = isinstance(item, list) and item and all(_is_token(t) for t in item)
        if not (valid_text or valid_tokens):
            raise invalid_value("input", "each input must be a non-empty string or array of token ids.")
    return items


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _vector(seed: bytes, dimensions: int) -> array[float]:
    # Hash bytes read as int16 give a cheap pseudo-random direction; the shake stream is per input.
    raw = array("h", hashlib.shake_256(seed).digest(2 * dimensions))
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return array("f", (x / norm for x in raw))


def _base64(vector: array[float]) -> str:
    if sys.byteorder == "big":
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode()
