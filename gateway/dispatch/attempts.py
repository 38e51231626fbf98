"""What each upstream try did, for the routing log and the `x-gateway-attempts` header."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Attempt:
    model: str
    deployment: str
    waited_ms: float  # slept before this try: Azure's retry-after, or backoff
    status: int | None = None  # Azure's status; None when no answer came (connection, timeout) or not sent
    error: str | None = None  # why this try did not answer the client
    latency_ms: float | None = None
    # Azure charges for a try that produced output: every 2xx, including a stream abandoned before its
    # first chunk reached the client. Errors are not billed.
    billed: bool = False
    changes: list[str] = field(default_factory=list)  # how the request was adapted for a fallback model

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "deployment": self.deployment,
            "status": self.status,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "waited_ms": self.waited_ms,
            "billed": self.billed,
        }
        if self.changes:
            data["changes"] = self.changes
        return data
