"""Azure content-filter annotations, and the trigger word that makes the simulator block a prompt."""

from __future__ import annotations

from typing import Any

# A fixed, unmistakable trigger keeps content filtering testable without any real classifier.
TRIGGER = "forbidden-content"
TRIGGER_BYTES = TRIGGER.encode()

_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def _safe() -> dict[str, Any]:
    return {name: {"filtered": False, "severity": "safe"} for name in _CATEGORIES}


def prompt_filter_results(count: int = 1) -> list[dict[str, Any]]:
    results = []
    for index in range(count):
        annotations = _safe()
        annotations["jailbreak"] = {"filtered": False, "detected": False}
        results.append({"prompt_index": index, "content_filter_results": annotations})
    return results


def completion_filter_results() -> dict[str, Any]:
    annotations = _safe()
    annotations["protected_material_code"] = {"filtered": False, "detected": False}
    annotations["protected_material_text"] = {"filtered": False, "detected": False}
    return annotations


def blocked_prompt_result() -> dict[str, Any]:
    annotations = _safe()
    annotations["hate"] = {"filtered": True, "severity": "high"}
    annotations["jailbreak"] = {"filtered": False, "detected": False}
    return annotations
