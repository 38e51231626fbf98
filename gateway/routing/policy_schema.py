"""The shape of a routing policy file (routes/*.yaml). Conditions are checked by conditions.py."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from gateway.settings.schema import Strict


class LeafSpec(Strict):
    """Candidate models in order: the first that can serve the request and fits its tokens wins."""

    models: Annotated[tuple[str, ...], Field(min_length=1)]
    # Where to go when no listed model can serve it (too small a window, no image input, wrong task).
    otherwise: Target | None = None


class QuestionSpec(Strict):
    ask: str
    when: dict[str, Any]
    yes: Target | None = None
    no: Target | None = None
    # For an answer without its own branch (the seed's tree leaves some out).
    default: Target | None = None


def _node_kind(value: Any) -> str:
    return "leaf" if isinstance(value, dict) and "models" in value else "question"


# A target is the name of a node, or a leaf written in place.
Target = str | LeafSpec
Node = Annotated[
    Annotated[LeafSpec, Tag("leaf")] | Annotated[QuestionSpec, Tag("question")],
    Discriminator(_node_kind),
]


class PolicySpec(Strict):
    start: str
    aliases: dict[str, Target] = Field(default_factory=dict)
    nodes: dict[str, Node]
    # Chains of ever larger windows: a model the client names that is too small moves along its chain.
    escalation: tuple[tuple[str, ...], ...] = ()


LeafSpec.model_rebuild()
QuestionSpec.model_rebuild()
