"""The request-level rows of the evaluation set: every leaf of the default policy, and each API's own limits.

    python -m tests.eval.limit_cases   rewrite tests/eval/data/limits_{tuning,holdout}.jsonl

Each case is a request and what the routing tree must do with it, by the seed's tree (shared/reference/
decision-tree.md) and the limits in the model table: the model, or the error. Prompt sizes are in words of
the form "word " (one token each in the gateway's tokenizers, and one more for the trailing space): a TTS
input of 1,998 "a " is 3,996 characters and 1,999 tokens, one under gpt-4o-mini-tts's 2,000; 2,001 are over.
Every third case is held out; these rows are never tuned on either, though they move only when a limit's rule
does.
"""

from __future__ import annotations

import json
from typing import Any

from tests.eval.rows import DATA_DIR


def repeat(words: int, word: str = "data ") -> dict[str, Any]:
    return {"$repeat": [word, words]}


def chat(text: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": [{"role": "user", "content": text}], **extra}


SUMMARY = "Summarise the main points of the notes below for my manager.\n\n"
CODE = "Why does this raise ZeroDivisionError?\n```python\ndef avg(xs):\n    return sum(xs) / len(xs)\n```"
POEM = "Write a short poem about the first snow of winter falling on a quiet harbour town."
IMAGE_PART = {"type": "image_url", "image_url": {"url": "https://example.invalid/chart.png"}}

CASES: list[dict[str, Any]] = [
    # embeddings: the window is per input; the request as a whole may hold many inputs' worth
    {
        "kind": "embeddings",
        "endpoint": "embeddings",
        "body": {"model": "auto", "input": "the quick brown fox"},
        "expect": {"model": "text-embedding-ada-002"},
    },
    {
        "kind": "embeddings",
        "endpoint": "embeddings",
        "body": {"model": "auto", "input": [repeat(5000), repeat(5000), repeat(5000)]},
        "expect": {"model": "text-embedding-ada-002"},
    },
    {
        "kind": "embeddings",
        "endpoint": "embeddings",
        "body": {"model": "auto", "input": [repeat(8000), repeat(8000)]},
        "expect": {"model": "text-embedding-ada-002"},
    },
    {
        "kind": "embeddings",
        "endpoint": "embeddings",
        "body": {"model": "auto", "input": ["short", repeat(9000)]},
        "expect": {"error": {"status": 400, "param": "input", "code": "context_length_exceeded"}},
    },
    {
        "kind": "embeddings",
        "endpoint": "embeddings",
        "body": {"model": "auto", "input": repeat(9000)},
        "expect": {"error": {"status": 400, "param": "input", "code": "context_length_exceeded"}},
    },
    # images
    {
        "kind": "images",
        "endpoint": "images/generations",
        "body": {"model": "auto", "prompt": "a lighthouse at dusk"},
        "expect": {"model": "gpt-image-1"},
    },
    {
        "kind": "images",
        "endpoint": "images/edits",
        "body": {"model": "auto", "prompt": "add a red boat"},
        "files": {"image": 2048},
        "expect": {"model": "gpt-image-1"},
    },
    # legacy completions: only gpt-35-turbo-instruct serves them
    {
        "kind": "completions",
        "endpoint": "completions",
        "body": {"model": "auto", "prompt": "Once upon a time"},
        "expect": {"model": "gpt-35-turbo-instruct"},
    },
    {
        "kind": "completions",
        "endpoint": "completions",
        "body": {"model": "auto", "prompt": "List three colours:", "n": 3, "max_tokens": 1000},
        "expect": {"model": "gpt-35-turbo-instruct"},
    },
    # chat leaves by task class and hints
    {"kind": "chat leaves", "endpoint": "chat/completions", "body": chat(CODE), "expect": {"model": "gpt-4.1"}},
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": chat(CODE),
        "headers": {"x-route-latency": "low"},
        "expect": {"model": "gpt-4.1-mini"},
    },
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": chat(CODE),
        "headers": {"x-route-cost": "low"},
        "expect": {"model": "gpt-4.1-mini"},
    },
    {"kind": "chat leaves", "endpoint": "chat/completions", "body": chat(POEM), "expect": {"model": "gpt-4.5-preview"}},
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": chat("What is the capital of Australia?"),
        "expect": {"model": "gpt-35-turbo"},
    },
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": chat("What is the capital of Australia?"),
        "headers": {"x-route-cost": "normal"},
        "expect": {"model": "gpt-4.1-mini"},
    },
    {
        "kind": "chat leaves",
        "endpoint": "responses",
        "body": {"model": "auto", "input": CODE},
        "expect": {"model": "gpt-4.1"},
    },
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": chat(CODE),
        "headers": {"x-route-task": "creative"},
        "expect": {"model": "gpt-4.5-preview"},
    },
    # an alias walks from its own node
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": {**chat(CODE), "model": "fast"},
        "expect": {"model": "gpt-4.1-nano"},
    },
    {
        "kind": "chat leaves",
        "endpoint": "chat/completions",
        "body": {**chat(POEM), "model": "cheap"},
        "expect": {"model": "gpt-35-turbo"},
    },
    # large context: more than gpt-35-turbo holds goes to the 32k model, or gpt-4 with an image
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(SUMMARY + "data " * 3900),
        "expect": {"model": "gpt-35-turbo"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(6000)),
        "expect": {"model": "gpt-4-32k"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat([{"type": "text", "text": repeat(5000)}, IMAGE_PART]),
        "expect": {"model": "gpt-4"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat([{"type": "text", "text": repeat(9000)}, IMAGE_PART]),
        "expect": {"model": "gpt-4.1"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(40000)),
        "expect": {"model": "gpt-4.1"},
    },
    # the output counts against the window: 3,000 + 2,000 no longer fits gpt-35-turbo's 4,096
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(3000), max_tokens=2000),
        "expect": {"model": "gpt-35-turbo-16k"},
    },
    # ... but per choice: n choices each have the whole window
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(3000), max_tokens=900, n=4),
        "expect": {"model": "gpt-35-turbo"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(2000), max_tokens=1000, n=8),
        "expect": {"model": "gpt-35-turbo"},
    },
    {
        "kind": "context window",
        "endpoint": "chat/completions",
        "body": chat(repeat(1_100_000)),
        "expect": {"error": {"status": 400, "code": "context_length_exceeded"}},
    },
    # text to speech: 4,096 characters, and gpt-4o-mini-tts's 2,000 input tokens
    {
        "kind": "speech",
        "endpoint": "audio/speech",
        "body": {"model": "auto", "input": "Hello there", "voice": "alloy"},
        "expect": {"model": "gpt-4o-mini-tts"},
    },
    {
        "kind": "speech",
        "endpoint": "audio/speech",
        "body": {"model": "auto", "input": repeat(1998, "a "), "voice": "alloy", "instructions": repeat(400, "calm ")},
        "expect": {"model": "gpt-4o-mini-tts"},
    },
    {
        "kind": "speech",
        "endpoint": "audio/speech",
        "body": {"model": "auto", "input": repeat(2001, "a "), "voice": "alloy"},
        "expect": {"error": {"status": 400, "param": "input"}},
    },
    {
        "kind": "speech",
        "endpoint": "audio/speech",
        "body": {"model": "auto", "input": repeat(4097, "a"), "voice": "alloy"},
        "expect": {"error": {"status": 400, "param": "input", "code": "string_above_max_length"}},
    },
    # speech to text: the formats and timestamps a model can return decide between the leaf's models
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto"},
        "files": {"file": 4096},
        "expect": {"model": "gpt-4o-transcribe"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto"},
        "files": {"file": 4096},
        "headers": {"x-route-latency": "low"},
        "expect": {"model": "gpt-4o-mini-transcribe"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto", "response_format": "text"},
        "files": {"file": 4096},
        "expect": {"model": "gpt-4o-transcribe"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto", "response_format": "srt"},
        "files": {"file": 4096},
        "expect": {"model": "whisper"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto", "response_format": "vtt"},
        "files": {"file": 4096},
        "headers": {"x-route-latency": "low"},
        "expect": {"model": "whisper"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto", "response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]},
        "files": {"file": 4096},
        "expect": {"model": "whisper"},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/transcriptions",
        "body": {"model": "auto", "response_format": "diarized_json"},
        "files": {"file": 4096},
        "expect": {"error": {"status": 400, "param": "response_format"}},
    },
    {
        "kind": "transcription",
        "endpoint": "audio/translations",
        "body": {"model": "auto"},
        "files": {"file": 4096},
        "expect": {"model": "whisper"},
    },
    # audio generation: asynchronous through Chat Completions, or real time over the WebSocket
    {
        "kind": "audio",
        "endpoint": "chat/completions",
        "body": chat("Say hello warmly", modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"}),
        "expect": {"model": "gpt-4o-mini-audio-preview"},
    },
    {
        "kind": "audio",
        "endpoint": "realtime",
        "body": {"model": "auto"},
        "expect": {"model": "gpt-4o-mini-realtime-preview"},
    },
]


def main() -> None:
    splits: dict[str, list[str]] = {"tuning": [], "holdout": []}
    for index, case in enumerate(CASES):
        splits["holdout" if index % 3 == 2 else "tuning"].append(json.dumps(case, ensure_ascii=False))
    for split, lines in splits.items():
        (DATA_DIR / f"limits_{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"limits_{split}.jsonl: {len(lines)} rows")


if __name__ == "__main__":
    main()
