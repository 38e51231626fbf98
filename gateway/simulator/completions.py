"""Legacy completions (gpt-35-turbo-instruct): `text_completion` objects, streamed or not."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_bytes  # any depth: seeds are digests of what clients sent
from gateway.simulator import textgen
from gateway.simulator.delivery import DONE_EVENT, Reply, json_reply, sse_event, sse_reply
from gateway.simulator.errors import content_filtered, invalid_value, missing
from gateway.simulator.filters import TRIGGER_BYTES, completion_filter_results, prompt_filter_results
from gateway.simulator.params import Call

# OpenAI's documented default for this endpoint, so unbounded requests get cut like the real thing.
DEFAULT_MAX_TOKENS = 16


@dataclass(frozen=True, slots=True)
class _Text:
    pieces: list[str]  # stream deltas; joined, the whole `text`
    tokens: int
    complete: bool

    @property
    def finish_reason(self) -> str:
        return "stop" if self.complete else "length"


def completion(call: Call) -> Reply:
    prompts = _prompts(call.body.get("prompt"))
    if TRIGGER_BYTES in call.raw:
        raise content_filtered()
    params = call.params
    n = params.integer("n", 1, 1, 128)
    limit = params.integer("max_tokens", DEFAULT_MAX_TOKENS, 1, 10**7)
    echo = params.flag("echo")
    stream = params.flag("stream")
    options = call.body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    texts = []
    for prompt in prompts:
        prompt_seed = call.deployment.encode() + json_bytes(prompt)
        for index in range(n):
            seed = textgen.digest(prompt_seed, str(index).encode())
            words, complete = textgen.cut(textgen.reply_words(call.deployment, seed, "completion"), limit)
            pieces = textgen.pieces(words, complete)
            pieces[0] = " " + pieces[0]  # completions continue the prompt, so they start with a space
            if echo and isinstance(prompt, str):
                pieces.insert(0, prompt)
            texts.append(_Text(pieces, len(words), complete))
    prompt_tokens = sum(len(p) if isinstance(p, list) else textgen.estimate_tokens(len(p)) for p in prompts)
    completion_tokens = sum(t.tokens for t in texts)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    head = {
        "id": f"cmpl-{uuid.uuid4().hex[:29]}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": call.model.response_model,
    }
    if stream:
        return sse_reply(_events(head, texts, len(prompts), usage if include_usage else None))
    choices = [
        {
            "text": "".join(t.pieces),
            "index": i,
            "finish_reason": t.finish_reason,
            "logprobs": None,
            "content_filter_results": completion_filter_results(),
        }
        for i, t in enumerate(texts)
    ]
    filters = prompt_filter_results(len(prompts))
    return json_reply({**head, "choices": choices, "prompt_filter_results": filters, "usage": usage})


def _prompts(prompt: Any) -> list[str | list[int]]:
    """A string, a list of strings, a token list, or a list of token lists."""
    if prompt is None:
        raise missing("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(_is_token(t) for t in prompt):
            return [prompt]
        if all(isinstance(p, str) or (isinstance(p, list) and p and all(map(_is_token, p))) for p in prompt):
            return list(prompt)
    raise invalid_value("prompt", "expected a string, an array of strings, or an array of token arrays.")


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _events(head: dict[str, Any], texts: list[_Text], prompts: int, usage: dict[str, Any] | None) -> list[bytes]:
    extra: dict[str, Any] = {"usage": None} if usage is not None else {}
    annotation = {"id": "", "object": "", "created": 0, "model": "", **extra}
    events = [sse_event({**annotation, "prompt_filter_results": prompt_filter_results(prompts), "choices": []})]
    for index, text in enumerate(texts):
        for piece in text.pieces:
            choice = {"text": piece, "index": index, "finish_reason": None, "logprobs": None}
            choice["content_filter_results"] = completion_filter_results()
            events.append(sse_event({**head, "choices": [choice], **extra}))
        final = {"text": "", "index": index, "finish_reason": text.finish_reason, "logprobs": None}
        final["content_filter_results"] = completion_filter_results()
        events.append(sse_event({**head, "choices": [final], **extra}))
    if usage is not None:
        events.append(sse_event({**head, "choices": [], "usage": usage}))
    events.append(DONE_EVENT)
    return events
