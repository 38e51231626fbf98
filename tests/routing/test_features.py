"""Features: the task families routing knows, and a request's features (its needs among them) as a dict for logs
and `explain`."""

from __future__ import annotations

import dataclasses

from gateway.routing.features import TASK_FAMILIES, Features


def test_task_families_are_the_literal_values() -> None:
    assert TASK_FAMILIES == (
        "image_generation",
        "image_edit",
        "text_to_speech",
        "transcription",
        "translation",
        "audio_generation",
        "realtime",
        "chat",
        "completion",
        "embeddings",
    )


def sample() -> Features:
    return Features(
        operation="chat/completions",
        task="chat",
        image_input=True,
        output_tokens=256,
        latency="low",
        cost="unspecified",
        task_class="code",
        task_class_source="classifier",
        task_class_reason="a traceback",
        stream=True,
        needs=frozenset({"tools", "image_input"}),
    )


def test_as_dict_holds_every_field_and_round_trips() -> None:
    features = sample()
    assert features.as_dict() == {
        "operation": "chat/completions",
        "task": "chat",
        "image_input": True,
        "output_tokens": 256,
        "latency": "low",
        "cost": "unspecified",
        "task_class": "code",
        "task_class_source": "classifier",
        "task_class_reason": "a traceback",
        "stream": True,
        "needs": ["image_input", "tools"],  # a list, sorted: routing-log lines are JSON
        "output_choices": 1,
    }
    assert Features(**features.as_dict()) == features
    assert features.needs == {"image_input", "tools"}


def test_a_request_needs_nothing_unless_told() -> None:
    without = dataclasses.replace(sample(), needs=frozenset())
    assert Features(**{**without.as_dict(), "needs": ()}).needs == frozenset()
    assert without.as_dict()["needs"] == []
