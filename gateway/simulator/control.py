"""The control API under /sim/ (no auth): inject faults, release holds, read the request log.

POST   /sim/faults           {fault}  -> 201 {"id": "fault-N"}     (see faults.py for the fields)
GET    /sim/faults           -> active faults with "times_left"
DELETE /sim/faults           -> 204; clears faults and opens every hold
POST   /sim/release/{name}   -> 200 {"name", "waiting"}; later holds of that name pass through
GET    /sim/holds            -> {name: {"released", "waiting"}}
GET    /sim/requests         -> recorded data-plane requests, oldest first (last 1000)
DELETE /sim/requests         -> 204
GET    /sim/health           -> {"status": "ok"}
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.simulator.faults import parse_fault
from gateway.simulator.state import SimulatorState


def _json(document: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status, media_type="application/json")


def control_routes(state: SimulatorState) -> list[BaseRoute]:
    faults, log = state.faults, state.requests

    async def add_fault(request: Request) -> Response:
        try:
            fault, times = parse_fault(orjson.loads(await request.body()))
        except orjson.JSONDecodeError:
            return _json({"error": "the body must be a JSON object"}, 400)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"id": faults.add(fault, times)}, 201)

    async def list_faults(request: Request) -> Response:
        return _json(faults.describe())

    async def clear_faults(request: Request) -> Response:
        faults.clear()
        return Response(status_code=204)

    async def release(request: Request) -> Response:
        name = request.path_params["name"]
        return _json({"name": name, "waiting": faults.holds.release(name)})

    async def holds(request: Request) -> Response:
        return _json(faults.holds.describe())

    async def hold_reached(request: Request) -> Response:
        name = request.path_params["name"]
        await faults.holds.reached(name)
        return _json({"name": name, "reached": True})

    async def requests(request: Request) -> Response:
        return _json(log.snapshot())

    async def clear_requests(request: Request) -> Response:
        log.clear()
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    # One Mount keeps the data plane's route matching to a single prefix check for all of these.
    routes = [
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/release/{name}", release, methods=["POST"]),
        Route("/holds", holds, methods=["GET"]),
        Route("/holds/{name}/reached", hold_reached, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/requests", clear_requests, methods=["DELETE"]),
        Route("/health", health, methods=["GET"]),
    ]
    return [Mount("/sim", routes=routes)]
