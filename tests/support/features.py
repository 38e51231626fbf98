"""A chat request's routing features, as routing tests start from them: each test changes what it is about."""

from __future__ import annotations

import dataclasses
from typing import Any

from gateway.routing.features import Features

_CHAT = Features(
    operation="chat/completions",
    task="chat",
    image_input=False,
    output_tokens=None,
    latency="unspecified",
    cost="unspecified",
    task_class="general",
    task_class_source="classifier",
    task_class_reason="",
    stream=False,
)


def chat_features(**changes: Any) -> Features:
    return dataclasses.replace(_CHAT, **changes)
