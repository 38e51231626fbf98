import dataclasses
from pathlib import Path

from mypy import api as mypy_api

from gateway.frozen import frozen


@frozen
class _Point:
    x: int
    tags: tuple[str, ...] = ()


def test_a_frozen_class_is_a_slotted_dataclass_that_compares_and_hashes_by_value() -> None:
    assert dataclasses.is_dataclass(_Point)
    assert not hasattr(_Point(1), "__dict__")
    assert _Point(1, ("a",)) == _Point(1, ("a",))
    assert hash(_Point(1, ("a",))) == hash(_Point(1, ("a",)))
    assert len({_Point(1), _Point(1), _Point(2)}) == 2
    assert dataclasses.replace(_Point(1), x=5) == _Point(5)


def test_the_type_checker_refuses_an_assignment_to_a_field(tmp_path: Path) -> None:
    source = tmp_path / "uses_frozen.py"
    source.write_text(
        "from gateway.frozen import frozen\n\n@frozen\nclass P:\n    x: int\n\np = P(1)\np.x = 2\nq = P(x=3)\n"
    )
    out, _, status = mypy_api.run(["--strict", "--no-incremental", "--cache-dir=/dev/null", str(source)])
    assert status == 1
    assert 'Property "x" defined in "P" is read-only' in out
    assert out.count("error:") == 1  # the constructor call type-checks as a dataclass's
