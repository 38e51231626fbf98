"""A routing policy compiled from YAML: questions and leaves by name, aliases, and escalation chains.

Compiled once at start-up. Every problem is reported with the file and line it stands on: an unknown
node, a model no deployment serves, a question with an answer leading nowhere, a cycle, a node that
can never be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from pydantic import ValidationError

from gateway.errors import FallbackReason
from gateway.routing.conditions import Condition, ConditionError, Pricing, compile_condition
from gateway.routing.policy_schema import LeafSpec, PolicySpec, QuestionSpec
from gateway.settings.errors import ConfigError
from gateway.settings.load import first_problem
from gateway.settings.yaml_source import ConfigPath, LineIndex, load_yaml


@dataclass(frozen=True, slots=True)
class Leaf:
    name: str
    models: tuple[str, ...]
    otherwise: str | None


@dataclass(frozen=True, slots=True)
class Question:
    name: str
    ask: str
    condition: Condition
    yes: str
    no: str
    yes_by_default: bool
    no_by_default: bool


Node = Leaf | Question


@dataclass(frozen=True, slots=True)
class Policy:
    source: str
    start: str
    nodes: dict[str, Node]
    aliases: dict[str, str]  # alias → node name; "auto" always walks from `start`
    larger_models: dict[str, tuple[str, ...]]  # model → the larger models of its family, in order
    fallbacks: dict[FallbackReason, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def entry_for(self, requested: str) -> str | None:
        return self.aliases.get(requested)

    def fallbacks_for(self, model: str, reason: FallbackReason) -> tuple[str, ...]:
        """The models to try after `model`, in order, when it failed for `reason`."""
        chain = self.fallbacks.get(reason, {}).get(model)
        if chain is None and reason == "context_length":
            return self.larger_models.get(model, ())
        return chain or ()


def load_policy(path: Path | str, serves_model: Callable[[str], bool], pricing: Pricing | None = None) -> Policy:
    """`pricing`: what cost conditions (estimated_usd, most_usd) evaluate with; without it they are refused."""
    path = Path(path)
    data, lines = load_yaml(path)
    try:
        spec = PolicySpec.model_validate_json(orjson.dumps(data), strict=True)
    except ValidationError as exc:
        raise first_problem(path, lines, exc) from None
    return _Compiler(path, lines, serves_model, pricing).compile(spec)


class _Compiler:
    def __init__(
        self, path: Path, lines: LineIndex, serves_model: Callable[[str], bool], pricing: Pricing | None
    ) -> None:
        self.path = path
        self.lines = lines
        self.serves_model = serves_model
        self.pricing = pricing
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, list[str]] = {}

    def error(self, where: ConfigPath, problem: str) -> ConfigError:
        return ConfigError(self.path, self.lines.line_of(where), problem)

    def compile(self, spec: PolicySpec) -> Policy:
        names = set(spec.nodes)
        for name, node in spec.nodes.items():
            self._add(name, node, ("nodes", name), names)
        if spec.start not in self.nodes:
            raise self.error(("start",), f"start names '{spec.start}', which is not a node")
        aliases = {"auto": spec.start}
        for alias, target in spec.aliases.items():
            if self.serves_model(alias):
                raise self.error(("aliases", alias), f"alias '{alias}' is also the name of a served model")
            aliases[alias] = self._target(target, f"alias:{alias}", ("aliases", alias), names)
        self._check_acyclic()
        self._check_reachable(set(aliases.values()))
        return Policy(
            source=str(self.path),
            start=spec.start,
            nodes=self.nodes,
            aliases=aliases,
            larger_models=self._escalation(spec),
            fallbacks=self._fallbacks(spec),
        )

    def _add(self, name: str, spec: LeafSpec | QuestionSpec, where: ConfigPath, names: set[str]) -> None:
        if isinstance(spec, LeafSpec):
            for position, model in enumerate(spec.models):
                if not self.serves_model(model):
                    raise self.error((*where, "models", position), f"model '{model}' has no deployment in the config")
            otherwise = None
            if spec.otherwise is not None:
                otherwise = self._target(spec.otherwise, f"{name}.otherwise", (*where, "otherwise"), names)
            self.nodes[name] = Leaf(name, spec.models, otherwise)
            self.edges[name] = [otherwise] if otherwise else []
            return
        try:
            condition = compile_condition(spec.when, (*where, "when"), self.serves_model, self.pricing)
        except ConditionError as exc:
            raise self.error(exc.path, f"in question '{name}': {exc}") from None
        branches: dict[str, str] = {}
        for answer in ("yes", "no"):
            target = getattr(spec, answer) or spec.default
            if target is None:
                raise self.error(where, f"question '{name}' has no '{answer}' branch and no default")
            key = answer if getattr(spec, answer) is not None else "default"
            branches[answer] = self._target(target, f"{name}.{answer}", (*where, key), names)
        self.nodes[name] = Question(
            name=name,
            ask=spec.ask,
            condition=condition,
            yes=branches["yes"],
            no=branches["no"],
            yes_by_default=spec.yes is None,
            no_by_default=spec.no is None,
        )
        self.edges[name] = [branches["yes"], branches["no"]]

    def _target(self, target: str | LeafSpec, inline_name: str, where: ConfigPath, names: set[str]) -> str:
        if isinstance(target, LeafSpec):
            if inline_name not in self.nodes:
                self._add(inline_name, target, where, names)
            return inline_name
        if target not in names:
            raise self.error(where, f"'{target}' is not a node of this policy")
        return target

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " → ".join([*trail[trail.index(name) :], name])
                raise self.error(("nodes", name), f"the policy loops: {cycle}")
            state[name] = 1
            for following in self.edges.get(name, []):
                visit(following, [*trail, name])
            state[name] = 2

        for name in list(self.nodes):
            visit(name, [])

    def _check_reachable(self, entries: set[str]) -> None:
        seen: set[str] = set()
        pending = list(entries)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(self.edges.get(name, []))
        for name in self.nodes:
            if name not in seen:
                raise self.error(("nodes", name.split(".")[0]), f"node '{name}' can never be reached")

    def _fallbacks(self, spec: PolicySpec) -> dict[FallbackReason, dict[str, tuple[str, ...]]]:
        chains: dict[FallbackReason, dict[str, tuple[str, ...]]] = {
            "failure": spec.fallbacks.on_failure,
            "context_length": spec.fallbacks.on_context_length,
            "content_filter": spec.fallbacks.on_content_filter,
        }
        for reason, by_model in chains.items():
            for model, chain in by_model.items():
                where: ConfigPath = ("fallbacks", f"on_{reason}", model)
                if not self.serves_model(model):
                    raise self.error(where, f"model '{model}' has no deployment in the config")
                for position, fallback in enumerate(chain):
                    if not self.serves_model(fallback):
                        raise self.error((*where, position), f"model '{fallback}' has no deployment in the config")
                    if fallback == model or fallback in chain[:position]:
                        raise self.error((*where, position), f"model '{fallback}' is already tried before this")
        return chains

    def _escalation(self, spec: PolicySpec) -> dict[str, tuple[str, ...]]:
        larger: dict[str, tuple[str, ...]] = {}
        for chain_position, chain in enumerate(spec.escalation):
            for position, model in enumerate(chain):
                if not self.serves_model(model):
                    where = ("escalation", chain_position, position)
                    raise self.error(where, f"model '{model}' has no deployment in the config")
                larger.setdefault(model, chain[position + 1 :])
        return larger
