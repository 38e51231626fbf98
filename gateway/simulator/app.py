"""Builds the simulator: a Starlette app with the control API, the data plane, and realtime."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.simulator.control import control_routes
from gateway.simulator.delivery import RAW_SEND_KEY
from gateway.simulator.endpoint import model_endpoint
from gateway.simulator.management import management_routes
from gateway.simulator.realtime import realtime_routes
from gateway.simulator.settings import SimulatorSettings
from gateway.simulator.state import SimulatorState

_DEFAULT_SETTINGS = SimulatorSettings()
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _SimulatorApp(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # Faults that drop connections need the server's own send (see delivery.py).
            scope[RAW_SEND_KEY] = send
        await super().__call__(scope, receive, send)


def create_simulator_app(settings: SimulatorSettings = _DEFAULT_SETTINGS) -> Starlette:
    state = SimulatorState(settings)
    routes = [
        *control_routes(state),
        *realtime_routes(state),
        *management_routes(state),  # Azure's management API (ARM) for the simulated account
        # Everything else is the data plane, so unknown paths get Azure's 404 body, not Starlette's.
        Route("/{path:path}", model_endpoint(state), methods=_ALL_METHODS),
    ]
    app = _SimulatorApp(routes=routes)
    app.state.simulator = state
    return app
