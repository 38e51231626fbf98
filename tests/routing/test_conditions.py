"""Conditions: each kind compiled from its YAML shape, evaluated with its reason, every mistake named by path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway.pricing.cost import PriceList
from gateway.routing.conditions import (
    Combined,
    ConditionError,
    CostOver,
    Negated,
    OneOf,
    Pricing,
    TokensOver,
    Verdict,
    compile_condition,
)
from gateway.routing.model_facts import ModelCatalog
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
            "total_tokens, estimated_usd, most_usd, any, all, not)",
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


# --- cost ---------------------------------------------------------------------------------------------------
# gpt-4.1 costs $2 per million input tokens and $8 per million output tokens (the model table's prices):
# 25,000 prompt tokens are $0.05.

PRICING = Pricing(PriceList(ModelCatalog()), default_max_tokens=1024)
# gpt-4.5-preview and whisper are served, but the model table has no token prices for them.
PRICED_AND_NOT = {"gpt-4.1", "gpt-4.1-mini", "gpt-4.5-preview", "whisper"}


def priced(spec: Any, served: set[str] = PRICED_AND_NOT) -> Any:
    return compile_condition(spec, WHERE, served.__contains__, PRICING)


@pytest.mark.parametrize(
    ("spec", "condition"),
    [
        ({"estimated_usd": {"on": "gpt-4.1", "over": 0.05}}, CostOver("estimated_usd", 0.05, "gpt-4.1", PRICING)),
        ({"most_usd": {"on": "gpt-4.1-mini", "over": 1}}, CostOver("most_usd", 1.0, "gpt-4.1-mini", PRICING)),
        (
            {"cost": "low", "estimated_usd": {"on": "gpt-4.1", "over": 0}},
            Combined("all", (OneOf("cost", ("low",)), CostOver("estimated_usd", 0.0, "gpt-4.1", PRICING))),
        ),
        (
            {"not": {"any": [{"most_usd": {"over": 0.5, "on": "gpt-4.1"}}]}},
            Negated(Combined("any", (CostOver("most_usd", 0.5, "gpt-4.1", PRICING),))),
        ),
    ],
)
def test_cost_conditions_compile(spec: Any, condition: Any) -> None:
    assert priced(spec) == condition


ON = (*WHERE, "estimated_usd", "on")
OVER = (*WHERE, "estimated_usd", "over")


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ({"estimated_usd": 0.05}, (*WHERE, "estimated_usd"), "'estimated_usd' takes {on: <model>, over: <USD>}"),
        ({"most_usd": {"over": 0.05}}, (*WHERE, "most_usd"), "'most_usd' takes {on: <model>, over: <USD>}"),
        ({"estimated_usd": {"on": "gpt-4.1"}}, (*WHERE, "estimated_usd"), "'estimated_usd' takes {on: <model>, "),
        ({"estimated_usd": {"on": "gpt-4.1", "over": "5c"}}, (*WHERE, "estimated_usd"), "'estimated_usd' takes {"),
        ({"estimated_usd": {"on": "gpt-4.1", "over": True}}, (*WHERE, "estimated_usd"), "'estimated_usd' takes {"),
        ({"estimated_usd": {"on": "gpt-4.1", "over": -0.01}}, OVER, "over is -0.01: a price in USD is a finite number"),
        ({"estimated_usd": {"on": "gpt-4.1", "over": float("inf")}}, OVER, "over is inf: a price in USD is a finite"),
        ({"estimated_usd": {"on": "gpt-4.1", "over": float("nan")}}, OVER, "over is nan: a price in USD is a finite"),
        (
            {"estimated_usd": {"on": "gpt-4.1", "over": 1, "tokenizer_of": "gpt-4.1"}},
            (*WHERE, "estimated_usd"),
            "unknown key(s) tokenizer_of in estimated_usd",
        ),
        ({"estimated_usd": {"on": "gpt-9", "over": 1}}, ON, "on names 'gpt-9', which no deployment serves"),
        ({"estimated_usd": {"on": ["gpt-4.1"], "over": 1}}, ON, "on names '['gpt-4.1']', which no deployment serves"),
        # Served, but never priceable: the question could only ever answer no.
        (
            {"estimated_usd": {"on": "gpt-4.5-preview", "over": 1}},
            ON,
            "on names 'gpt-4.5-preview', which has no token prices in the model table",
        ),
        (
            {"any": [{"task": "chat"}, {"most_usd": {"on": "whisper", "over": 1}}]},
            (*WHERE, "any", 1, "most_usd", "on"),
            "on names 'whisper', which has no token prices in the model table",
        ),
    ],
)
def test_cost_mistakes_are_named_with_their_path(spec: Any, path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        priced(spec)
    assert caught.value.path == path
    assert str(caught.value).startswith(message)


def test_a_cost_condition_without_prices_is_refused() -> None:
    with pytest.raises(ConditionError) as caught:
        compiled({"estimated_usd": {"on": "gpt-4.1", "over": 0.05}})
    assert caught.value.path == (*WHERE, "estimated_usd")
    assert str(caught.value) == "'estimated_usd' needs the model table's prices, which this policy is loaded without"


def test_estimated_usd_prices_the_prompt_on_the_named_model_just_under_and_just_over() -> None:
    condition = priced({"estimated_usd": {"on": "gpt-4.1", "over": 0.05}})
    at = Tokens({"gpt-4.1": 25_000})
    assert condition.evaluate(features(output_tokens=100), at) == Verdict(
        False,
        "estimated_usd on gpt-4.1 $0.05 <= $0.05 (25,000 prompt tokens: $0.05; with up to 100 output tokens: $0.0508)",
    )
    assert at.asked == ["gpt-4.1"]  # counted with the named model's tokenizer
    over = Tokens({"gpt-4.1": 25_001})
    assert condition.evaluate(features(output_tokens=100), over) == Verdict(
        True,
        "estimated_usd on gpt-4.1 $0.050002 > $0.05 "
        "(25,001 prompt tokens: $0.050002; with up to 100 output tokens: $0.050802)",
    )


def test_most_usd_adds_the_most_output_the_request_allows() -> None:
    # 5,000 prompt tokens are $0.01; 5,000 output tokens $0.04 more.
    tokens = Tokens({"gpt-4.1": 5_000})
    most = priced({"most_usd": {"on": "gpt-4.1", "over": 0.05}})
    prompt_only = priced({"estimated_usd": {"on": "gpt-4.1", "over": 0.05}})
    assert most.evaluate(features(output_tokens=5_000), tokens).holds is False
    just_over = features(output_tokens=5_001)
    assert most.evaluate(just_over, tokens) == Verdict(
        True,
        "most_usd on gpt-4.1 $0.050008 > $0.05 (5,000 prompt tokens: $0.01; with up to 5,001 output tokens: $0.050008)",
    )
    assert prompt_only.evaluate(just_over, tokens).holds is False  # the same request, its prompt alone


def test_most_usd_counts_the_output_of_every_choice() -> None:
    # n=2: two answers of up to 2,500 tokens each are billed as 5,000 output tokens.
    tokens = Tokens({"gpt-4.1": 5_000})
    most = priced({"most_usd": {"on": "gpt-4.1", "over": 0.05}})
    two_choices = dataclasses.replace(features(output_tokens=2_501), output_choices=2)
    assert most.evaluate(two_choices, tokens).holds is True
    assert most.evaluate(dataclasses.replace(two_choices, output_choices=1), tokens).holds is False


def test_most_usd_assumes_the_default_output_when_the_request_sets_no_limit() -> None:
    tokens = Tokens({"gpt-4.1": 1_000})
    condition = priced({"most_usd": {"on": "gpt-4.1", "over": 0.01}})
    # $0.002 for the prompt, and 1,024 output tokens (the configured default) $0.008192 more.
    assert condition.evaluate(features(output_tokens=None), tokens) == Verdict(
        True,
        "most_usd on gpt-4.1 $0.010192 > $0.01 "
        "(1,000 prompt tokens: $0.002; with up to 1,024 output tokens, the default: $0.010192)",
    )
    # A task that writes no text (embeddings) is assumed to produce none.
    embeddings = features(task="embeddings", operation="embeddings", output_tokens=None)
    assert condition.evaluate(embeddings, tokens) == Verdict(
        False, "most_usd on gpt-4.1 $0.002 <= $0.01 (1,000 prompt tokens: $0.002; with up to 0 output tokens: $0.002)"
    )


def test_low_cost_asked_and_a_costly_prompt() -> None:
    """The issue's example: a prompt over $0.05 on gpt-4.1, from a client asking for low cost."""
    condition = priced({"cost": "low", "estimated_usd": {"on": "gpt-4.1", "over": 0.05}})
    costly = Tokens({"gpt-4.1": 30_000})
    assert condition.evaluate(features(cost="low"), costly).holds is True
    assert condition.evaluate(features(cost="normal"), costly).holds is False
    assert condition.evaluate(features(cost="low"), Tokens({"gpt-4.1": 20_000})).holds is False
