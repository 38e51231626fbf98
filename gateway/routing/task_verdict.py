"""Reaching the task classifier's verdict: weighing the collected evidence and saying why.

Each group's cues are summed and capped (`task_groups`), the groups' scores are summed per class, and the
highest class wins, with general as the fallback. The reason names the strongest groups of the winner and
the text that matched them, so a routing decision can be read back from the logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from gateway.routing.task_evidence import Evidence
from gateway.routing.task_groups import GENERAL_PRIOR, GROUPS, QUOTED_GROUPS, TASK_CLASSES, TaskClass


@dataclass(frozen=True, slots=True)
class TaskVerdict:
    task_class: TaskClass
    reason: str  # short human-readable why, strongest signals first
    scores: Mapping[str, float]  # {"code": x, "creative": y, "general": z}
    groups: frozenset[str] = frozenset()  # the evidence groups found (the rules' verdicts only)


# A winner this far ahead of the runner-up decided on its own evidence (one strong cue is 3-4 points).
DECISIVE_LEAD: Final = 2.0


def lead(verdict: TaskVerdict) -> float:
    """How far the verdict's winner is ahead of the runner-up."""
    first, second = sorted(verdict.scores.values(), reverse=True)[:2]
    return first - second


def decisive(verdict: TaskVerdict) -> bool:
    """Whether the verdict's winner leads the runner-up clearly."""
    return lead(verdict) >= DECISIVE_LEAD


def class_scores(evidence: Evidence, prior: float) -> tuple[dict[TaskClass, float], list[tuple[float, str]]]:
    """Per-class totals, and each group's capped score for the reason."""
    totals: dict[TaskClass, float] = {"code": 0.0, "creative": 0.0, "general": prior}
    ranked = []
    for group, examples in evidence.items():
        task, cap, _ = GROUPS[group]
        score = min(cap, sum(examples.values()))
        totals[task] += score
        ranked.append((score, group))
    return totals, ranked


def group_scores(evidence: Evidence) -> dict[str, float]:
    """Each group's capped score."""
    return {group: min(GROUPS[group].cap, sum(examples.values())) for group, examples in evidence.items()}


def reach_verdict(evidence: Evidence) -> TaskVerdict:
    totals, ranked = class_scores(evidence, GENERAL_PRIOR)
    # Decided on the rounded scores, so that a tie the caller can see in `scores` is a tie here too.
    scores: dict[str, float] = {task: round(totals[task], 2) for task in TASK_CLASSES}
    best = max(scores.values())
    leaders = [task for task in TASK_CLASSES if scores[task] == best]
    # Ties go to general: routing a doubtful request to the default model is the cheap mistake.
    winner: TaskClass = leaders[0] if len(leaders) == 1 else "general"
    return TaskVerdict(winner, _reason(winner, evidence, ranked), MappingProxyType(scores), frozenset(evidence))


def _reason(winner: TaskClass, evidence: Evidence, ranked: list[tuple[float, str]]) -> str:
    mine = [(-score, group) for score, group in ranked if GROUPS[group].task == winner]
    if not mine:
        return "no strong signal (default)"
    mine.sort()  # strongest first; equal scores in group-name order, so the text is stable
    parts = []
    for _, group in mine[:3]:
        examples = evidence[group]
        label = GROUPS[group].label
        if group == "code_lines":
            parts.append(next(iter(examples)))
        elif group not in QUOTED_GROUPS:
            parts.append(label)
        else:
            strongest = sorted(examples, key=examples.__getitem__, reverse=True)[:3]  # stable: ties keep text order
            shown = ", ".join(_snippet(example) for example in strongest)
            parts.append(f"{len(examples)} {label} ({shown})" if len(examples) > 1 else f"{label} ({shown})")
    return "; ".join(parts)


def _snippet(text: str, limit: int = 32) -> str:
    if len(text) <= limit and "\n" not in text and "  " not in text:
        return text
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
