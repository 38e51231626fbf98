"""GET /openai/models and /openai/v1/models: the configured deployments as model objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.simulator.catalog import MODELS, Operation
from gateway.simulator.delivery import Reply, json_reply
from gateway.simulator.errors import SimulatorError

# A fixed creation time keeps listings byte-for-byte stable across runs.
_CREATED = 1_744_588_800


def list_models(deployments: Mapping[str, str], model_id: str | None) -> Reply:
    if model_id is None:
        data = [_model(name, model) for name, model in deployments.items()]
        return json_reply({"object": "list", "data": data})
    if model_id not in deployments:
        raise SimulatorError(
            404,
            {
                "error": {
                    "code": "model_not_found",
                    "message": f"The model '{model_id}' does not exist.",
                    "param": "model",
                    "type": "invalid_request_error",
                }
            },
        )
    return json_reply(_model(model_id, deployments[model_id]))


def _model(deployment: str, model: str) -> dict[str, Any]:
    operations = MODELS[model].operations
    return {
        "id": deployment,
        "object": "model",
        "created": _CREATED,
        "owned_by": "system",
        "model": model,
        "capabilities": {
            "chat_completion": Operation.CHAT in operations,
            "completion": Operation.COMPLETIONS in operations,
            "embeddings": Operation.EMBEDDINGS in operations,
            "inference": True,
            "fine_tune": False,
        },
        "lifecycle_status": "generally-available",
    }
