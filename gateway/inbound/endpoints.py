"""The OpenAI endpoints the gateway serves, and what each one's body must hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BodyKind = Literal["json", "multipart"]
SizeLimit = Literal["json", "audio", "image"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    operation: str  # the path after /v1/, which is also Azure's operation name
    body_kind: BodyKind
    size_limit: SizeLimit
    required: tuple[str, ...]  # body fields; for multipart, a "a|b" entry means either form name
    # JSON fields whose type is checked here, because a wrong type would otherwise reach Azure
    typed_fields: tuple[tuple[str, type | tuple[type, ...]], ...] = ()
    # multipart: the required fields that are file uploads; every other required field is a text part
    uploads: frozenset[str] = frozenset()
    # JSON text fields with a most length in characters, which Azure refuses beyond (so they are refused here,
    # before any budget is taken or Azure is called)
    max_chars: tuple[tuple[str, int], ...] = ()
    # JSON array fields with a most length, which Azure refuses beyond ("max 2,048 embedding inputs; 2,048 chat
    # messages; 128 tools"): refused here for the same reason
    max_items: tuple[tuple[str, int], ...] = ()


_COMMON_TYPES: tuple[tuple[str, type | tuple[type, ...]], ...] = (("model", str), ("stream", bool))
_IMAGE_UPLOADS = frozenset({"image", "image[]"})
_AUDIO_UPLOADS = frozenset({"file"})

ENDPOINTS: dict[str, Endpoint] = {
    endpoint.operation: endpoint
    for endpoint in (
        Endpoint(
            "chat/completions",
            "json",
            "json",
            ("model", "messages"),
            (*_COMMON_TYPES, ("messages", list)),
            max_items=(("messages", 2048), ("tools", 128)),
        ),
        Endpoint("completions", "json", "json", ("model", "prompt"), _COMMON_TYPES),
        # The Responses API: `input` may be left out when a `previous_response_id` or a stored prompt carries on.
        Endpoint(
            "responses",
            "json",
            "json",
            ("model",),
            (
                *_COMMON_TYPES,
                ("input", (str, list)),
                ("previous_response_id", str),
                ("instructions", str),
                ("store", bool),
                ("background", bool),
            ),
            max_items=(("tools", 128),),
        ),
        Endpoint("embeddings", "json", "json", ("model", "input"), _COMMON_TYPES, max_items=(("input", 2048),)),
        Endpoint("images/generations", "json", "json", ("model", "prompt"), (*_COMMON_TYPES, ("prompt", str))),
        # TTS `input` and `instructions`: "The maximum length is 4096 characters" (Azure's spec and the SDK's).
        Endpoint(
            "audio/speech",
            "json",
            "json",
            ("model", "input", "voice"),
            (*_COMMON_TYPES, ("input", str), ("instructions", str)),
            max_chars=(("input", 4096), ("instructions", 4096)),
        ),
        Endpoint("images/edits", "multipart", "image", ("model", "prompt", "image|image[]"), uploads=_IMAGE_UPLOADS),
        Endpoint("audio/transcriptions", "multipart", "audio", ("model", "file"), uploads=_AUDIO_UPLOADS),
        Endpoint("audio/translations", "multipart", "audio", ("model", "file"), uploads=_AUDIO_UPLOADS),
    )
}

# The WebSocket at /v1/realtime. Routing reads its `model` query parameter as a JSON body {"model": ...};
# it is not in ENDPOINTS, whose entries become POST routes.
REALTIME = Endpoint("realtime", "json", "json", ("model",), (("model", str),))
