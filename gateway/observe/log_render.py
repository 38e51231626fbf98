"""One readable line per request for `gateway logs`, coloured by how the request ended:

    17:51:15.812  key-4e5a8f4373f5  chat/completions  auto -> gpt-4.5-preview @ azure/gpt-4.5-preview
      [… legacy completion? no · coding? no · creative? yes]  7/21 tok  2.7 ms  200

(one line on screen: wrapped here to fit). Tokens are in/out; a blank field (an error before routing, a line
from another version) shows as `-`. Times are the log's own (UTC as the gateway writes them).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from gateway.observe.log_entry import DecisionStep, LogEntry

BLANK = "-"
# The decision path's last steps are the ones that chose the model (the first ones tell the endpoint's task
# apart, which the endpoint already says); the whole path is in the line itself (--json).
PATH_STEPS_SHOWN = 3
STEP_LABEL_CHARS = 24
SEPARATOR = "  "


def outcome_style(status: int | None) -> str:
    if status is None:
        return ""
    if status == 429:
        return "magenta"
    return {2: "green", 4: "yellow", 5: "red"}.get(status // 100, "")


def render_entry(entry: LogEntry) -> Text:
    style = outcome_style(entry.status)
    line = Text()
    line.append(clock_time(entry.time).ljust(12), style="dim")
    line.append(SEPARATOR)
    line.append((entry.key_id or BLANK).ljust(16))
    line.append(SEPARATOR)
    line.append((entry.endpoint or BLANK).ljust(16))
    line.append(SEPARATOR)
    line.append(route(entry), style=style)
    if entry.path:
        line.append(SEPARATOR)
        line.append(f"[{short_path(entry.path)}]", style="dim")
    line.append(SEPARATOR)
    line.append(f"{_count(entry.tokens_in)}/{_count(entry.tokens_out)} tok")
    line.append(SEPARATOR)
    line.append(latency(entry.latency_ms))
    line.append(SEPARATOR)
    status = BLANK if entry.status is None else str(entry.status)
    line.append(status if entry.error is None else f"{status} {entry.error}", style=f"bold {style}".strip())
    if summary := attempts_summary(entry):
        line.append(SEPARATOR)
        line.append(summary, style=style)
    return line


def clock_time(logged: str | None) -> str:
    """HH:MM:SS.mmm of the log's ISO time."""
    if logged is None:
        return BLANK
    try:
        moment = datetime.fromisoformat(logged)
    except ValueError:
        return BLANK
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"


def route(entry: LogEntry) -> str:
    return f"{entry.model_requested or BLANK} -> {entry.model or BLANK} @ {entry.deployment or BLANK}"


def short_path(path: tuple[DecisionStep, ...]) -> str:
    shown = " · ".join(f"{_step_label(step)}? {step.answer or BLANK}" for step in path[-PATH_STEPS_SHOWN:])
    return shown if len(path) <= PATH_STEPS_SHOWN else f"… {shown}"


def _step_label(step: DecisionStep) -> str:
    # Node names are the policy author's short names for the questions (`low_cost_and_latency`); the asks
    # are sentences, cut short when a policy has no node names.
    if step.node:
        return step.node.replace("_", " ")
    ask = (step.ask or BLANK).rstrip("?").strip()
    return ask if len(ask) <= STEP_LABEL_CHARS else ask[: STEP_LABEL_CHARS - 1].rstrip(" /,") + "…"


def latency(milliseconds: float | None) -> str:
    if milliseconds is None:
        return BLANK
    if milliseconds >= 1000:
        return f"{milliseconds / 1000:.2f} s"
    return f"{milliseconds:.1f} ms"


def attempts_summary(entry: LogEntry) -> str:
    """`2 attempts, fell back gpt-4.1 -> gpt-4.1-mini`; nothing for a request answered at the first try."""
    parts = []
    if len(entry.attempts) > 1:
        parts.append(f"{len(entry.attempts)} attempts")
    if entry.fell_back:
        parts.append("fell back " + " -> ".join(entry.models_tried))
    return ", ".join(parts)


def _count(tokens: int | None) -> str:
    return BLANK if tokens is None else str(tokens)
