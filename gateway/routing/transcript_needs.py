"""What a transcription or translation form needs from a model: the transcript format it asks for, and timestamps.

They are needs as routing/needs.py has them (that module tells and checks them with its own), read from the
form's text fields rather than a JSON body: a leaf passes over a model that cannot answer in the asked format
(gpt-4o(-mini)-transcribe return only json and text; whisper also srt, vtt and verbose_json), and when no model of
the leaf can, the 400 names the option. The model table says what each model returns (`transcript_formats`);
a model whose formats it does not list lacks none of these.

Timestamps come only in a verbose_json transcript: the SDK says "response_format must be set verbose_json to use
timestamp granularities" and the wire reference (§6.1) that they require it. But neither records Azure refusing
the field with another format, and the simulator (gateway/simulator/transcripts.py) takes it and answers json
without timestamps, so the gateway does not refuse that pairing: Azure has the last word on it. A request that
sends `timestamp_granularities` still needs a model that can return timestamps at all (one that returns
verbose_json and does not refuse the field, which the table's `drops` says the gpt-4o transcribe models do), so
it goes to whisper with the field as the client sent it.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.routing.model_facts import TRANSCRIPT_FORMATS, ModelFacts

TRANSCRIPT_OPERATIONS = frozenset({"audio/transcriptions", "audio/translations"})
TIMESTAMPS = "timestamps"
_TIMESTAMPS_FIELD = "timestamp_granularities"  # the SDK sends `timestamp_granularities[]`, one part per value
_NEED_OF_FORMAT = {fmt: f"transcript_{fmt}" for fmt in sorted(TRANSCRIPT_FORMATS)}

# Each need, in the order a misfit is told, with what a model lacking it is said to have none of (as NEEDS).
TRANSCRIPT_NEEDS: dict[str, str] = {
    **{need: f"{fmt} transcripts (response_format)" for fmt, need in _NEED_OF_FORMAT.items()},
    TIMESTAMPS: f"timestamps ({_TIMESTAMPS_FIELD})",
}
# The request field that makes each need: what a 400 for a need no model of a leaf meets names as its `param`.
PARAM_OF_NEED: dict[str, str] = {need: "response_format" for need in _NEED_OF_FORMAT.values()} | {
    TIMESTAMPS: _TIMESTAMPS_FIELD
}


def transcript_needs(operation: str, form: Mapping[str, list[str]]) -> frozenset[str]:
    """The needs of a transcription or translation form; any other form needs none of these."""
    if operation not in TRANSCRIPT_OPERATIONS:
        return frozenset()
    needs: set[str] = set()
    asked = form.get("response_format")
    # The first value, as dispatch/adapt.py reads it; a name Azure does not know is Azure's to refuse.
    need = _NEED_OF_FORMAT.get(asked[0]) if asked else None
    if need is not None:
        needs.add(need)
    if any(name.partition("[")[0] == _TIMESTAMPS_FIELD and any(values) for name, values in form.items()):
        needs.add(TIMESTAMPS)
    return frozenset(needs)


def transcript_lacks(facts: ModelFacts) -> frozenset[str]:
    """The transcript needs `facts`' model cannot meet; none when the table does not list its formats."""
    lacks: set[str] = set()
    formats = facts.transcript_formats
    if formats is not None:
        lacks.update(need for fmt, need in _NEED_OF_FORMAT.items() if fmt not in formats)
        if "verbose_json" not in formats:
            lacks.add(TIMESTAMPS)
    if any(field == _TIMESTAMPS_FIELD for field, _ in facts.drops):
        lacks.add(TIMESTAMPS)
    return frozenset(lacks)
