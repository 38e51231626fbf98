"""The tests mirror the package: every module of gateway/ that has logic has tests/<same path>/test_<name>.py,
and every such test module names a module that exists (as mitmproxy checks its own layout).

A module without a function or a method (constants, types, word lists) needs no test module of its own.
Tests of several modules working together live in tests/e2e/ (real sockets), tests/bench/ (make bench)
and the cross-cutting modules listed below, each with the reason it is not named after one source module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gateway"
TESTS = ROOT / "tests"

# Folders of tests that exercise the whole gateway, or help the tests, rather than one module.
NOT_MIRRORED_DIRS = frozenset({"e2e", "bench", "eval", "support", "deploy"})
# Test modules that are about the project rather than one module.
NOT_MIRRORED_FILES = frozenset(
    {
        "tests/test_layout.py",  # this file
        "tests/scripts/test_generate_model_table.py",  # scripts/, outside the package
        "tests/scripts/test_train_task_model.py",
    }
)


def _has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in ast.walk(tree))


def _source_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py"} and "__pycache__" not in path.parts
    )


def _test_module_for(source: Path) -> Path:
    relative = source.relative_to(PACKAGE)
    return TESTS / relative.parent / f"test_{relative.name}"


@pytest.mark.parametrize(
    "source", [path for path in _source_modules() if _has_logic(path)], ids=lambda path: str(path.relative_to(ROOT))
)
def test_every_module_with_logic_has_its_test_module(source: Path) -> None:
    expected = _test_module_for(source)
    assert expected.is_file(), f"{source.relative_to(ROOT)} has no {expected.relative_to(ROOT)}"


def test_every_test_module_names_a_source_module() -> None:
    sources = {_test_module_for(path) for path in _source_modules()}
    strays = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("test_*.py")
        if not NOT_MIRRORED_DIRS.intersection(path.relative_to(TESTS).parts)
        and str(path.relative_to(ROOT)) not in NOT_MIRRORED_FILES
        and path not in sources
    ]
    assert strays == [], f"test modules named after no module of gateway/: {strays}"
