"""A local stand-in for Azure OpenAI, speaking its wire format on loopback for gateway tests.

    app = create_simulator_app(SimulatorSettings(api_key="k"))

Serve it with uvicorn; steer it through the control API under /sim/ (see control.py).
"""

from gateway.simulator.app import create_simulator_app
from gateway.simulator.settings import DEFAULT_DEPLOYMENTS, SimulatorSettings

__all__ = ["DEFAULT_DEPLOYMENTS", "SimulatorSettings", "create_simulator_app"]
