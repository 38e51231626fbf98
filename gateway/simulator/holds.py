"""Named gates that hold responses mid-flight until a test releases them.

A release is remembered: releasing a name before any response reaches its hold lets that hold pass
straight through, so tests never race the server. Clearing opens every gate, so nothing waits forever.
"""

from __future__ import annotations

import asyncio
from collections import Counter


class Holds:
    def __init__(self) -> None:
        self._gates: dict[str, asyncio.Event] = {}
        self._waiting: Counter[str] = Counter()
        self._arrivals: dict[str, asyncio.Event] = {}

    def _gate(self, name: str) -> asyncio.Event:
        gate = self._gates.get(name)
        if gate is None:
            gate = self._gates[name] = asyncio.Event()
        return gate

    async def wait(self, name: str) -> None:
        gate = self._gate(name)
        self._waiting[name] += 1
        self._arrival(name).set()
        try:
            await gate.wait()
        finally:
            self._waiting[name] -= 1

    def _arrival(self, name: str) -> asyncio.Event:
        arrival = self._arrivals.get(name)
        if arrival is None:
            arrival = self._arrivals[name] = asyncio.Event()
        return arrival

    async def reached(self, name: str) -> None:
        """Returns once a response has reached hold `name`, so a test can await it instead of polling."""
        await self._arrival(name).wait()

    def release(self, name: str) -> int:
        """Open the gate; returns how many responses were waiting at it."""
        self._gate(name).set()
        return self._waiting[name]

    def clear(self) -> None:
        for gate in self._gates.values():
            gate.set()
        # Waiters still count themselves out of `_waiting` as they wake, so it is not reset here.
        self._gates = {}
        for arrival in self._arrivals.values():
            arrival.set()
        self._arrivals = {}

    def describe(self) -> dict[str, dict[str, object]]:
        return {name: {"released": gate.is_set(), "waiting": self._waiting[name]} for name, gate in self._gates.items()}
