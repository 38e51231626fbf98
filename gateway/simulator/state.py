"""Everything one simulator instance remembers, created per app so instances never share state."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.simulator.faults import FaultRegistry
from gateway.simulator.recorder import RequestLog
from gateway.simulator.responses_store import ResponseStore
from gateway.simulator.settings import SimulatorSettings


@dataclass(frozen=True, slots=True)
class SimulatorState:
    settings: SimulatorSettings
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    requests: RequestLog = field(default_factory=RequestLog)
    # The Responses API's stored responses: this resource's alone, as on Azure.
    responses: ResponseStore = field(default_factory=ResponseStore)
