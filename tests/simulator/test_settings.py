"""The simulator's settings (settings.py): known models only, and a mapping nobody can change afterwards."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.simulator import DEFAULT_DEPLOYMENTS, SimulatorSettings
from gateway.simulator.catalog import MODELS
from gateway.simulator.settings import FrozenMapping


def test_settings_reject_unknown_models_and_copy_the_mapping() -> None:
    with pytest.raises(ValueError, match="gpt-9"):
        SimulatorSettings(deployments={"x": "gpt-9"})
    mine = {"a": "gpt-4"}
    settings = SimulatorSettings(deployments=mine)
    mine["b"] = "gpt-4"
    assert dict(settings.deployments) == {"a": "gpt-4"}
    assert len(DEFAULT_DEPLOYMENTS) == 23
    assert all(name == model for name, model in DEFAULT_DEPLOYMENTS.items())


def test_defaults() -> None:
    settings = SimulatorSettings()
    assert (settings.api_key, settings.region) == ("simulator-key", "swedencentral")
    assert settings.deployments is DEFAULT_DEPLOYMENTS
    assert set(DEFAULT_DEPLOYMENTS) == set(MODELS)


def test_every_unknown_model_is_named_in_order() -> None:
    with pytest.raises(ValueError, match=r"unknown model\(s\) for the simulator: gpt-8, gpt-9$"):
        SimulatorSettings(deployments={"a": "gpt-9", "b": "gpt-4", "c": "gpt-8"})


def test_settings_are_immutable_and_hashable() -> None:
    one = SimulatorSettings(deployments={"a": "gpt-4", "b": "whisper"})
    two = SimulatorSettings(deployments={"b": "whisper", "a": "gpt-4"})
    assert one == two
    assert hash(one) == hash(two)
    assert hash(one) != hash(SimulatorSettings(deployments={"a": "gpt-4"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.api_key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        one.deployments["c"] = "gpt-4"  # type: ignore[index]


def test_frozen_mapping_reads_like_a_dict() -> None:
    mapping = FrozenMapping({"a": "1", "b": "2"})
    assert list(mapping) == ["a", "b"]
    assert len(mapping) == 2
    assert mapping["b"] == "2"
    assert mapping.get("c") is None
    assert mapping == {"a": "1", "b": "2"}
    assert repr(mapping) == "FrozenMapping({'a': '1', 'b': '2'})"
    with pytest.raises(KeyError):
        mapping["c"]


def test_a_frozen_mapping_is_kept_as_it_is() -> None:
    mapping = FrozenMapping({"a": "gpt-4"})
    assert SimulatorSettings(deployments=mapping).deployments is mapping
