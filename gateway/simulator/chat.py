"""chat/completions: Azure-shaped replies, streamed or not, with tool calls and audio output.

Streams follow Azure's order: the prompt-annotation chunk (empty id and model), a role chunk, content
chunks, a finish chunk with the content-filter annotations, an optional usage chunk, then [DONE].
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_bytes  # any depth: seeds are digests of what clients sent
from gateway.simulator import textgen
from gateway.simulator.delivery import DONE_EVENT, Reply, json_reply, sse_event, sse_reply
from gateway.simulator.errors import bad_request, content_filtered, invalid_value, missing
from gateway.simulator.filters import TRIGGER_BYTES, completion_filter_results, prompt_filter_results
from gateway.simulator.params import Call
from gateway.simulator.voice import AudioClip, audio_clip

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_AUDIO_FORMATS = ("wav", "mp3", "pcm16", "flac", "opus", "aac")


@dataclass(slots=True)
class _Choice:
    index: int
    words: list[str]
    complete: bool
    tool: tuple[str, str] | None  # (call id, function name) when the reply is a forced tool call
    audio: AudioClip | None

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool else "stop" if self.complete else "length"

    @property
    def tokens(self) -> int:
        if self.tool:
            return 8 + len(self.tool[1]) // 4
        return len(self.words) + (self.audio.tokens if self.audio else 0)


def chat_completion(call: Call) -> Reply:
    body, params = call.body, call.params
    messages = _messages(body)
    if TRIGGER_BYTES in call.raw:
        raise content_filtered()
    n = params.integer("n", 1, 1, 128)
    limit = params.integer("max_completion_tokens", None, 1, 10**7)
    limit = params.integer("max_tokens", limit, 1, 10**7)
    stream = params.flag("stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    audio_format = _audio_format(call, stream)
    tool = _forced_tool(body)
    seed = call.deployment.encode() + json_bytes(messages)
    choices = []
    for index in range(n):
        digest = textgen.digest(seed, str(index).encode())
        words, complete = textgen.cut(textgen.reply_words(call.deployment, digest), limit)
        tool_call = (f"call_{digest.hex()[:24]}", tool) if tool else None
        clip = audio_clip(audio_format, len(words)) if audio_format and not tool_call else None
        choices.append(_Choice(index, words, complete, tool_call, clip))
    usage = _usage(textgen.estimate_tokens(textgen.message_chars(messages)), choices)
    created = int(time.time())
    head: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
        "created": created,
        "model": call.model.response_model,
        "system_fingerprint": "fp_" + textgen.digest(call.model.name.encode()).hex()[:10],
    }
    if stream:
        return sse_reply(_events(head, choices, usage if include_usage else None))
    return json_reply(
        {
            **head,
            "object": "chat.completion",
            "choices": [_message_choice(c, created) for c in choices],
            "prompt_filter_results": prompt_filter_results(),
            "usage": usage,
        }
    )


def _usage(prompt_tokens: int, choices: list[_Choice]) -> dict[str, Any]:
    completion_tokens = sum(c.tokens for c in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": sum(c.audio.tokens for c in choices if c.audio),
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    }


def _messages(body: dict[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if messages is None:
        raise missing("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty array.", "messages", "invalid_value")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid_value(f"messages[{i}].role", "expected one of " + ", ".join(sorted(_ROLES)))
    return messages


def _audio_format(call: Call, stream: bool) -> str | None:
    modalities = call.body.get("modalities")
    if not isinstance(modalities, list) or "audio" not in modalities:
        return None
    if not call.model.audio_output:
        raise invalid_value("modalities", f"the model {call.model.name} does not support audio output.")
    audio = call.body.get("audio")
    if not isinstance(audio, dict) or "voice" not in audio:
        raise missing("audio")
    fmt = audio.get("format")
    if fmt not in _AUDIO_FORMATS:
        raise invalid_value("audio.format", "supported values are " + ", ".join(_AUDIO_FORMATS) + ".")
    if stream and fmt != "pcm16":
        raise invalid_value("audio.format", f"'{fmt}' is not supported when stream=true; use 'pcm16'.")
    if fmt not in ("wav", "mp3", "pcm16"):
        raise invalid_value("audio.format", f"'{fmt}' is unsupported by the simulator.")
    return str(fmt)


def _forced_tool(body: dict[str, Any]) -> str | None:
    tools, choice = body.get("tools"), body.get("tool_choice")
    if not isinstance(tools, list) or not tools:
        return None
    if choice == "required":
        first = tools[0].get("function") if isinstance(tools[0], dict) else None
        return str(first.get("name", "tool")) if isinstance(first, dict) else "tool"
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return str(choice["function"].get("name", "tool"))
    return None


def _message_choice(choice: _Choice, created: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if choice.tool:
        call_id, name = choice.tool
        message["tool_calls"] = [{"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}]
    elif choice.audio:
        message["audio"] = {
            "id": choice.audio.id,
            "data": base64.b64encode(choice.audio.data).decode(),
            "expires_at": created + 3600,
            "transcript": textgen.render(choice.words, choice.complete),
        }
    else:
        message["content"] = textgen.render(choice.words, choice.complete)
    return {
        "index": choice.index,
        "message": message,
        "finish_reason": choice.finish_reason,
        "logprobs": None,
        "content_filter_results": completion_filter_results(),
    }


def _events(head: dict[str, Any], choices: list[_Choice], usage: dict[str, Any] | None) -> list[bytes]:
    with_usage = usage is not None
    base = {**head, "object": "chat.completion.chunk"}
    if with_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None, filters: bool = True) -> bytes:
        choice = {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}
        choice["content_filter_results"] = completion_filter_results() if filters else {}
        return sse_event({**base, "choices": [choice]})

    annotation: dict[str, Any] = {"id": "", "object": "", "created": 0, "model": ""}
    annotation.update(prompt_filter_results=prompt_filter_results(), choices=[])
    if with_usage:
        annotation["usage"] = None
    events = [sse_event(annotation)]
    for c in choices:
        if c.tool:
            call_id, name = c.tool
            start = {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            events.append(chunk(c.index, {"role": "assistant", "content": None, "tool_calls": [start]}, None, False))
            args = {"index": 0, "function": {"arguments": "{}"}}
            events.append(chunk(c.index, {"tool_calls": [args]}))
        elif c.audio:
            events.append(chunk(c.index, {"role": "assistant", "content": None, "refusal": None}, None, False))
            for piece, data in zip(textgen.pieces(c.words, c.complete), c.audio.pieces(len(c.words)), strict=True):
                audio = {"id": c.audio.id, "data": base64.b64encode(data).decode(), "transcript": piece}
                events.append(chunk(c.index, {"audio": audio}))
        else:
            events.append(chunk(c.index, {"role": "assistant", "content": "", "refusal": None}, None, False))
            events.extend(chunk(c.index, {"content": piece}) for piece in textgen.pieces(c.words, c.complete))
        events.append(chunk(c.index, {}, c.finish_reason))
    if usage is not None:
        events.append(sse_event({**base, "choices": [], "usage": usage}))
    events.append(DONE_EVENT)
    return events
