"""The simulator's only configuration: which deployments exist, the key, and the region."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from gateway.simulator.catalog import MODELS


class FrozenMapping(Mapping[str, str]):
    """A read-only, hashable mapping, so it can be a dataclass default and settings stay immutable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMapping({self._items!r})"


# Each known model served by a deployment of the same name, the layout most test configs assume.
DEFAULT_DEPLOYMENTS: Mapping[str, str] = FrozenMapping({name: name for name in MODELS})


@dataclass(frozen=True)
class SimulatorSettings:
    """`deployments` maps deployment names to catalog model names; a plain dict is copied read-only."""

    api_key: str = "simulator-key"
    deployments: Mapping[str, str] = DEFAULT_DEPLOYMENTS
    region: str = "swedencentral"
    # The quota its x-ratelimit-* headers report (RPM as Azure derives it: 6 per 1,000 TPM). A gateway whose
    # config gives the deployment another TPM believes Azure over its own count when Azure has less left.
    tokens_per_minute: int = 1_000_000

    def __post_init__(self) -> None:
        unknown = sorted(model for model in self.deployments.values() if model not in MODELS)
        if unknown:
            raise ValueError(f"unknown model(s) for the simulator: {', '.join(unknown)}")
        if not isinstance(self.deployments, FrozenMapping):
            # A caller's dict must not be able to change the simulator behind its back.
            object.__setattr__(self, "deployments", FrozenMapping(self.deployments))
