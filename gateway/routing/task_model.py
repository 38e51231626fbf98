"""A small learned model over the task classifier's evidence and the words of the text: its final say.

The hand-written rules find what is certain (a code block, "write a poem", a stack trace) but stop improving
on the long tail: a locking strategy described in words, a coding session that turns to venting, 行程 as an
operating-system process in Taiwan usage. This is a multinomial logistic regression trained by
`scripts/train_task_model.py` on the tuning part of the evaluation set (tests/eval/), never its held-out part.
Its inputs are the rules' capped group scores and the words of the text the rules read: English words and
word pairs, and Chinese character pairs. It ships as `task_model.json`, read once at import; no network, no
native code, a few thousand dictionary lookups' worth of data, ~30 us per request.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Final

from gateway.frozen import frozen
from gateway.routing.task_groups import TASK_CLASSES, TaskClass
from gateway.routing.zh_fold import fold_traditional

Weights = tuple[float, float, float]  # per class, in TASK_CLASSES order

_WORD_RE: Final = re.compile(r"[a-z][a-z0-9_'+#]*")
_CJK_RE: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
MODEL_FILE: Final = "task_model.json"


def text_features(low: str) -> list[str]:
    """The words of a lower-cased text as the model knows them, each once, in text order."""
    words = _WORD_RE.findall(low)
    found = [f"w {word}" for word in words]
    found += [f"b {first} {second}" for first, second in itertools.pairwise(words)]
    if not low.isascii():
        # One script: what was learned from a mainland prompt carries to its Taiwan twin, and back.
        for run in _CJK_RE.findall(fold_traditional(low)):
            found += [f"c {run[index : index + 2]}" for index in range(len(run) - 1)] or [f"c {run}"]
    return list(dict.fromkeys(found))


@frozen
class TaskModel:
    bias: Weights
    # Per unit of each input: the rules' ("g <group>", "t <class>", "r <winner>"), and the words found (1 each).
    weights: Mapping[str, Weights]

    def decide(self, inputs: Mapping[str, float], words: Iterable[str]) -> tuple[TaskClass, dict[str, float]]:
        """The class and the per-class scores. `inputs`: the rules' (see `rule_inputs`); `words`: `text_features`'."""
        # Three running sums rather than a list and a helper per feature: this runs on every request.
        code, creative, general = self.bias
        get = self.weights.get
        for name, value in inputs.items():
            found = get(name)
            if found is not None:
                code += found[0] * value
                creative += found[1] * value
                general += found[2] * value
        for word in words:
            found = get(word)
            if found is not None:
                code += found[0]
                creative += found[1]
                general += found[2]
        totals = (code, creative, general)
        top = max(totals)
        # Ties go to general (the last class), as the rules' do: the default model is the cheap mistake.
        best = max(index for index, total in enumerate(totals) if total == top)
        return TASK_CLASSES[best], dict(zip(TASK_CLASSES, totals, strict=True))

    def telling_words(self, task_class: TaskClass, words: Iterable[str], most: int = 3) -> list[str]:
        """The words that moved `task_class` most against the others, strongest first: for saying why."""
        best = TASK_CLASSES.index(task_class)
        lifts = []
        for word in words:
            found = self.weights.get(word)
            if found is not None:
                lift = found[best] - max(weight for index, weight in enumerate(found) if index != best)
                if lift > 0.5:
                    lifts.append((lift, word))
        lifts.sort(reverse=True)
        return [word.split(" ", 1)[1] for _, word in lifts[:most]]


def rule_inputs(group_scores: Mapping[str, float], class_totals: Mapping[str, float], winner: str) -> dict[str, float]:
    """What the model reads of the rules: each group's capped score, each class's total, and the rules' winner
    (the rules are right most of the time, and the model learns where not)."""
    inputs = {f"g {group}": score for group, score in group_scores.items()}
    inputs.update({f"t {task}": total for task, total in class_totals.items()})
    inputs[f"r {winner}"] = 1.0
    return inputs


def load_task_model(text: str | None = None) -> TaskModel | None:
    """The shipped model, or the one in `text` (JSON); None when none is shipped."""
    if text is None:
        source = resources.files("gateway.routing").joinpath(MODEL_FILE)
        if not source.is_file():
            return None
        text = source.read_text(encoding="utf-8")
    data = json.loads(text)
    bias = _weights(data["bias"])
    return TaskModel(bias, {feature: _weights(value) for feature, value in data["weights"].items()})


def _weights(value: list[float]) -> Weights:
    first, second, third = (float(item) for item in value)
    return first, second, third
