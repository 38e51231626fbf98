"""The responses one simulated resource keeps, for retrieve, delete, cancel, input items and as the
conversation a `previous_response_id` continues.

Each simulator app has its own store (in SimulatorState), so two simulators are two Azure resources: a
response made on one is unknown to the other, as on Azure.

Background responses finish at once but are reported "queued" when created; the first retrieve after that
shows them "completed", and a cancel before it shows them "cancelled". A test polls exactly once, and never
waits on a clock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from gateway.simulator.errors import not_cancellable, previous_response_not_found, response_not_found

# Azure keeps responses for 30 days; a simulator only needs the recent ones, and its memory stays bounded.
MAX_STORED = 10_000


@dataclass(slots=True)
class StoredResponse:
    # The finished response object, as a retrieve answers it.
    document: dict[str, Any]
    # This request's input items with their ids, as input_items lists them.
    input_items: list[dict[str, Any]]
    # The conversation before this response's output (the previous responses', then this input), and the
    # output; both as the items the text is drawn from, without ids.
    context: list[dict[str, Any]]
    output: list[dict[str, Any]]
    background: bool = False
    # A background response whose creation answered "queued" and that nobody has retrieved since.
    pending: bool = False

    @property
    def id(self) -> str:
        return str(self.document["id"])

    def conversation(self) -> list[dict[str, Any]]:
        return [*self.context, *self.output]


def queued_view(document: dict[str, Any]) -> dict[str, Any]:
    """What creating a background response answers: the response before the model has run."""
    return {**document, "status": "queued", "output": [], "usage": None, "incomplete_details": None}


class ResponseStore:
    def __init__(self, limit: int = MAX_STORED) -> None:
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()
        self._limit = limit

    def add(self, stored: StoredResponse) -> None:
        self._responses[stored.id] = stored
        while len(self._responses) > self._limit:
            self._responses.popitem(last=False)

    def conversation(self, previous_response_id: str) -> list[dict[str, Any]]:
        """The conversation a new response continues; Azure's 400 when this resource does not have it."""
        stored = self._responses.get(previous_response_id)
        if stored is None:
            raise previous_response_not_found(previous_response_id)
        return stored.conversation()

    def retrieve(self, response_id: str) -> dict[str, Any]:
        stored = self._get(response_id)
        stored.pending = False
        return stored.document

    def delete(self, response_id: str) -> dict[str, Any]:
        self._get(response_id)
        del self._responses[response_id]
        # Azure's REST reference (Foundry, "Delete a model response"): `object` is always "response".
        return {"id": response_id, "object": "response", "deleted": True}

    def cancel(self, response_id: str) -> dict[str, Any]:
        stored = self._get(response_id)
        if not stored.background:
            raise not_cancellable()
        if stored.pending:
            # Cancelled before it ran: no output, and nothing of it in a conversation that continues it.
            stored.pending = False
            stored.document = {**queued_view(stored.document), "status": "cancelled"}
            stored.output = []
        # Cancelling a finished response changes nothing, as on OpenAI.
        return stored.document

    def input_items(self, response_id: str) -> list[dict[str, Any]]:
        return self._get(response_id).input_items

    def _get(self, response_id: str) -> StoredResponse:
        stored = self._responses.get(response_id)
        if stored is None:
            raise response_not_found(response_id)
        return stored
