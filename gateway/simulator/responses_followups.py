"""What the Responses API does with a stored response: retrieve, delete, cancel, and list its input items.

These belong to the resource that made the response, not to a deployment; the store (responses_store.py)
answers 404 for a response this simulator never made or no longer has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.simulator.delivery import Reply, json_reply
from gateway.simulator.errors import invalid_value
from gateway.simulator.params import Params
from gateway.simulator.responses_store import ResponseStore
from gateway.simulator.urls import Followup


def answer_followup(store: ResponseStore, followup: Followup, response_id: str, query: Mapping[str, str]) -> Reply:
    if followup is Followup.RETRIEVE:
        return json_reply(store.retrieve(response_id))
    if followup is Followup.DELETE:
        return json_reply(store.delete(response_id))
    if followup is Followup.CANCEL:
        return json_reply(store.cancel(response_id))
    return json_reply(item_page(store.input_items(response_id), Params(dict(query), from_form=True)))


def item_page(items: list[dict[str, Any]], query: Params) -> dict[str, Any]:
    """One page of a response's input items: `order` (desc by default), after/before an item id, `limit`."""
    limit = query.integer("limit", 20, 1, 100)
    order = query.choice("order", ("asc", "desc"), "desc")
    ordered = items if order == "asc" else items[::-1]
    ids = [item["id"] for item in ordered]
    start, stop = 0, len(ordered)
    after, before = query.text("after"), query.text("before")
    if after is not None:
        start = _position(ids, "after", after) + 1
    if before is not None:
        stop = _position(ids, "before", before)
    window = ordered[start:stop]
    page = window[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(window) > limit,
    }


def _position(ids: list[str], param: str, item_id: str) -> int:
    if item_id not in ids:
        raise invalid_value(param, f"no input item of this response has the id '{item_id}'.")
    return ids.index(item_id)
