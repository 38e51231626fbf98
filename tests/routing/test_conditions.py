"""Conditions: each kind compiled from its YAML shape, evaluated with its reason, every mistake named by path."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.routing.conditions import (
    Combined,
    ConditionError,
    Negated,
    OneOf,
    TokensOver,
    Verdict,
    compile_condition,
)
from tests.support.features import chat_features as features

WHERE = ("nodes", "q", "when")
SERVED = {"gpt-4.1", "gpt-35-turbo"}


def compiled(spec: Any, served: set[str] = SERVED) -> Any:
    return compile_condition(spec, WHERE, served.__contains__)


class Tokens:
    def __init__(self, by_model: dict[str, int]) -> None:
        self.by_model = by_model
        self.asked: list[str] = []

    def prompt_tokens(self, model: str) -> int:
        self.asked.append(model)
        return self.by_model[model]


NO_TOKENS = Tokens({})


# --- compiling ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "condition"),
    [
        ({"task": "chat"}, OneOf("task", ("chat",))),
        ({"task": ["chat", "completion"]}, OneOf("task", ("chat", "completion"))),
        ({"task_class": "code"}, OneOf("task_class", ("code",))),
        ({"latency": ["low", "unspecified"]}, OneOf("latency", ("low", "unspecified"))),
        ({"cost": "normal"}, OneOf("cost", ("normal",))),
        ({"image_input": True}, OneOf("image_input", (True,))),
        ({"stream": [True, False]}, OneOf("stream", (True, False))),
        ({"prompt_tokens": {"over": 4096}}, TokensOver("prompt_tokens", 4096, "gpt-4.1")),
        (
            {"prompt_tokens": {"over": 4096, "tokenizer_of": "gpt-35-turbo"}},
            TokensOver("prompt_tokens", 4096, "gpt-35-turbo"),
        ),
        ({"total_tokens": {"over": 16384}}, TokensOver("total_tokens", 16384, "gpt-4.1")),
        (
            {"any": [{"latency": "low"}, {"cost": "low"}]},
            Combined("any", (OneOf("latency", ("low",)), OneOf("cost", ("low",)))),
        ),
        ({"all": [{"task": "chat"}]}, Combined("all", (OneOf("task", ("chat",)),))),
        ({"not": {"stream": True}}, Negated(OneOf("stream", (True,)))),
        # Several keys in one mapping must all hold.
        ({"task": "chat", "stream": True}, Combined("all", (OneOf("task", ("chat",)), OneOf("stream", (True,))))),
        (
            {"not": {"any": [{"task": "chat"}, {"image_input": True}]}},
            Negated(Combined("any", (OneOf("task", ("chat",)), OneOf("image_input", (True,))))),
        ),
    ],
)
def test_each_kind_compiles(spec: Any, condition: Any) -> None:
    assert compiled(spec) == condition


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        (None, WHERE, "a condition is a mapping such as {task: chat} or {any: [...]}"),
        ([], WHERE, "a condition is a mapping such as {task: chat} or {any: [...]}"),
        ({}, WHERE, "a condition is a mapping such as {task: chat} or {any: [...]}"),
        (
            {"mood": "happy"},
            (*WHERE, "mood"),
            "unknown feature 'mood' (known: task, task_class, latency, cost, image_input, stream, prompt_tokens, "
            "total_tokens, any, all, not)",
        ),
        ({"task_class": "poetry"}, (*WHERE, "task_class"), "'poetry' is not a value of task_class (one of: code, "),
        ({"task": ["chat", "moderation"]}, (*WHERE, "task"), "'moderation' is not a value of task (one of: image_"),
        ({"latency": "LOW"}, (*WHERE, "latency"), "'LOW' is not a value of latency (one of: low, normal, unspecified)"),
        ({"cost": None}, (*WHERE, "cost"), "'None' is not a value of cost"),
        ({"image_input": "yes"}, (*WHERE, "image_input"), "'yes' is not a value of image_input (one of: true, false)"),
        # 1 == True in Python: a number is still not a boolean.
        ({"stream": 1}, (*WHERE, "stream"), "'1' is not a value of stream (one of: true, false)"),
        ({"task_class": True}, (*WHERE, "task_class"), "'True' is not a value of task_class"),
        ({"any": []}, (*WHERE, "any"), "'any' takes a non-empty list of conditions"),
        ({"all": {"task": "chat"}}, (*WHERE, "all"), "'all' takes a non-empty list of conditions"),
        ({"all": [{"task": "chat"}, {}]}, (*WHERE, "all", 1), "a condition is a mapping"),
        ({"any": [{"task": "chat"}, {"mood": "x"}]}, (*WHERE, "any", 1, "mood"), "unknown feature 'mood'"),
        ({"not": []}, (*WHERE, "not"), "a condition is a mapping"),
        ({"not": {"task": "nap"}}, (*WHERE, "not", "task"), "'nap' is not a value of task"),
        ({"prompt_tokens": 4096}, (*WHERE, "prompt_tokens"), "'prompt_tokens' takes {over: <tokens>, tokenizer_of:"),
        ({"prompt_tokens": {}}, (*WHERE, "prompt_tokens"), "'prompt_tokens' takes {over: <tokens>, tokenizer_of:"),
        ({"total_tokens": {"over": "4k"}}, (*WHERE, "total_tokens"), "'total_tokens' takes {over: <tokens>"),
        ({"total_tokens": {"over": 1.5}}, (*WHERE, "total_tokens"), "'total_tokens' takes {over: <tokens>"),
        ({"total_tokens": {"over": True}}, (*WHERE, "total_tokens"), "'total_tokens' takes {over: <tokens>"),
        (
            {"prompt_tokens": {"over": 10, "under": 5, "below": 1}},
            (*WHERE, "prompt_tokens"),
            "unknown key(s) below, under in prompt_tokens",
        ),
        (
            {"prompt_tokens": {"over": 10, "tokenizer_of": "gpt-9"}},
            (*WHERE, "prompt_tokens", "tokenizer_of"),
            "tokenizer_of names 'gpt-9', which no deployment serves",
        ),
        (
            {"total_tokens": {"over": 10, "tokenizer_of": 4}},
            (*WHERE, "total_tokens", "tokenizer_of"),
            "tokenizer_of names '4', which no deployment serves",
        ),
    ],
)
def test_mistakes_are_named_with_their_path(spec: Any, path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compiled(spec)
    assert caught.value.path == path
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


# --- evaluating -----------------------------------------------------------------------------------------------


def test_one_of_holds_for_a_listed_value_and_says_where_the_value_came_from() -> None:
    condition = compiled({"task": ["chat", "completion"]})
    assert condition.evaluate(features(), NO_TOKENS) == Verdict(True, "task is chat (endpoint chat/completions)")
    speech = features(task="text_to_speech", operation="audio/speech")
    assert condition.evaluate(speech, NO_TOKENS) == Verdict(False, "task is text_to_speech (endpoint audio/speech)")


@pytest.mark.parametrize(
    ("spec", "changes", "verdict"),
    [
        ({"latency": "low"}, {"latency": "low"}, Verdict(True, "latency is low (X-Route-Latency header)")),
        ({"latency": "low"}, {}, Verdict(False, "latency is unspecified (no hint header)")),
        ({"cost": "low"}, {"cost": "normal"}, Verdict(False, "cost is normal (X-Route-Cost header)")),
        (
            {"task_class": "code"},
            {"task_class": "code", "task_class_reason": "a traceback"},
            Verdict(True, "task_class is code (classifier: a traceback)"),
        ),
        (
            {"task_class": "code"},
            {"task_class": "code", "task_class_source": "X-Route-Task header", "task_class_reason": "ignored"},
            Verdict(True, "task_class is code (X-Route-Task header)"),
        ),
        ({"task_class": "code"}, {"task_class_reason": ""}, Verdict(False, "task_class is general (classifier)")),
        ({"image_input": True}, {"image_input": True}, Verdict(True, "image_input is true")),
        ({"stream": True}, {}, Verdict(False, "stream is false")),
    ],
)
def test_one_of_reasons(spec: Any, changes: dict[str, Any], verdict: Verdict) -> None:
    assert compiled(spec).evaluate(features(**changes), NO_TOKENS) == verdict


def test_tokens_over_counts_with_the_named_tokenizer() -> None:
    tokens = Tokens({"gpt-35-turbo": 5_000, "gpt-4.1": 3_000})
    condition = compiled({"prompt_tokens": {"over": 4096, "tokenizer_of": "gpt-35-turbo"}})
    assert condition.evaluate(features(output_tokens=999), tokens) == Verdict(True, "prompt_tokens 5,000 > 4,096")
    assert tokens.asked == ["gpt-35-turbo"]
    default = compiled({"prompt_tokens": {"over": 4096}})
    assert default.evaluate(features(), tokens) == Verdict(False, "prompt_tokens 3,000 <= 4,096")
    assert tokens.asked == ["gpt-35-turbo", "gpt-4.1"]


def test_total_tokens_adds_the_requested_output() -> None:
    condition = compiled({"total_tokens": {"over": 4096}})
    tokens = Tokens({"gpt-4.1": 4_000})
    assert condition.evaluate(features(output_tokens=96), tokens) == Verdict(False, "total_tokens 4,096 <= 4,096")
    assert condition.evaluate(features(output_tokens=97), tokens) == Verdict(True, "total_tokens 4,097 > 4,096")
    assert condition.evaluate(features(output_tokens=None), tokens).holds is False


def test_any_all_and_not() -> None:
    low_latency = features(latency="low")
    either = compiled({"any": [{"latency": "low"}, {"cost": "low"}]})
    both = compiled({"all": [{"latency": "low"}, {"cost": "low"}]})
    assert either.evaluate(low_latency, NO_TOKENS) == Verdict(
        True, "latency is low (X-Route-Latency header); cost is unspecified (no hint header)"
    )
    assert both.evaluate(low_latency, NO_TOKENS).holds is False
    assert both.evaluate(features(latency="low", cost="low"), NO_TOKENS).holds is True
    assert either.evaluate(features(), NO_TOKENS).holds is False
    negated = compiled({"not": {"latency": "low"}})
    assert negated.evaluate(low_latency, NO_TOKENS) == Verdict(False, "latency is low (X-Route-Latency header)")
    assert negated.evaluate(features(), NO_TOKENS).holds is True


def test_several_keys_must_all_hold() -> None:
    condition = compiled({"task": "chat", "stream": True})
    assert condition.evaluate(features(stream=True), NO_TOKENS).holds is True
    assert condition.evaluate(features(stream=False), NO_TOKENS).holds is False
