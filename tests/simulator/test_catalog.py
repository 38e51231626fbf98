"""What each simulated model can do, and Azure's names for the operations (catalog.py)."""

from __future__ import annotations

from gateway.simulator.catalog import (
    AZURE_LABELS,
    MODELS,
    MULTIPART_OPERATIONS,
    OPERATION_IDS,
    ModelSpec,
    Operation,
)


def test_every_operation_has_its_azure_label_and_operation_id() -> None:
    assert set(AZURE_LABELS) == set(Operation)
    assert set(OPERATION_IDS) == set(Operation)
    assert len(set(OPERATION_IDS.values())) == len(Operation)
    assert OPERATION_IDS[Operation.CHAT] == "ChatCompletions_Create"
    assert OPERATION_IDS[Operation.RESPONSES] == "Responses_Create"
    assert AZURE_LABELS[Operation.TRANSCRIPTIONS] == "audioTranscription"


def test_operations_are_named_by_their_url_path() -> None:
    assert Operation("chat/completions") is Operation.CHAT
    assert Operation("audio/translations") is Operation.TRANSLATIONS
    assert str(Operation.IMAGE_EDITS) == "images/edits"


def test_the_uploads_are_the_multipart_operations() -> None:
    assert {Operation.IMAGE_EDITS, Operation.TRANSCRIPTIONS, Operation.TRANSLATIONS} == MULTIPART_OPERATIONS


def test_models_are_keyed_by_their_name_and_every_operation_has_a_model() -> None:
    assert all(name == spec.name for name, spec in MODELS.items())
    assert set().union(*(spec.operations for spec in MODELS.values())) == set(Operation)
    assert all(spec.operations for spec in MODELS.values())


def test_specs_report_the_dated_model_and_their_operations() -> None:
    chat_and_responses = frozenset({Operation.CHAT, Operation.RESPONSES})
    assert MODELS["gpt-4.1"] == ModelSpec("gpt-4.1", chat_and_responses, "gpt-4.1-2025-04-14")
    assert MODELS["whisper"].operations == {Operation.TRANSCRIPTIONS, Operation.TRANSLATIONS}
    assert MODELS["gpt-image-1"].operations == {Operation.IMAGE_GENERATIONS, Operation.IMAGE_EDITS}
    assert MODELS["text-embedding-ada-002"].response_model == "ada"


def test_only_the_audio_preview_model_answers_chat_in_audio_and_only_realtime_models_do_realtime() -> None:
    assert [name for name, spec in MODELS.items() if spec.audio_output] == ["gpt-4o-mini-audio-preview"]
    realtime = [name for name, spec in MODELS.items() if Operation.REALTIME in spec.operations]
    assert realtime == ["gpt-4o-mini-realtime-preview"]
    assert MODELS["gpt-4o-mini-realtime-preview"].operations == {Operation.REALTIME}


def test_the_responses_api_is_served_by_the_models_azure_lists_for_it() -> None:
    serving = {name for name, spec in MODELS.items() if Operation.RESPONSES in spec.operations}
    assert serving == {
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-4o",
        "gpt-4o-mini",
        "o3-mini",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
    }
    assert all(Operation.CHAT in MODELS[name].operations for name in serving)


def test_only_o_series_and_gpt_5_models_reason() -> None:
    reasoning = {name for name, spec in MODELS.items() if spec.reasoning}
    assert reasoning == {"o3-mini", "o4-mini", "gpt-5", "gpt-5-mini"}
    assert MODELS["o4-mini"].response_model == "o4-mini-2025-04-16"
