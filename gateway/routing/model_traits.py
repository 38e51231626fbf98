"""What each served model can do: its context window, the tasks it serves, and what it lacks of what a request
may need (image input, structured outputs, tools, the Responses API, ...: routing/needs.py).

Defaults come from the project's model table (via ModelCatalog); a deployment's config overrides them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.routing.model_facts import ModelCatalog
from gateway.routing.needs import lacking
from gateway.settings.schema import DeploymentSettings

_TASKS_BY_MODE: dict[str, frozenset[str]] = {
    "chat": frozenset({"chat"}),
    "responses": frozenset({"chat"}),
    "completion": frozenset({"completion"}),
    "embedding": frozenset({"embeddings"}),
    "image_generation": frozenset({"image_generation", "image_edit"}),
    "image_edit": frozenset({"image_generation", "image_edit"}),
    "audio_speech": frozenset({"text_to_speech"}),
    "audio_transcription": frozenset({"transcription"}),
    "realtime": frozenset({"realtime"}),
}


@dataclass(frozen=True, slots=True)
class ModelTraits:
    model: str
    context_window: int | None  # prompt plus output, in tokens; None: unknown, never a reason to skip
    vision: bool
    tasks: frozenset[str]
    source: str  # where the window came from: config, table, none
    # Needs it cannot meet, from the table (none for a model the table does not list: unknown is never a reason
    # to skip), with image input going by `vision`.
    lacks: frozenset[str] = frozenset()


def default_tasks(model: str, mode: str | None) -> frozenset[str]:
    tasks = set(_TASKS_BY_MODE.get(mode or "", frozenset()))
    if model.startswith("whisper"):
        tasks.add("translation")  # only whisper translates on Azure
    if "audio-preview" in model:
        tasks.add("audio_generation")
    return frozenset(tasks)


class ModelTraitsTable:
    def __init__(self, traits: Iterable[ModelTraits]) -> None:
        self._traits = {item.model: item for item in traits}

    def get(self, model: str) -> ModelTraits | None:
        return self._traits.get(model)

    def serves(self, model: str) -> bool:
        return model in self._traits

    @classmethod
    def build(cls, deployments: Iterable[DeploymentSettings], catalog: ModelCatalog) -> ModelTraitsTable:
        traits: dict[str, ModelTraits] = {}
        for deployment in deployments:
            if deployment.model in traits:
                continue  # the first deployment of a model speaks for it
            facts = catalog.facts(deployment.model)
            window = deployment.context_window or facts.context_window
            vision = facts.image_input if deployment.vision is None else deployment.vision
            traits[deployment.model] = ModelTraits(
                model=deployment.model,
                context_window=window,
                vision=vision,
                tasks=frozenset(deployment.tasks) if deployment.tasks else default_tasks(deployment.model, facts.mode),
                source="config" if deployment.context_window else facts.source,
                lacks=lacking(facts, vision),
            )
        return cls(traits.values())
