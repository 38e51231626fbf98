"""The evaluation set itself, and the floor it must not fall under (the target, 0.97, is `make eval`'s)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from gateway.routing.policy import Leaf
from tests.eval.routes import shipped_config, shipped_router
from tests.eval.rows import load_rows
from tests.eval.run import Scored, score

ROWS = load_rows()


def test_the_set_is_large_bilingual_and_split() -> None:
    assert len(ROWS) >= 1000
    splits = Counter(row.split for row in ROWS)
    assert 0.18 <= splits["holdout"] / len(ROWS) <= 0.35, splits
    chat = [row for row in ROWS if row.category != "limits"]
    for split in ("tuning", "holdout"):
        part = [row for row in chat if row.split == split]
        assert {row.category for row in part} == {"code", "creative", "general"}
        assert {row.lang for row in part} == {"en", "zh", "mixed"}
        turns = Counter(sum(m["role"] == "user" for m in row.body["messages"]) > 1 for row in part)
        assert turns[True] >= 0.1 * len(part) and turns[False] >= 0.5 * len(part), turns
    sources = Counter(row.source.split(":")[0] for row in ROWS)
    assert all(name.endswith(".jsonl") for name in sources)
    assert len({(row.endpoint, repr(row.body), repr(row.headers)) for row in ROWS}) == len(ROWS), "duplicate rows"


@pytest.fixture(scope="module")
def scored() -> list[Scored]:
    return asyncio.run(score(shipped_router(), ROWS))


def test_every_leaf_of_the_default_policy_and_every_served_model_is_reached(scored: list[Scored]) -> None:
    router = shipped_router()
    assert router.policy is not None
    leaves = {name for name, node in router.policy.nodes.items() if isinstance(node, Leaf)}
    assert leaves - {outcome.leaf for _, outcome, agrees in scored if agrees} == set()
    served = {deployment.model for deployment in shipped_config().deployments}
    assert served - {outcome.model for _, outcome, agrees in scored if agrees} == set()


def test_the_limit_cases_all_hold(scored: list[Scored]) -> None:
    missed = [
        (row.source, outcome.describe()) for row, outcome, agrees in scored if row.category == "limits" and not agrees
    ]
    assert missed == []


def test_held_out_agreement_does_not_fall(scored: list[Scored]) -> None:
    held_out = [agrees for row, _, agrees in scored if row.split == "holdout"]
    assert sum(held_out) / len(held_out) >= 0.88
