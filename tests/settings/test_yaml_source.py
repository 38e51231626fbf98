from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings.errors import ConfigError
from gateway.settings.yaml_source import LineIndex, load_yaml
from tests.support.gateway_config import write_config

TEXT = """\
server:
  port: 8080
resources:
  east:
    endpoint: https://east.example.com
deployments:
  - name: chat
    model: gpt-4.1
  - {name: mini, model: gpt-4.1-mini}
"""


def test_data_and_the_line_of_every_key(tmp_path: Path) -> None:
    data, lines = load_yaml(write_config(tmp_path, TEXT), {})
    assert data == {
        "server": {"port": 8080},
        "resources": {"east": {"endpoint": "https://east.example.com"}},
        "deployments": [{"name": "chat", "model": "gpt-4.1"}, {"name": "mini", "model": "gpt-4.1-mini"}],
    }
    assert lines.line_of(()) == 1
    assert lines.line_of(("server", "port")) == 2
    assert lines.line_of(("resources", "east", "endpoint")) == 5
    assert lines.line_of(("deployments", 0)) == 7
    assert lines.line_of(("deployments", 0, "model")) == 8
    assert lines.line_of(("deployments", 1, "model")) == 9


def test_a_path_not_in_the_file_takes_its_nearest_ancestors_line(tmp_path: Path) -> None:
    _, lines = load_yaml(write_config(tmp_path, TEXT), {})
    assert lines.line_of(("resources", "east", "auth", "api_key_env")) == 4
    assert lines.line_of(("deployments", 5, "name")) == 6
    assert lines.line_of(("routing",)) == 1


def test_an_empty_index_knows_no_line() -> None:
    assert LineIndex().line_of(("server",)) is None


def test_the_first_line_added_for_a_path_is_kept() -> None:
    lines = LineIndex()
    lines.add(("server",), 3)
    lines.add(("server",), 9)
    assert lines.line_of(("server", "port")) == 3


def test_only_true_and_false_are_booleans(tmp_path: Path) -> None:
    text = "yes: gpt-4.1\nno: gpt-4.1-mini\nflags: [true, false, True, FALSE, on, off, y, n]\n"
    data, _ = load_yaml(write_config(tmp_path, text), {})
    assert data == {"yes": "gpt-4.1", "no": "gpt-4.1-mini", "flags": [True, False, True, False, "on", "off", "y", "n"]}


def test_environment_references_are_expanded_where_they_stand(tmp_path: Path) -> None:
    text = "endpoint: https://${HOST}:${PORT:-443}/x\nkeys: ['${A}', plain]\nport: 8080\n"
    data, _ = load_yaml(write_config(tmp_path, text), {"HOST": "east.example.com", "A": "alpha"})
    assert data == {"endpoint": "https://east.example.com:443/x", "keys": ["alpha", "plain"], "port": 8080}


def test_a_default_is_used_when_the_variable_is_empty(tmp_path: Path) -> None:
    path = write_config(tmp_path, "a: ${EMPTY:-fallback}\nb: ${SET:-fallback}\nc: x${NONE:-}y\n")
    data, _ = load_yaml(path, {"EMPTY": "", "SET": "given"})
    assert data == {"a": "fallback", "b": "given", "c": "xy"}


def test_an_expanded_value_is_not_expanded_again(tmp_path: Path) -> None:
    data, _ = load_yaml(write_config(tmp_path, "a: ${OUTER}\n"), {"OUTER": "${INNER}", "INNER": "no"})
    assert data == {"a": "${INNER}"}


def test_the_process_environment_is_read_when_none_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_TEST_YAML_SOURCE", "from-os")
    data, _ = load_yaml(write_config(tmp_path, "a: ${GATEWAY_TEST_YAML_SOURCE}\n"))
    assert data == {"a": "from-os"}


def test_a_missing_variable_names_the_line_of_its_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, TEXT.replace("https://east.example.com", "${EAST_ENDPOINT}"))
    with pytest.raises(ConfigError) as caught:
        load_yaml(path, {})
    assert (caught.value.path, caught.value.line) == (str(path), 5)
    assert caught.value.problem == "environment variable EAST_ENDPOINT is not set"


def test_a_missing_variable_in_a_list_names_the_line_of_its_item(tmp_path: Path) -> None:
    path = write_config(tmp_path, "keys:\n  - one\n  - ${TWO}\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml(path, {})
    assert caught.value.line == 3


def test_a_reference_that_is_not_a_variable_name_is_left_as_written(tmp_path: Path) -> None:
    data, _ = load_yaml(write_config(tmp_path, "a: ${1X}\nb: $HOME\nc: ${}\n"), {"HOME": "/root"})
    assert data == {"a": "${1X}", "b": "$HOME", "c": "${}"}


def test_keys_and_numbers_are_not_expanded(tmp_path: Path) -> None:
    data, _ = load_yaml(write_config(tmp_path, "${KEY}: 1\nn: 2.5\n"), {})
    assert data == {"${KEY}": 1, "n": 2.5}


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server:\n  port: 8080\n  host: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml(path, {})
    assert caught.value.line is not None and caught.value.line >= 3
    assert caught.value.problem.startswith("invalid YAML: ")


def test_an_unsafe_tag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_yaml(write_config(tmp_path, "a: !!python/object/apply:os.system ['true']\n"), {})


def test_an_empty_file_is_none_with_no_lines(tmp_path: Path) -> None:
    data, lines = load_yaml(write_config(tmp_path, "# nothing yet\n"), {})
    assert data is None and lines.line_of(("server",)) is None


def test_merge_keys_are_not_indexed_as_keys(tmp_path: Path) -> None:
    text = "base: &base\n  weight: 2\nchat:\n  <<: *base\n  name: chat\n"
    data, lines = load_yaml(write_config(tmp_path, text), {})
    assert data["chat"] == {"weight": 2, "name": "chat"}
    assert lines.line_of(("chat", "<<")) == 3  # not a key of the file: its parent's line
    assert lines.line_of(("chat", "name")) == 5


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(tmp_path / "absent.yaml", {})
    assert caught.value.line is None
    assert caught.value.problem == "cannot read file: No such file or directory"


def test_the_index_knows_which_values_came_from_the_environment(tmp_path: Path) -> None:
    text = "key: ${API_KEY}\nurl: https://${HOST}/x\nhost: ${UNSET:-local}\nplain: text\n"
    _, lines = load_yaml(write_config(tmp_path, text), {"API_KEY": "sk-live-0123456789", "HOST": "east.example"})
    assert lines.expansions.quote(("key",), "sk-live-0123456789") == "${API_KEY} (value not shown)"
    assert lines.expansions.quote(("url",), "https://east.example/x") == "a value built from ${HOST} (not shown)"
    # A default and a plain value were written in the file: they may be quoted.
    assert lines.expansions.quote(("host",), "local") == "'local'"
    assert lines.expansions.quote(("plain",), "text") == "'text'"
