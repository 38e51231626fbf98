"""Train the task classifier's learned model (gateway/routing/task_model.json) on the evaluation set's tuning part.

    python -m scripts.train_task_model            write the model
    python -m scripts.train_task_model --folds 5  cross-validate on the tuning part instead (nothing written)

Multinomial logistic regression, by AdaGrad with L2, in plain Python: ~1,000 rows and a few hundred features
each train in seconds, and no numerical library is needed at run time or here. The held-out part is never
read. Deterministic: the same rows give the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.routing.conversation_text import chat_conversation
from gateway.routing.task_classifier import read_evidence
from gateway.routing.task_groups import TASK_CLASSES
from gateway.routing.task_model import MODEL_FILE, rule_inputs, text_features
from gateway.routing.task_turns import deciding_text
from gateway.routing.task_verdict import group_scores, reach_verdict
from tests.bench.targets import REPO_ROOT
from tests.eval.rows import EvalRow, load_rows

OUTPUT = REPO_ROOT / "gateway" / "routing" / MODEL_FILE
EPOCHS, RATE, L2, MIN_COUNT = 30, 0.3, 1e-4, 2


@dataclass(frozen=True)
class Example:
    features: dict[str, float]  # the rules' inputs (task_model.rule_inputs), and each word found: 1.0
    label: int
    rules: int  # the rules' own class, for comparison
    row: EvalRow


def training_rows(rows: Sequence[EvalRow]) -> list[EvalRow]:
    """The tuning part's labelled chat rows: the held-out part is what the model is measured on, never trained on."""
    return [row for row in rows if row.split == "tuning" and row.category in TASK_CLASSES]


def examples(rows: Sequence[EvalRow]) -> list[Example]:
    found = []
    for row in rows:
        body = row.body
        has_tools, structured = bool(body.get("tools")), "response_format" in body
        conversation = chat_conversation(body)
        text, _ = deciding_text(conversation, has_tools=has_tools, structured_output=structured)
        evidence, low = read_evidence(
            text, system=conversation.system, has_tools=has_tools, structured_output=structured
        )
        rules = reach_verdict(evidence)
        features = rule_inputs(group_scores(evidence), rules.scores, rules.task_class)
        features.update(dict.fromkeys(text_features(low), 1.0))
        found.append(Example(features, TASK_CLASSES.index(row.category), TASK_CLASSES.index(rules.task_class), row))
    return found


def train(train_set: Sequence[Example]) -> tuple[list[float], dict[str, list[float]]]:
    counts = Counter(feature for example in train_set for feature in example.features)
    kept = {feature for feature, count in counts.items() if count >= MIN_COUNT or feature[:2] in ("g ", "t ", "r ")}
    weights: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    squares: dict[str, list[float]] = defaultdict(lambda: [1e-8, 1e-8, 1e-8])
    bias, bias_squares = [0.0, 0.0, 0.0], [1e-8, 1e-8, 1e-8]
    order = list(range(len(train_set)))
    shuffle = random.Random(18)
    for _ in range(EPOCHS):
        shuffle.shuffle(order)
        for index in order:
            example = train_set[index]
            active = [(feature, value) for feature, value in example.features.items() if feature in kept]
            probabilities = _softmax(_scores(bias, weights, active))
            for task in range(3):
                gradient = probabilities[task] - (1.0 if task == example.label else 0.0)
                bias_squares[task] += gradient * gradient
                bias[task] -= RATE * gradient / math.sqrt(bias_squares[task])
                for feature, value in active:
                    step = gradient * value + L2 * weights[feature][task]
                    squares[feature][task] += step * step
                    weights[feature][task] -= RATE * step / math.sqrt(squares[feature][task])
    return bias, dict(weights)


def predict(bias: list[float], weights: dict[str, list[float]], example: Example) -> int:
    scores = _scores(bias, weights, list(example.features.items()))
    return max(range(3), key=scores.__getitem__)


def _scores(bias: list[float], weights: dict[str, list[float]], active: list[tuple[str, float]]) -> list[float]:
    totals = list(bias)
    for feature, value in active:
        found = weights.get(feature)
        if found is not None:
            for task in range(3):
                totals[task] += found[task] * value
    return totals


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def model_text(bias: list[float], weights: dict[str, list[float]]) -> str:
    """The model file: weights rounded to what matters, near-zero ones left out, one feature per line (diffable)."""
    rounded = {feature: [round(value, 3) for value in values] for feature, values in sorted(weights.items())}
    kept = {feature: values for feature, values in rounded.items() if max(map(abs, values)) >= 0.01}
    lines = [f"  {json.dumps(feature, ensure_ascii=False)}: {json.dumps(values)}" for feature, values in kept.items()]
    return (
        f'{{"bias": {json.dumps([round(value, 3) for value in bias])},\n"weights": {{\n' + ",\n".join(lines) + "\n}}\n"
    )


def cross_validate(rows: list[Example], folds: int) -> None:
    by_source: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for fold in range(folds):
        test = [example for index, example in enumerate(rows) if index % folds == fold]
        bias, weights = train([example for index, example in enumerate(rows) if index % folds != fold])
        for example in test:
            group = example.row.source.split(":")[0]
            by_source[group].append((predict(bias, weights, example) == example.label, example.rules == example.label))
    print(f"{'file':<34} {'rows':>5} {'model':>7} {'rules':>7}")
    for group, results in sorted(by_source.items()):
        model = sum(hit for hit, _ in results) / len(results)
        rules = sum(hit for _, hit in results) / len(results)
        print(f"{group:<34} {len(results):>5} {model:>7.3f} {rules:>7.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=0, help="cross-validate with this many folds, write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write the model (default {OUTPUT})")
    args = parser.parse_args(argv)
    found = examples(training_rows(load_rows()))
    if args.folds:
        cross_validate(found, args.folds)
        return
    bias, weights = train(found)
    args.output.write_text(model_text(bias, weights), encoding="utf-8")
    hits = sum(predict(bias, weights, example) == example.label for example in found)
    print(f"{len(found)} tuning rows, {len(weights)} features; agreement on them {hits / len(found):.3f}")


if __name__ == "__main__":
    main()
