from __future__ import annotations

import pytest

from gateway.routing import task_classifier
from gateway.routing.task_classifier import classify_task
from gateway.routing.task_vocabulary import vocabulary
from gateway.routing.task_word_matchers import ASCII_CUES, BROAD_ASCII_CUES, BROAD_CJK_CUES, CJK_CUES


@pytest.mark.parametrize("language", ["en", "zh"])
def test_each_language_has_its_lists_of_clean_phrases(language: str) -> None:
    entries = vocabulary(language)
    assert {group for group, _, _ in entries} == {"terms", "maths_terms", "creative_words"}
    for _, weight, phrases in entries:
        listed = phrases.split(", ")
        assert weight == 1.0
        assert len(listed) >= 200
        assert all(phrase and phrase == phrase.strip().lower() for phrase in listed)


def test_a_phrase_of_the_hand_lists_keeps_its_hand_weight() -> None:
    assert not set(BROAD_ASCII_CUES) & set(ASCII_CUES)
    assert not set(BROAD_CJK_CUES) & set(CJK_CUES)
    assert "python" in ASCII_CUES  # hand-listed, and in the broad English list too


@pytest.mark.parametrize(
    ("prompt", "found"),
    [
        ("what does a vector clock buy over a lamport timestamp?", "technical terms (vector clock)"),
        ("信号量和上下文切换之间有什么关系？", "2 technical terms (上下文切换, 信号量)"),
    ],
)
def test_a_question_in_words_only_the_broad_lists_hold_reads_as_technical(
    monkeypatch: pytest.MonkeyPatch, prompt: str, found: str
) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    verdict = classify_task(prompt)
    assert verdict.task_class == "code"
    assert found in verdict.reason


def test_a_broad_phrase_overlapping_a_hand_phrase_does_not_take_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    verdict = classify_task("Write a short story about a programmer who discovers her code has feelings")
    assert verdict.task_class == "creative"
