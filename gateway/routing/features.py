"""The features of a request that routing decides on (inspect_request.py works them out).

The prompt's size in tokens is not here: it depends on the tokenizer of the model a decision
considers, so `PromptSize` counts it when (and for whichever tokenizer) a decision first needs it.
"""

from __future__ import annotations

from typing import Any, Literal

from gateway.frozen import frozen

TaskFamily = Literal[
    "image_generation",
    "image_edit",
    "text_to_speech",
    "transcription",
    "translation",
    "audio_generation",
    "realtime",
    "chat",
    "completion",
    "embeddings",
]
TASK_FAMILIES: tuple[str, ...] = TaskFamily.__args__  # type: ignore[attr-defined]


@frozen
class Features:
    operation: str
    task: TaskFamily
    image_input: bool
    # What the client asked for at most per choice (max_tokens / max_completion_tokens / max_output_tokens): each
    # choice has the model's whole window to itself, so the window check counts one.
    output_tokens: int | None
    latency: str  # low | normal | unspecified
    cost: str  # low | normal | unspecified
    task_class: str  # code | creative | general
    task_class_source: str  # "X-Route-Task header" | "classifier" | "not a text task"
    task_class_reason: str
    stream: bool
    # What the request needs from a model (routing/needs.py): a leaf takes the first model lacking none of it.
    needs: frozenset[str] = frozenset()
    # Choices generated (n, or completions' best_of): what Azure counts against the TPM, and bills, is each one's.
    output_choices: int = 1

    def __post_init__(self) -> None:
        # as_dict gives a list (logs are JSON); reading one back keeps the set.
        object.__setattr__(self, "needs", frozenset(self.needs))

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every value, which cost ~4% of a request's CPU; every field
        # here is a str, bool or int already.
        values = {name: getattr(self, name) for name in _FIELDS}
        values["needs"] = sorted(self.needs)
        return values


_FIELDS = tuple(Features.__dataclass_fields__)
