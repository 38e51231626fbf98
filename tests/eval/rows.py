"""The routing evaluation set: labelled requests, read into one shape whatever file they come from.

Three kinds of file, all JSON lines:

- `tests/routing/data/task_prompts.jsonl` (rounds 1-6): a user prompt (several turns joined by newlines) with
  an optional system prompt and the task class a careful human gives it. `dev` rows are tuning rows.
- `tests/eval/data/round*_{tuning,holdout}.jsonl`: whole conversations (`messages`, the last one the user's)
  with the task class of what the last user turn asks; the file name says the split.
- `tests/eval/data/limits_{tuning,holdout}.jsonl`: requests to any endpoint with the model the routing tree
  must choose for them, or the error it must answer (the limit cases: windows, per-input limits, formats).

A labelled chat row's expected route is the one the tree takes when the client names the class itself
(`X-Route-Task`), so agreement is agreement on the leaf and model, not only on the class.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.targets import REPO_ROOT

ROUND_1_TO_6 = REPO_ROOT / "tests" / "routing" / "data" / "task_prompts.jsonl"
DATA_DIR = REPO_ROOT / "tests" / "eval" / "data"
SPLITS = ("tuning", "holdout")
TASK_CLASSES = ("code", "creative", "general")


@dataclass(frozen=True)
class EvalRow:
    source: str  # file name and line number
    split: str  # tuning | holdout
    category: str  # the task class, or "limits" for a request-level row
    lang: str  # en | zh | mixed
    kind: str  # what the row exercises
    endpoint: str  # the operation, e.g. chat/completions
    body: dict[str, Any]  # JSON body, or a form's text fields (lists of values) for multipart endpoints
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # multipart file fields and their sizes in bytes
    expect_model: str | None = None  # limits rows: the model the tree must choose
    expect_error: dict[str, Any] | None = None  # limits rows: {"status": 400, "param": ..., "code": ...}


def load_rows() -> list[EvalRow]:
    rows = list(_round_1_to_6())
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        split = path.stem.rsplit("_", 1)[-1]
        if split not in SPLITS:
            raise ValueError(f"{path.name}: the file name must end in _tuning or _holdout")
        reader = _limits if path.stem.startswith("limits") else _conversations
        rows.extend(reader(path, split))
    return rows


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                yield number, json.loads(line)


def _round_1_to_6() -> Iterator[EvalRow]:
    for number, row in _lines(ROUND_1_TO_6):
        messages = [{"role": "system", "content": row["system"]}] if row.get("system") else []
        messages.append({"role": "user", "content": row["prompt"]})
        yield EvalRow(
            source=f"{ROUND_1_TO_6.name}:{number}",
            split="tuning" if row["split"] == "dev" else "holdout",
            category=row["label"],
            lang=row["lang"],
            kind=f"round {row['round']}",
            endpoint="chat/completions",
            body=_chat_body(messages, row.get("has_tools", False), row.get("structured_output", False)),
        )


def _conversations(path: Path, split: str) -> Iterator[EvalRow]:
    for number, row in _lines(path):
        if row["label"] not in TASK_CLASSES:
            raise ValueError(f"{path.name}:{number}: label {row['label']!r}")
        yield EvalRow(
            source=f"{path.name}:{number}",
            split=split,
            category=row["label"],
            lang=row["lang"],
            kind=row["kind"],
            endpoint="chat/completions",
            body=_chat_body(row["messages"], row.get("tools", False), row.get("json", False)),
            headers=row.get("headers", {}),
        )


def _limits(path: Path, split: str) -> Iterator[EvalRow]:
    for number, row in _lines(path):
        expect = row["expect"]
        yield EvalRow(
            source=f"{path.name}:{number}",
            split=split,
            category="limits",
            lang=row.get("lang", "en"),
            kind=row["kind"],
            endpoint=row["endpoint"],
            body=_expand(row["body"]),
            headers=row.get("headers", {}),
            files=row.get("files", {}),
            expect_model=expect.get("model"),
            expect_error=expect.get("error"),
        )


def _chat_body(messages: list[dict[str, Any]], tools: bool, structured: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "auto", "messages": messages}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    if structured:
        body["response_format"] = {"type": "json_object"}
    return body


def _expand(value: Any) -> Any:
    """`{"$repeat": [text, times]}` stands for the text repeated: a window's edge takes thousands of tokens,
    which the file need not spell out."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return str(text) * int(times)
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value
