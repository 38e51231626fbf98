"""Conditions a question tests (`when:`), compiled once from YAML and evaluated against a request's features.

{task: [chat, completion]}                   the feature is one of these values
{image_input: true}
{prompt_tokens: {over: 4096, tokenizer_of: gpt-35-turbo}}   counted with that model's tokenizer
{total_tokens: {over: 16384}}                prompt plus requested output
{estimated_usd: {on: gpt-4.1, over: 0.05}}   the prompt's price on that model, in USD
{most_usd: {on: gpt-4.1, over: 0.05}}        the prompt plus the most output the request allows
{any: [...]}, {all: [...]}, {not: {...}}     several keys in one mapping must all hold
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any, Protocol

from gateway.pricing.cost import PriceList
from gateway.routing.features import TASK_FAMILIES, Features

CHOICES: dict[str, tuple[Any, ...]] = {
    "task": TASK_FAMILIES,
    "task_class": ("code", "creative", "general"),
    "latency": ("low", "normal", "unspecified"),
    "cost": ("low", "normal", "unspecified"),
    "image_input": (True, False),
    "stream": (True, False),
}
TOKEN_FEATURES = ("prompt_tokens", "total_tokens")
COST_FEATURES = ("estimated_usd", "most_usd")
DEFAULT_TOKENIZER_MODEL = "gpt-4.1"
# Tasks whose answer is text the client may bound; the others' estimate assumes no output (as admission does).
_GENERATES_TEXT = frozenset({"chat", "completion", "audio_generation"})


class TokenSource(Protocol):
    def prompt_tokens(self, model: str) -> int: ...


class ConditionError(ValueError):
    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        super().__init__(problem)
        self.path = path


@dataclass(frozen=True, slots=True)
class Verdict:
    holds: bool
    reason: str


class Condition(Protocol):
    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class OneOf:
    feature: str
    values: tuple[Any, ...]

    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict:
        value = getattr(features, self.feature)
        holds = value in self.values
        shown = str(value).lower() if isinstance(value, bool) else value
        return Verdict(holds, f"{self.feature} is {shown}{_source(features, self.feature)}")


@dataclass(frozen=True, slots=True)
class TokensOver:
    feature: str
    limit: int
    tokenizer_of: str

    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict:
        prompt = tokens.prompt_tokens(self.tokenizer_of)
        count = prompt + (features.output_tokens or 0) if self.feature == "total_tokens" else prompt
        relation = ">" if count > self.limit else "<="
        return Verdict(count > self.limit, f"{self.feature} {count:,} {relation} {self.limit:,}")


@dataclass(frozen=True, slots=True)
class Pricing:
    """What a cost condition prices a request with."""

    prices: PriceList
    # Output a request that sets no limit is assumed to use (rate_limits.default_max_tokens).
    default_max_tokens: int


@dataclass(frozen=True, slots=True)
class CostOver:
    feature: str  # estimated_usd (the prompt alone) | most_usd (plus the most output the request allows)
    limit: float
    model: str
    pricing: Pricing

    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict:
        prompt = tokens.prompt_tokens(self.model)
        output = features.output_tokens
        assumed = ""
        if output is None:
            output = self.pricing.default_max_tokens if features.task in _GENERATES_TEXT else 0
            assumed = ", the default" if output else ""
        output *= features.output_choices  # each choice is billed
        estimate = self.pricing.prices.estimate(self.model, prompt, output)
        assert estimate is not None  # compiled only for a model with token prices
        usd = estimate.estimated_usd if self.feature == "estimated_usd" else estimate.most_usd
        relation = ">" if usd > self.limit else "<="
        # Both figures, whichever is tested: an operator tuning the threshold wants to see the other too.
        detail = (
            f"{prompt:,} prompt tokens: {_usd(estimate.estimated_usd)}; "
            f"with up to {output:,} output tokens{assumed}: {_usd(estimate.most_usd)}"
        )
        return Verdict(
            usd > self.limit, f"{self.feature} on {self.model} {_usd(usd)} {relation} {_usd(self.limit)} ({detail})"
        )


def _usd(amount: float) -> str:
    """Enough decimals to tell an estimate from a threshold it passes by a little, trailing zeros dropped."""
    whole, _, decimals = f"{amount:.8f}".partition(".")
    return f"${whole}.{decimals.rstrip('0').ljust(2, '0')}"


@dataclass(frozen=True, slots=True)
class Combined:
    kind: str  # any | all
    parts: tuple[Condition, ...]

    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict:
        verdicts = [part.evaluate(features, tokens) for part in self.parts]
        holds = any(v.holds for v in verdicts) if self.kind == "any" else all(v.holds for v in verdicts)
        return Verdict(holds, "; ".join(v.reason for v in verdicts))


@dataclass(frozen=True, slots=True)
class Negated:
    part: Condition

    def evaluate(self, features: Features, tokens: TokenSource) -> Verdict:
        verdict = self.part.evaluate(features, tokens)
        return Verdict(not verdict.holds, verdict.reason)


def _source(features: Features, feature: str) -> str:
    if feature == "task_class":
        detail = features.task_class_reason if features.task_class_source == "classifier" else ""
        return f" ({features.task_class_source}{': ' + detail if detail else ''})"
    if feature in {"latency", "cost"}:
        value = getattr(features, feature)
        return f" (X-Route-{feature.capitalize()} header)" if value != "unspecified" else " (no hint header)"
    if feature == "task":
        return f" (endpoint {features.operation})"
    return ""


def compile_condition(
    spec: Any, path: tuple[str | int, ...], known_model: Callable[[str], bool], pricing: Pricing | None = None
) -> Condition:
    """`pricing`: what cost conditions evaluate with; without it, a policy using one is refused."""
    if not isinstance(spec, Mapping) or not spec:
        raise ConditionError(path, "a condition is a mapping such as {task: chat} or {any: [...]}")
    parts = [_compile_entry(key, value, (*path, key), known_model, pricing) for key, value in spec.items()]
    return parts[0] if len(parts) == 1 else Combined("all", tuple(parts))


def _compile_entry(
    key: str, value: Any, path: tuple[str | int, ...], known_model: Callable[[str], bool], pricing: Pricing | None
) -> Condition:
    if key in {"any", "all"}:
        if not isinstance(value, list) or not value:
            raise ConditionError(path, f"'{key}' takes a non-empty list of conditions")
        parts = (compile_condition(item, (*path, i), known_model, pricing) for i, item in enumerate(value))
        return Combined(key, tuple(parts))
    if key == "not":
        return Negated(compile_condition(value, path, known_model, pricing))
    if key in TOKEN_FEATURES:
        return _compile_tokens(key, value, path, known_model)
    if key in COST_FEATURES:
        return _compile_cost(key, value, path, known_model, pricing)
    if key not in CHOICES:
        known = ", ".join([*CHOICES, *TOKEN_FEATURES, *COST_FEATURES, "any", "all", "not"])
        raise ConditionError(path, f"unknown feature '{key}' (known: {known})")
    values = tuple(value) if isinstance(value, list) else (value,)
    for item in values:
        if item not in CHOICES[key] or isinstance(item, bool) != isinstance(CHOICES[key][0], bool):
            allowed = ", ".join(str(choice).lower() for choice in CHOICES[key])
            raise ConditionError(path, f"'{item}' is not a value of {key} (one of: {allowed})")
    return OneOf(key, values)


def _compile_tokens(key: str, value: Any, path: tuple[str | int, ...], known_model: Callable[[str], bool]) -> Condition:
    if not isinstance(value, Mapping) or not isinstance(value.get("over"), int) or isinstance(value["over"], bool):
        raise ConditionError(path, f"'{key}' takes {{over: <tokens>, tokenizer_of: <model>}}")
    unknown = set(value) - {"over", "tokenizer_of"}
    if unknown:
        raise ConditionError(path, f"unknown key(s) {', '.join(sorted(unknown))} in {key}")
    model = value.get("tokenizer_of", DEFAULT_TOKENIZER_MODEL)
    if not isinstance(model, str) or not known_model(model):
        raise ConditionError((*path, "tokenizer_of"), f"tokenizer_of names '{model}', which no deployment serves")
    return TokensOver(key, int(value["over"]), model)


def _compile_cost(
    key: str, value: Any, path: tuple[str | int, ...], known_model: Callable[[str], bool], pricing: Pricing | None
) -> Condition:
    over = value.get("over") if isinstance(value, Mapping) else None
    is_number = isinstance(over, int | float) and not isinstance(over, bool)  # YAML's true is an int
    if not isinstance(value, Mapping) or "on" not in value or not is_number:
        raise ConditionError(path, f"'{key}' takes {{on: <model>, over: <USD>}}")
    threshold = float(value["over"])
    unknown = set(value) - {"on", "over"}
    if unknown:
        raise ConditionError(path, f"unknown key(s) {', '.join(sorted(unknown))} in {key}")
    if not isfinite(threshold) or threshold < 0:
        raise ConditionError((*path, "over"), f"over is {threshold}: a price in USD is a finite number, 0 or more")
    model = value["on"]
    if not isinstance(model, str) or not known_model(model):
        raise ConditionError((*path, "on"), f"on names '{model}', which no deployment serves")
    if pricing is None:
        raise ConditionError(path, f"'{key}' needs the model table's prices, which this policy is loaded without")
    # Checked now: a model without token prices could never be priced, and the question would always say no.
    if pricing.prices.estimate(model, 0, 0) is None:
        raise ConditionError((*path, "on"), f"on names '{model}', which has no token prices in the model table")
    return CostOver(key, threshold, model, pricing)
