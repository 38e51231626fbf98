"""Azure content-filter annotations and the trigger word (filters.py)."""

from __future__ import annotations

from gateway.simulator.filters import (
    TRIGGER,
    TRIGGER_BYTES,
    blocked_prompt_result,
    completion_filter_results,
    prompt_filter_results,
)

SAFE = {"filtered": False, "severity": "safe"}
CATEGORIES = {"hate", "self_harm", "sexual", "violence"}


def test_the_trigger_is_one_unmistakable_word() -> None:
    assert TRIGGER == "forbidden-content"
    assert TRIGGER.encode() == TRIGGER_BYTES


def test_prompt_results_are_indexed_and_safe() -> None:
    results = prompt_filter_results(3)
    assert [r["prompt_index"] for r in results] == [0, 1, 2]
    for result in results:
        annotations = result["content_filter_results"]
        assert set(annotations) == CATEGORIES | {"jailbreak"}
        assert all(annotations[name] == SAFE for name in CATEGORIES)
        assert annotations["jailbreak"] == {"filtered": False, "detected": False}
    assert len(prompt_filter_results()) == 1
    assert prompt_filter_results(0) == []


def test_completion_results_add_protected_material() -> None:
    annotations = completion_filter_results()
    assert set(annotations) == CATEGORIES | {"protected_material_code", "protected_material_text"}
    assert annotations["violence"] == SAFE
    assert annotations["protected_material_text"] == {"filtered": False, "detected": False}


def test_a_blocked_prompt_is_filtered_for_hate_only() -> None:
    annotations = blocked_prompt_result()
    assert annotations["hate"] == {"filtered": True, "severity": "high"}
    assert [name for name, value in annotations.items() if value["filtered"]] == ["hate"]


def test_each_call_builds_new_annotations() -> None:
    first = prompt_filter_results()
    first[0]["content_filter_results"]["hate"]["filtered"] = True
    blocked = blocked_prompt_result()
    blocked["sexual"]["severity"] = "high"
    assert prompt_filter_results()[0]["content_filter_results"]["hate"] == SAFE
    assert completion_filter_results()["sexual"] == SAFE
