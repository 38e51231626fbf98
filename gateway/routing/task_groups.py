"""The evidence groups the task classifier scores (class, cap, label) and the prior it starts from: data only.

Every cue belongs to a *group*; a group counts toward one task class and has a cap, so that piling up many
weak cues of one kind (ten programming words in a long paste) cannot outvote a different, decisive kind of
evidence (an explicit "write a poem"). Weights are hand-set in halves and quarters so a reason can be read
back from them. The caps and the prior are tuned together, which is why they live side by side; the labels
and `QUOTED_GROUPS` decide how a group is named in a verdict's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

TaskClass = Literal["code", "creative", "general"]
# The order of the classes in a verdict's scores.
TASK_CLASSES: Final[tuple[TaskClass, ...]] = ("code", "creative", "general")


class Group(NamedTuple):
    task: TaskClass
    cap: float
    label: str


GROUPS: Final[Mapping[str, Group]] = MappingProxyType(
    {
        # code
        "code_block": Group("code", 4.0, "code block"),
        "stack_trace": Group("code", 4.0, "stack trace"),
        "code_lines": Group("code", 4.0, "code lines"),
        "symbols": Group("code", 1.5, "symbol-dense text"),
        "error": Group("code", 3.0, "error message"),
        "logs": Group("code", 2.5, "log lines"),
        "path": Group("code", 1.5, "file path"),
        "inline_code": Group("code", 1.5, "inline code"),
        "identifier": Group("code", 1.5, "code identifiers"),
        "shell": Group("code", 2.0, "shell command"),
        "sql": Group("code", 3.0, "SQL"),
        "regex": Group("code", 3.0, "regular expression"),
        "equation": Group("code", 2.0, "equation"),
        "word_problem": Group("code", 1.5, "word problem"),
        "code_request": Group("code", 3.5, "asks for code"),
        "tech": Group("code", 5.0, "programming terms"),
        "terms": Group("code", 3.0, "technical terms"),
        "maths_terms": Group("code", 2.0, "mathematics terms"),
        "math": Group("code", 3.0, "math terms"),
        "tools": Group("code", 0.75, "tools offered"),
        "structured": Group("code", 0.75, "structured output"),
        "system_code": Group("code", 1.5, "technical system prompt"),
        # creative
        "creative_request": Group("creative", 4.0, "asks for creative writing"),
        "write": Group("creative", 1.25, "asks for writing"),
        "form": Group("creative", 2.5, "creative forms"),
        "roleplay": Group("creative", 3.5, "role-play"),
        "brainstorm": Group("creative", 3.0, "brainstorming"),
        "chat": Group("creative", 3.0, "chit-chat"),
        "expressive": Group("creative", 1.5, "expressive punctuation"),
        "feelings": Group("creative", 3.0, "feelings"),
        "tone": Group("creative", 1.5, "playful tone"),
        "system_creative": Group("creative", 1.5, "persona system prompt"),
        "creative_words": Group("creative", 2.0, "creative words"),
        "creative_material": Group("creative", 2.0, "creative writing about given material"),
        # general
        "task": Group("general", 3.0, "general task"),
        "info": Group("general", 2.0, "factual/advice question"),
        "question": Group("general", 0.5, "question"),
        "lay": Group("general", 1.5, "lay audience"),
        "topic": Group("general", 1.5, "everyday topic"),
        "system_general": Group("general", 1.5, "general system prompt"),
        "material": Group("general", 2.0, "technical words only as material"),
    }
)

# The prior for "general": with no evidence at all, general wins, and one weak cue for another class (a
# single ambiguous word) is not enough to move a request away from it.
GENERAL_PRIOR: Final = 0.8
# Groups whose matched text is worth quoting in a reason; the others are described by their label.
QUOTED_GROUPS: Final = frozenset(
    {"error", "path", "identifier", "equation", "code_request", "tech", "terms", "math", "maths_terms", "write"}
    | {"creative_request", "creative_words"}
    | {"form", "roleplay", "brainstorm", "chat", "feelings", "tone", "task", "info", "question", "lay", "topic"}
)
