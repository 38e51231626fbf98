"""One routing-log line, read back: the fields `gateway logs` shows, filters and counts, typed.

Lines come from any version of the gateway, so every field may be missing or of another type: such a field
reads as None (shown blank), never as an error. Only a line that is not a JSON object is refused.
See observe/routing_log.py for what the gateway writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class DecisionStep:
    node: str | None
    ask: str | None
    answer: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    model: str | None
    deployment: str | None
    status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: str | None
    key_id: str | None
    endpoint: str | None
    model_requested: str | None
    model: str | None
    deployment: str | None
    path: tuple[DecisionStep, ...]
    status: int | None
    error: str | None
    latency_ms: float | None
    tokens_in: int | None
    tokens_out: int | None
    attempts: tuple[Attempt, ...]
    cost_usd: float | None = None  # at Azure's list prices, from the usage (gateway/pricing/); None: not known

    @property
    def models_tried(self) -> tuple[str, ...]:
        """The models the attempts went to, each once, in the order first tried."""
        return tuple(dict.fromkeys(attempt.model for attempt in self.attempts if attempt.model))

    @property
    def fell_back(self) -> bool:
        return len(self.models_tried) > 1


def parse_entry(raw: bytes) -> LogEntry | None:
    """The line's entry, or None when the line is not a JSON object (garbage, or cut short)."""
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, dict):
        return None
    tokens_in, tokens_out = _tokens(fields)
    return LogEntry(
        time=_text(fields.get("time")),
        key_id=_text(fields.get("key_id")),
        endpoint=_text(fields.get("endpoint")),
        model_requested=_text(fields.get("model_requested")),
        model=_text(fields.get("model")),
        deployment=_text(fields.get("deployment")),
        path=tuple(
            DecisionStep(_text(step.get("node")), _text(step.get("ask")), _text(step.get("answer")))
            for step in _objects(fields.get("path"))
        ),
        status=_integer(fields.get("status")),
        error=_text(fields.get("error")),
        latency_ms=_number(fields.get("latency_ms")),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        attempts=tuple(
            Attempt(
                _text(attempt.get("model")),
                _text(attempt.get("deployment")),
                _integer(attempt.get("status")),
                _text(attempt.get("error")),
            )
            for attempt in _objects(fields.get("attempts"))
        ),
        cost_usd=_number(fields.get("cost_usd")),
    )


def _tokens(fields: dict[str, Any]) -> tuple[int | None, int | None]:
    # Chat reports prompt/completion tokens, the Responses API and realtime input/output. Without Azure's
    # usage (an error, an older line) the gateway's own count of the prompt is the best there is.
    usage = fields.get("usage")
    if isinstance(usage, dict):
        tokens_in = _integer(usage.get("prompt_tokens", usage.get("input_tokens")))
        tokens_out = _integer(usage.get("completion_tokens", usage.get("output_tokens")))
        if tokens_in is not None or tokens_out is not None:
            return tokens_in, tokens_out
    return _integer(fields.get("prompt_tokens")), None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    # bool is an int to Python, never a count or a status here.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _objects(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
