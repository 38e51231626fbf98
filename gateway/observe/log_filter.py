"""Which routing-log lines `gateway logs` keeps: by model, deployment, key, status and latency.

Every filter given must hold (and); a filter given several values holds when any of them does (or).
A line without the field a filter looks at does not match it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from gateway.observe.log_entry import LogEntry

_STATUS_WORD = re.compile(r"([1-5])xx|([1-5][0-9][0-9])")


@dataclass(frozen=True, slots=True)
class StatusMatch:
    """Statuses written as `429`, `5xx` or a comma-separated mix of both (`429,5xx`)."""

    exact: frozenset[int]
    classes: frozenset[int]  # the hundreds digit: 5 for 5xx

    @classmethod
    def parse(cls, text: str) -> StatusMatch:
        exact: set[int] = set()
        classes: set[int] = set()
        for word in text.lower().split(","):
            matched = _STATUS_WORD.fullmatch(word.strip())
            if matched is None:
                raise ValueError(f"{word.strip()!r} is not a status: write 429, 5xx or 429,5xx")
            if matched.group(1):
                classes.add(int(matched.group(1)))
            else:
                exact.add(int(matched.group(2)))
        return cls(frozenset(exact), frozenset(classes))

    def matches(self, status: int) -> bool:
        return status in self.exact or status // 100 in self.classes


@dataclass(frozen=True, slots=True)
class LineFilter:
    models: Collection[str] = ()  # asked for, served by, or tried on the way
    deployments: Collection[str] = ()  # served by or tried; `gpt-4.1` names `azure/gpt-4.1` too
    keys: Collection[str] = ()  # key ids, as the log writes them
    status: StatusMatch | None = None
    errors_only: bool = False
    slower_than_ms: float | None = None

    def matches(self, entry: LogEntry) -> bool:
        if self.models and not self._any_model(entry):
            return False
        if self.deployments and not self._any_deployment(entry):
            return False
        if self.keys and entry.key_id not in self.keys:
            return False
        if self.status is not None and (entry.status is None or not self.status.matches(entry.status)):
            return False
        if self.errors_only and (entry.status is None or entry.status < 400):
            return False
        return self.slower_than_ms is None or (entry.latency_ms is not None and entry.latency_ms > self.slower_than_ms)

    def _any_model(self, entry: LogEntry) -> bool:
        named = {entry.model_requested, entry.model, *(attempt.model for attempt in entry.attempts)}
        return any(model in named for model in self.models)

    def _any_deployment(self, entry: LogEntry) -> bool:
        # The log names a deployment `resource/name`; operators mostly know it by its name alone.
        for deployment in (entry.deployment, *(attempt.deployment for attempt in entry.attempts)):
            if deployment is not None and (
                deployment in self.deployments or deployment.rpartition("/")[2] in self.deployments
            ):
                return True
        return False
