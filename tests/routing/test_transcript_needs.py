"""transcript_needs: what a transcription or translation form asks of a model, and what the table says each lacks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.routing.model_facts import TRANSCRIPT_FORMATS, ModelCatalog
from gateway.routing.transcript_needs import (
    PARAM_OF_NEED,
    TIMESTAMPS,
    TRANSCRIPT_NEEDS,
    transcript_lacks,
    transcript_needs,
)

TRANSCRIBE = "audio/transcriptions"


@pytest.mark.parametrize(
    ("operation", "form", "needs"),
    [
        (TRANSCRIBE, {"model": ["auto"]}, set()),
        (TRANSCRIBE, {"response_format": ["srt"]}, {"transcript_srt"}),
        (TRANSCRIBE, {"response_format": ["json"]}, {"transcript_json"}),
        (TRANSCRIBE, {"response_format": ["vtt", "json"]}, {"transcript_vtt"}),  # the first, as adapt reads it
        (TRANSCRIBE, {"response_format": ["subtitles"]}, set()),  # not a format: Azure's to refuse
        ("audio/translations", {"response_format": ["verbose_json"]}, {"transcript_verbose_json"}),
        # The SDK's form of the field, its plain name, and its indexed one all ask for timestamps.
        (TRANSCRIBE, {"timestamp_granularities[]": ["word", "segment"]}, {TIMESTAMPS}),
        (TRANSCRIBE, {"timestamp_granularities": ["segment"]}, {TIMESTAMPS}),
        (TRANSCRIBE, {"timestamp_granularities[0]": ["word"]}, {TIMESTAMPS}),
        (TRANSCRIBE, {"timestamp_granularities[]": [""]}, set()),  # empty: nothing asked
        (
            TRANSCRIBE,
            {"response_format": ["verbose_json"], "timestamp_granularities[]": ["word"]},
            {"transcript_verbose_json", TIMESTAMPS},
        ),
        ("images/edits", {"response_format": ["srt"], "timestamp_granularities[]": ["word"]}, set()),
    ],
)
def test_transcript_needs(operation: str, form: dict[str, list[str]], needs: set[str]) -> None:
    assert transcript_needs(operation, form) == needs


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog()


@pytest.mark.parametrize(
    ("model", "lacks"),
    [
        (
            "gpt-4o-transcribe",
            {"transcript_srt", "transcript_vtt", "transcript_verbose_json", "transcript_diarized_json", TIMESTAMPS},
        ),
        (
            "gpt-4o-mini-transcribe",
            {"transcript_srt", "transcript_vtt", "transcript_verbose_json", "transcript_diarized_json", TIMESTAMPS},
        ),
        ("whisper", {"transcript_diarized_json"}),
        ("gpt-4o-transcribe-diarize", set()),  # the table lists no formats for it: unknown, never a reason to skip
        ("my-speech-model", set()),  # not in the table
        ("gpt-4.1", set()),
    ],
)
def test_what_the_shipped_table_says_a_transcription_model_lacks(
    catalog: ModelCatalog, model: str, lacks: set[str]
) -> None:
    assert transcript_lacks(catalog.facts(model)) == lacks


def test_a_model_that_refuses_the_timestamps_field_lacks_timestamps_whatever_its_formats(
    catalog: ModelCatalog,
) -> None:
    whisper = catalog.facts("whisper")
    refusing = replace(whisper, drops=(*whisper.drops, ("timestamp_granularities", "no timestamps")))
    assert TIMESTAMPS not in transcript_lacks(whisper)
    assert TIMESTAMPS in transcript_lacks(refusing)


def test_every_format_is_a_need_told_by_the_option_that_makes_it() -> None:
    assert set(TRANSCRIPT_NEEDS) == {f"transcript_{fmt}" for fmt in TRANSCRIPT_FORMATS} | {TIMESTAMPS}
    assert set(PARAM_OF_NEED) == set(TRANSCRIPT_NEEDS)
    assert TRANSCRIPT_NEEDS["transcript_srt"] == "srt transcripts (response_format)"
    assert TRANSCRIPT_NEEDS[TIMESTAMPS] == "timestamps (timestamp_granularities)"
    assert (PARAM_OF_NEED["transcript_vtt"], PARAM_OF_NEED[TIMESTAMPS]) == (
        "response_format",
        "timestamp_granularities",
    )
