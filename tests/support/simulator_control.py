"""A test-side client for the simulator's /sim control API: inject faults, read what reached "Azure"."""

from __future__ import annotations

from typing import Any

import httpx


class SimulatorControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=30)

    def add_fault(self, **fault: Any) -> str:
        response = self._http.post("/sim/faults", json=fault)
        response.raise_for_status()
        return str(response.json()["id"])

    def release(self, name: str) -> None:
        self._http.post(f"/sim/release/{name}").raise_for_status()

    def wait_for_hold(self, name: str, timeout: float = 10.0) -> None:
        """Returns once a response has reached hold `name`: the simulator answers at that moment."""
        self._http.get(f"/sim/holds/{name}/reached", timeout=timeout).raise_for_status()

    def waiting(self, name: str) -> int:
        """How many responses wait at hold `name` now."""
        response = self._http.get("/sim/holds")
        response.raise_for_status()
        return int(response.json().get(name, {}).get("waiting", 0))

    def requests(self) -> list[dict[str, Any]]:
        response = self._http.get("/sim/requests")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def last_request(self) -> dict[str, Any]:
        return self.requests()[-1]

    def reset(self) -> None:
        self._http.delete("/sim/faults").raise_for_status()
        self._http.delete("/sim/requests").raise_for_status()

    def close(self) -> None:
        self._http.close()
