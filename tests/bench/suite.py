"""What a bench suite is: a plain function from a scratch directory to named data and pass/fail checks.

run.py calls each suite in turn; adding one means writing its module and listing it in run.SUITES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class SuiteResult:
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


# A suite starts whatever processes it needs under `workdir`, prints its own table, and stops them.
Suite = Callable[[Path], SuiteResult]
