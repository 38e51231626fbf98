"""What each simulated model can do, and the names Azure uses for its operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Operation(StrEnum):
    """Data-plane operations, named by their URL path after the deployment (or after `/openai/v1/`)."""

    CHAT = "chat/completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    IMAGE_GENERATIONS = "images/generations"
    IMAGE_EDITS = "images/edits"
    SPEECH = "audio/speech"
    TRANSCRIPTIONS = "audio/transcriptions"
    TRANSLATIONS = "audio/translations"
    # Not under a deployment: /openai/v1/responses, or /openai/responses on classic resources (see urls.py).
    RESPONSES = "responses"
    # WebSocket only; no HTTP route serves it (see realtime.py).
    REALTIME = "realtime"


# The word Azure puts in OperationNotSupported messages ("The chatCompletion operation does not work ...").
AZURE_LABELS: Mapping[Operation, str] = MappingProxyType(
    {
        Operation.CHAT: "chatCompletion",
        Operation.COMPLETIONS: "completion",
        Operation.EMBEDDINGS: "embeddings",
        Operation.IMAGE_GENERATIONS: "imageGeneration",
        Operation.IMAGE_EDITS: "imageEdit",
        Operation.SPEECH: "audioSpeech",
        Operation.TRANSCRIPTIONS: "audioTranscription",
        Operation.TRANSLATIONS: "audioTranslation",
        Operation.RESPONSES: "responses",
        Operation.REALTIME: "realtime",
    }
)

# The operation id Azure quotes in its 429 messages ("Requests to the ChatCompletions_Create Operation ...").
OPERATION_IDS: Mapping[Operation, str] = MappingProxyType(
    {
        Operation.CHAT: "ChatCompletions_Create",
        Operation.COMPLETIONS: "Completions_Create",
        Operation.EMBEDDINGS: "Embeddings_Create",
        Operation.IMAGE_GENERATIONS: "ImageGenerations_Create",
        Operation.IMAGE_EDITS: "ImageEdits_Create",
        Operation.SPEECH: "AudioSpeech_Create",
        Operation.TRANSCRIPTIONS: "Transcriptions_Create",
        Operation.TRANSLATIONS: "Translations_Create",
        Operation.RESPONSES: "Responses_Create",
        Operation.REALTIME: "Realtime_Connect",
    }
)

MULTIPART_OPERATIONS = frozenset({Operation.IMAGE_EDITS, Operation.TRANSCRIPTIONS, Operation.TRANSLATIONS})


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    operations: frozenset[Operation]
    # The `model` value a response reports; Azure answers with the dated version, not the deployment.
    response_model: str
    audio_output: bool = False
    # Reasoning models (o-series, gpt-5) take the `reasoning` parameter; the others refuse it.
    reasoning: bool = False


def _spec(
    name: str, response_model: str, *ops: Operation, audio_output: bool = False, reasoning: bool = False
) -> ModelSpec:
    return ModelSpec(name, frozenset(ops), response_model, audio_output, reasoning)


_CHAT = Operation.CHAT
# Azure's Responses API serves the gpt-4o and gpt-4.1 families, the o-series and gpt-5; not gpt-35-turbo,
# gpt-4, gpt-4-32k, gpt-4.5-preview or the audio previews (wire reference, section 1.4).
_CHAT_AND_RESPONSES = (Operation.CHAT, Operation.RESPONSES)
_TRANSCRIBE = Operation.TRANSCRIPTIONS

MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("gpt-4.1", "gpt-4.1-2025-04-14", *_CHAT_AND_RESPONSES),
            _spec("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", *_CHAT_AND_RESPONSES),
            _spec("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14", *_CHAT_AND_RESPONSES),
            _spec("gpt-4o", "gpt-4o-2024-11-20", *_CHAT_AND_RESPONSES),
            _spec("gpt-4o-mini", "gpt-4o-mini-2024-07-18", *_CHAT_AND_RESPONSES),
            _spec("o3-mini", "o3-mini-2025-01-31", *_CHAT_AND_RESPONSES, reasoning=True),
            _spec("o4-mini", "o4-mini-2025-04-16", *_CHAT_AND_RESPONSES, reasoning=True),
            _spec("gpt-5", "gpt-5-2025-08-07", *_CHAT_AND_RESPONSES, reasoning=True),
            _spec("gpt-5-mini", "gpt-5-mini-2025-08-07", *_CHAT_AND_RESPONSES, reasoning=True),
            _spec("gpt-4.5-preview", "gpt-4.5-preview-2025-02-27", _CHAT),
            _spec("gpt-4", "gpt-4-0613", _CHAT),
            _spec("gpt-4-32k", "gpt-4-32k-0613", _CHAT),
            _spec("gpt-35-turbo", "gpt-35-turbo-0125", _CHAT),
            _spec("gpt-35-turbo-16k", "gpt-35-turbo-16k-0613", _CHAT),
            _spec("gpt-4o-mini-audio-preview", "gpt-4o-mini-audio-preview-2024-12-17", _CHAT, audio_output=True),
            _spec("gpt-35-turbo-instruct", "gpt-35-turbo-instruct-0914", Operation.COMPLETIONS),
            _spec("text-embedding-ada-002", "ada", Operation.EMBEDDINGS),
            _spec("gpt-image-1", "gpt-image-1", Operation.IMAGE_GENERATIONS, Operation.IMAGE_EDITS),
            _spec("gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-03-20", Operation.SPEECH),
            _spec("gpt-4o-transcribe", "gpt-4o-transcribe-2025-03-20", _TRANSCRIBE),
            _spec("gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-03-20", _TRANSCRIBE),
            _spec("whisper", "whisper-001", _TRANSCRIBE, Operation.TRANSLATIONS),
            _spec("gpt-4o-mini-realtime-preview", "gpt-4o-mini-realtime-preview-2024-12-17", Operation.REALTIME),
        )
    }
)
