"""images/generations and images/edits for gpt-image-1: always `b64_json`, never URLs.

The pictures are real PNG or JPEG files, but small: each requested size is drawn at 1/16 scale
(1024x1024 -> 64x64), a gradient whose colours come from a hash of the prompt.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from gateway.simulator import media, textgen
from gateway.simulator.delivery import Reply, json_reply
from gateway.simulator.errors import bad_request, content_filtered, missing
from gateway.simulator.filters import TRIGGER
from gateway.simulator.forms import Upload
from gateway.simulator.params import Call

_SIZES = {"1024x1024": (64, 64), "1024x1536": (64, 96), "1536x1024": (96, 64)}
# Output tokens per image, from OpenAI's gpt-image-1 pricing table: (square, portrait or landscape).
_OUTPUT_TOKENS = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240)}
_IMAGE_TOKENS_PER_INPUT = 323
_MAX_INPUT_IMAGES = 16
_MAX_INPUT_BYTES = 50 * 1024 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


def image_generation(call: Call) -> Reply:
    prompt = call.params.text("prompt", required=True, max_length=32_000) or ""
    return _generate(call, prompt, input_images=0)


def image_edit(call: Call) -> Reply:
    form = call.form
    uploads = (form.files.get("image", []) + form.files.get("image[]", [])) if form else []
    if not uploads:
        raise missing("image")
    if len(uploads) > _MAX_INPUT_IMAGES:
        raise bad_request(f"At most {_MAX_INPUT_IMAGES} images can be edited at once.", "image")
    for upload in uploads:
        _check_image(upload, "image", (_PNG, _JPEG))
    masks = form.files.get("mask", []) if form else []
    if masks:
        _check_image(masks[0], "mask", (_PNG,))
    prompt = call.params.text("prompt", required=True, max_length=32_000) or ""
    return _generate(call, prompt, input_images=len(uploads))


def _check_image(upload: Upload, param: str, signatures: tuple[bytes, ...]) -> None:
    kinds = " or ".join("PNG" if s == _PNG else "JPEG" for s in signatures)
    if not upload.data.startswith(signatures):
        raise bad_request(
            f"Invalid image file '{upload.filename}'. Supported formats: {kinds}.", param, "invalid_image_format"
        )
    if len(upload.data) > _MAX_INPUT_BYTES:
        raise bad_request(f"Image file '{upload.filename}' is larger than 50 MB.", param, "image_too_large")


def _generate(call: Call, prompt: str, input_images: int) -> Reply:
    if TRIGGER in prompt:
        raise content_filtered()
    params = call.params
    if params.raw("response_format") is not None:
        raise bad_request("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter")
    if params.flag("stream"):
        raise bad_request("Streaming image generation is unsupported by the simulator.", "stream")
    n = params.integer("n", 1, 1, 10)
    size = params.choice("size", (*_SIZES, "auto"), "auto")
    size = "1024x1024" if size == "auto" else size
    quality = params.choice("quality", ("low", "medium", "high", "auto"), "auto")
    quality = "high" if quality == "auto" else quality  # Azure's default for gpt-image-1
    fmt = params.choice("output_format", ("png", "jpeg"), "png")
    background = params.choice("background", ("transparent", "opaque", "auto"), "auto")
    if background == "transparent" and fmt == "jpeg":
        raise bad_request("Transparent background requires output_format 'png'.", "background")
    params.integer("output_compression", 100, 0, 100)
    width, height = _SIZES[size]
    encode = media.jpeg if fmt == "jpeg" else media.png
    data = []
    for index in range(n):
        seed = textgen.digest(prompt.encode(), size.encode(), str(index).encode())
        picture = encode(width, height, (seed[0], seed[1], seed[2]), (seed[3], seed[4], seed[5]))
        data.append({"b64_json": base64.b64encode(picture).decode()})
    text_tokens = textgen.estimate_tokens(len(prompt))
    image_tokens = _IMAGE_TOKENS_PER_INPUT * input_images
    output_tokens = n * _OUTPUT_TOKENS[quality][0 if width == height else 1]
    usage: dict[str, Any] = {
        "total_tokens": text_tokens + image_tokens + output_tokens,
        "input_tokens": text_tokens + image_tokens,
        "output_tokens": output_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
    }
    return json_reply(
        {
            "created": int(time.time()),
            "data": data,
            "background": "opaque" if background == "auto" else background,
            "output_format": fmt,
            "quality": quality,
            "size": size,
            "usage": usage,
        }
    )
