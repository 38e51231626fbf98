"""`@frozen`: a frozen dataclass to the type checker, a plain slotted one at run time.

For the values every request makes (its features, decision, budgets, reservation, upstream request...).
A frozen dataclass's __init__ sets each field through object.__setattr__, about 4x the cost of a plain
assignment: for the ~20 such values of one request, ~2% of its CPU. mypy still reads these classes as
frozen (dataclass_transform's frozen_default), so assigning to a field is a type error; they hash and
compare by value as frozen dataclasses do. Nothing stops an assignment at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)
