"""audio/transcriptions and audio/translations: the text, timed over the upload's real duration.

The text comes from a hash of the uploaded bytes, so the same file always gives the same transcript.
gpt-4o(-mini)-transcribe only answer json and text (json with token `usage`); whisper also answers
srt, vtt and verbose_json (segments, plus words when word timestamps are asked for).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from gateway.simulator import media, textgen
from gateway.simulator.delivery import Reply, json_reply, text_reply
from gateway.simulator.errors import bad_request, invalid_value, missing
from gateway.simulator.params import Call

MAX_FILE_BYTES = 25 * 1024 * 1024
_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
_TOKEN_MODELS = frozenset({"gpt-4o-transcribe", "gpt-4o-mini-transcribe"})
_LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "nl": "dutch",
    "pt": "portuguese", "sv": "swedish", "ja": "japanese", "zh": "chinese",
}  # fmt: skip
_WORDS_PER_SEGMENT = 8


@dataclass(frozen=True, slots=True)
class _Segment:
    start: float
    end: float
    words: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def transcription(call: Call) -> Reply:
    return _answer(call, translate=False)


def translation(call: Call) -> Reply:
    return _answer(call, translate=True)


def _answer(call: Call, translate: bool) -> Reply:
    form = call.form
    uploads = form.files.get("file") if form else None
    if not uploads or form is None:
        raise missing("file")
    upload = uploads[0]
    if not upload.filename:
        raise bad_request("The 'file' part needs a filename with an audio extension.", "file")
    if len(upload.data) > MAX_FILE_BYTES:
        raise bad_request(f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded.", "file")
    params = call.params
    fmt = params.choice("response_format", _FORMATS, "json")
    token_model = call.model.name in _TOKEN_MODELS
    if token_model and fmt not in ("json", "text"):
        raise bad_request(
            f"response_format '{fmt}' is not compatible with model '{call.model.name}'. Use 'json' or 'text'.",
            "response_format",
            "unsupported_value",
        )
    params.number("temperature", 0.0, 0.0, 1.0)
    language = params.text("language")
    granularities = form.fields.get("timestamp_granularities[]", []) + form.fields.get("timestamp_granularities", [])
    include = form.fields.get("include[]", [])
    for value, allowed, param in [(g, ("word", "segment"), "timestamp_granularities") for g in granularities] + [
        (i, ("logprobs",), "include") for i in include
    ]:
        if value not in allowed:
            raise invalid_value(param, f"'{value}'. Supported values are: {', '.join(allowed)}.")

    seconds = media.audio_seconds(upload.data) or max(1.0, len(upload.data) / 16_000)
    seed = textgen.digest(hashlib.sha256(upload.data).digest(), b"translate" if translate else b"")
    words = textgen.reply_words(call.deployment, seed, "translation" if translate else "transcript")
    text = textgen.render(words, complete=True)
    segments = _segments(text.split(), seconds)

    if fmt == "text":
        return text_reply(text + "\n")
    if fmt == "srt":
        return text_reply(
            "".join(f"{i + 1}\n{_srt(s.start)} --> {_srt(s.end)}\n{s.text}\n\n" for i, s in enumerate(segments))
        )
    if fmt == "vtt":
        cues = "".join(f"{_vtt(s.start)} --> {_vtt(s.end)}\n{s.text}\n\n" for s in segments)
        return text_reply("WEBVTT\n\n" + cues)
    if fmt == "verbose_json":
        lang = "english" if translate else _LANGUAGES.get(language or "en", language or "english")
        return json_reply(_verbose(text, segments, seconds, lang, translate, granularities, seed))
    document: dict[str, Any] = {"text": text}
    if token_model:
        if "logprobs" in include:
            document["logprobs"] = [{"token": w, "logprob": -0.01, "bytes": list(w.encode())} for w in text.split()]
        audio_tokens = max(1, round(seconds * 10))
        output_tokens = len(words)
        document["usage"] = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": output_tokens,
            "total_tokens": audio_tokens + output_tokens,
        }
    return json_reply(document)


def _segments(words: list[str], seconds: float) -> list[_Segment]:
    per_word = seconds / max(1, len(words))
    return [
        _Segment(
            round(i * per_word, 3),
            round(min(seconds, (i + _WORDS_PER_SEGMENT) * per_word), 3),
            words[i : i + _WORDS_PER_SEGMENT],
        )
        for i in range(0, len(words), _WORDS_PER_SEGMENT)
    ]


def _verbose(
    text: str,
    segments: list[_Segment],
    seconds: float,
    language: str,
    translate: bool,
    granularities: list[str],
    seed: bytes,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "task": "translate" if translate else "transcribe",
        "language": language,
        "duration": round(seconds, 2),
        "text": text,
    }
    if not granularities or "segment" in granularities:
        document["segments"] = [
            {
                "id": i,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": " " + s.text,
                "tokens": [50364 + seed[(i + j) % len(seed)] * 7 + j for j in range(len(s.words))],
                "temperature": 0.0,
                "avg_logprob": -0.25,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
            for i, s in enumerate(segments)
        ]
    if "word" in granularities:
        per_word = seconds / max(1, len(text.split()))
        document["words"] = [
            {"word": w.strip(".:"), "start": round(i * per_word, 3), "end": round((i + 1) * per_word, 3)}
            for i, w in enumerate(text.split())
        ]
    return document


def _srt(seconds: float) -> str:
    return _clock(seconds, ",")


def _vtt(seconds: float) -> str:
    return _clock(seconds, ".")


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"
