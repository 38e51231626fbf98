from __future__ import annotations

import json

import pytest

from gateway.routing import task_classifier
from gateway.routing.task_classifier import classify_task
from gateway.routing.task_model import load_task_model, rule_inputs, text_features


def test_words_pairs_and_chinese_character_pairs_each_once_in_text_order() -> None:
    assert text_features("fix the bug, fix the bug") == [
        "w fix",
        "w the",
        "w bug",
        "b fix the",
        "b the bug",
        "b bug fix",
    ]
    assert text_features("写一首诗 about 秋") == ["w about", "c 写一", "c 一首", "c 首诗", "c 秋"]


def model_text(weights: dict[str, list[float]], bias: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> str:
    return json.dumps({"bias": list(bias), "weights": weights})


def test_the_model_adds_its_bias_input_values_and_word_weights() -> None:
    model = load_task_model(model_text({"g sql": [1.0, 0.0, 0.0], "w join": [0.5, 0.0, 0.0], "w poem": [0, 3, 0]}))
    assert model is not None
    words = text_features("why is this join slow")
    task_class, totals = model.decide({"g sql": 3.0, "g unknown": 9.0}, words)
    assert (task_class, totals) == ("code", {"code": 3.5, "creative": 0.0, "general": 1.0})
    assert model.telling_words("code", words) == []  # join's 0.5 lifts code by no more than 0.5: sql decided
    words = text_features("a poem please")
    assert model.decide({}, words)[0] == "creative"
    assert model.telling_words("creative", words) == ["poem"]


def test_the_model_reads_the_rules_groups_totals_and_winner() -> None:
    assert rule_inputs({"sql": 3.0}, {"code": 3.0, "creative": 0.0, "general": 0.8}, "code") == {
        "g sql": 3.0,
        "t code": 3.0,
        "t creative": 0.0,
        "t general": 0.8,
        "r code": 1.0,
    }


def test_ties_go_to_general() -> None:
    model = load_task_model(model_text({"w x": [1.0, 1.0, 0.0]}, bias=(0.0, 0.0, 1.0)))
    assert model is not None
    assert model.decide({}, ["w x"])[0] == "general"


def test_no_shipped_file_means_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.routing.task_model.MODEL_FILE", "no_such_model.json")
    assert load_task_model() is None


def test_the_shipped_model_loads_with_weights_for_the_rule_groups() -> None:
    model = load_task_model()
    assert model is not None
    assert {"t code", "t creative", "t general", "r code", "r creative", "r general"} <= set(model.weights)
    assert sum(feature.startswith("g ") for feature in model.weights) >= 20


def test_the_classifier_says_when_the_model_overrules_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_task_model(model_text({"w limerick": [9.0, 0.0, 0.0]}, bias=(0.0, 0.0, 0.0)))
    monkeypatch.setattr(task_classifier, "TASK_MODEL", model)
    verdict = classify_task("a limerick")  # the rules lean creative, but not decisively
    assert verdict.task_class == "code"
    assert verdict.reason == "learned model, from words limerick (the rules read creative: creative forms (limerick))"
    # Where the rules decide clearly, the model is not asked.
    assert classify_task("write a limerick about my cat").task_class == "creative"


def test_when_the_model_agrees_the_rules_say_why_and_the_model_gives_the_scores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    rules = classify_task("the poem")
    monkeypatch.setattr(task_classifier, "TASK_MODEL", load_task_model(model_text({"w poem": [0, 5, 0]}, (0, 0, 0))))
    verdict = classify_task("the poem")
    assert (verdict.task_class, verdict.reason) == ("creative", rules.reason)
    assert dict(verdict.scores) == {"code": 0.0, "creative": 5.0, "general": 0.0}


def test_without_a_model_the_rules_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    verdict = classify_task("write a limerick about my cat")
    assert verdict.task_class == "creative"
    assert not verdict.reason.startswith("learned")
