"""Prompt text for the bench: English prose that never repeats itself, at a chosen length.

Repeated sentences would flatter any cache keyed on text; numbers sprinkled in keep the tokeniser honest.
"""

from __future__ import annotations

import random

_TEXT = (
    "the quarterly report shows revenue growth across northern and southern regions while customer churn "
    "declined after the pricing change introduced in march analysts expect margins to widen as logistics "
    "costs fall and the new warehouse in rotterdam reaches capacity the board approved a dividend of 0.42 "
    "per share and authorised a buyback programme worth 150 million euros over eighteen months"
)
# Words of `prose` in a ~1k-token prompt "Summarise this report: ..." (1,024 tokens in o200k_base, salt 1).
WORDS_PER_1K_TOKENS = 800


def prose(words: int, salt: int) -> str:
    chooser = random.Random(salt)
    vocabulary = _TEXT.split()
    return " ".join(
        chooser.choice(vocabulary) if chooser.random() > 0.08 else str(chooser.randrange(10**6)) for _ in range(words)
    )


def summary_prompt(words: int, salt: int) -> str:
    return f"Summarise this report: {prose(words, salt)}"
