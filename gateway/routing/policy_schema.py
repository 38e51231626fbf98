"""The shape of a routing policy file (routes/*.yaml). Conditions are checked by conditions.py."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from gateway.settings.strict import Strict


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


class FallbackSpec(Strict):
    """Models to try, in order, when a model cannot answer; by model name."""

    # Every deployment of the model failed or is throttled (429, 5xx, timeouts, unreachable).
    on_failure: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Azure said the prompt does not fit (400 context_length_exceeded). A model not named here moves
    # along its `escalation` chain.
    on_context_length: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Azure's content filter blocked the request (400 content_filter). Usually left empty: another
    # model would be asked the same thing, and the client should see Azure's verdict unchanged.
    on_content_filter: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class PolicySpec(Strict):
    start: str
    aliases: dict[str, Target] = Field(default_factory=dict)
    nodes: dict[str, Node]
    # Chains of ever larger windows: a model the client names that is too small moves along its chain.
    escalation: tuple[tuple[str, ...], ...] = ()
    fallbacks: FallbackSpec = FallbackSpec()


LeafSpec.model_rebuild()
QuestionSpec.model_rebuild()
