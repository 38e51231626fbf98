"""The broad word lists the task classifier counts beside its hand-weighted ones: data files, one phrase a line.

The hand lists (`task_lexicon_en`, `task_lexicon_zh`) hold the words whose weight was set one by one against the
labelled set; these hold the vocabulary of whole fields written out from domain knowledge, not from the set:
some 1,500 English and 1,200 Chinese technical terms (Simplified and Taiwan usage), mathematics, and the words
of creative writing, role-play and feelings. A technical question in words the hand lists never met ("what
does a vector clock buy over a Lamport timestamp?") then still reads as one. Each list counts as a group of its
own (`task_groups`: terms, maths terms, creative words) at a weight below the hand lists', and a phrase the
hand lists already hold keeps its hand weight.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

# File -> (group, weight per phrase).
_LISTS: Final = {
    "en_tech.txt": ("terms", 1.0),
    "en_math.txt": ("maths_terms", 1.0),
    "en_creative.txt": ("creative_words", 1.0),
    "zh_tech.txt": ("terms", 1.0),
    "zh_math.txt": ("maths_terms", 1.0),
    "zh_creative.txt": ("creative_words", 1.0),
}


def vocabulary(language: str) -> tuple[tuple[str, float, str], ...]:
    """The lists of one language ("en" or "zh") as lexicon entries: (group, weight, comma-separated phrases)."""
    entries = []
    folder = resources.files("gateway.routing").joinpath("vocabulary")
    for name, (group, weight) in _LISTS.items():
        if not name.startswith(language + "_"):
            continue
        lines = folder.joinpath(name).read_text(encoding="utf-8").splitlines()
        phrases = [line.strip().lower() for line in lines if line.strip() and ", " not in line]
        if phrases:
            entries.append((group, weight, ", ".join(dict.fromkeys(phrases))))
    return tuple(entries)
