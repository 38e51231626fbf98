"""Weighing the evidence: capped groups, the general prior, ties, and the reason text."""

from __future__ import annotations

import pytest

from gateway.routing.task_evidence import Evidence
from gateway.routing.task_groups import GENERAL_PRIOR, GROUPS
from gateway.routing.task_verdict import class_scores, reach_verdict


def test_no_evidence_is_general_by_the_prior() -> None:
    verdict = reach_verdict({})
    assert verdict.task_class == "general"
    assert verdict.reason == "no strong signal (default)"
    assert dict(verdict.scores) == {"code": 0.0, "creative": 0.0, "general": GENERAL_PRIOR}


def test_one_weak_cue_does_not_outweigh_the_prior() -> None:
    assert reach_verdict({"tech": {"server": 0.75}}).task_class == "general"


def test_each_group_is_capped() -> None:
    many_words = {f"word{i}": 1.5 for i in range(10)}
    totals, ranked = class_scores({"tech": many_words, "form": {"poem": 1.5}}, 0.0)
    assert totals == {"code": GROUPS["tech"].cap, "creative": 1.5, "general": 0.0}
    assert sorted(ranked) == [(1.5, "form"), (GROUPS["tech"].cap, "tech")]


def test_ties_on_the_rounded_scores_go_to_general() -> None:
    verdict = reach_verdict({"tech": {"regex": 1.5}, "form": {"poem": 1.5}})
    assert verdict.scores["code"] == verdict.scores["creative"] > verdict.scores["general"]
    assert verdict.task_class == "general"


def test_the_reason_names_the_winners_strongest_groups_first() -> None:
    evidence: Evidence = {
        "tech": {"python": 1.5, "docker": 1.5, "api": 1.5, "yaml": 1.5},
        "stack_trace": {"stack trace": 4.0},
        "code_lines": {"3 code-like lines": 2.4},
        "path": {"/etc/hosts": 1.0},
        "form": {"poem": 1.5},
    }
    verdict = reach_verdict(evidence)
    assert verdict.task_class == "code"
    # At most three groups; a group quoted with its count and strongest examples, or described by its label.
    assert verdict.reason == "4 programming terms (python, docker, api); stack trace; 3 code-like lines"


def test_long_or_multiline_examples_are_shortened_in_the_reason() -> None:
    verdict = reach_verdict({"error": {"Traceback\n   of a very long and winding error message": 3.0}})
    assert verdict.reason == "error message (Traceback of a very long and wi…)"


def test_the_scores_cannot_be_changed() -> None:
    verdict = reach_verdict({})
    with pytest.raises(TypeError):
        verdict.scores["code"] = 1.0  # type: ignore[index]
