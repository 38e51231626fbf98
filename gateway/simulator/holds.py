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

    def _gate(self, name: str) -> asyncio.Event:
        gate = self._gates.get(name)
        if gate is None:
            gate = self._gates[name] = asyncio.Event()
        return gate

    async def wait(self, name: str) -> None:
        gate = self._gate(name)
        self._waiting[name] += 1
        try:
            await gate.wait()
        finally:
            self._waiting[name] -= 1

    def release(self, name: str) -> int:
        """Open the gate; returns how many responses were waiting at it."""
        self._gate(name).set()
        return self._waiting[name]

    def clear(self) -> None:
        for gate in self._gates.values():
            gate.set()
        # Waiters still count themselves out of `_waiting` as they wake, so it is not reset here.
        self._gates = {}

    def describe(self) -> dict[str, dict[str, object]]:
        return {name: {"released": gate.is_set(), "waiting": self._waiting[name]} for name, gate in self._gates.items()}
