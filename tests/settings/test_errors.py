from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings.errors import ConfigError


def test_a_located_problem_reads_file_colon_line() -> None:
    error = ConfigError(Path("config/gateway.yaml"), 42, "unknown key 'tmp' at server.tmp")
    assert str(error) == "config/gateway.yaml:42: unknown key 'tmp' at server.tmp"
    assert (error.path, error.line, error.problem) == ("config/gateway.yaml", 42, "unknown key 'tmp' at server.tmp")


@pytest.mark.parametrize("line", [None, 0])
def test_a_problem_without_a_line_names_only_the_file(line: int | None) -> None:
    error = ConfigError("/etc/gateway.yaml", line, "cannot read file: No such file or directory")
    assert str(error) == "/etc/gateway.yaml: cannot read file: No such file or directory"
    assert error.line == line


def test_a_path_is_kept_as_text() -> None:
    error = ConfigError(Path("/srv") / "routes" / "policy.yaml", 3, "bad")
    assert error.path == "/srv/routes/policy.yaml" and isinstance(error.path, str)


def test_it_is_raised_and_caught_as_an_exception() -> None:
    with pytest.raises(ConfigError, match=r"^gateway\.yaml:7: environment variable X is not set$"):
        raise ConfigError("gateway.yaml", 7, "environment variable X is not set")
