"""The reservations one request holds, each ended exactly once: settled with what was used, or refunded.

The dispatcher opens one per attempt it admits and ends those that fail at once, so a retry can use the
room; the request's finish step (reply/finish.py) settles the answering one and refunds whatever is still
open, whatever ended the request (an error, a bug, a cancelled task). Ending twice does nothing, so no
reservation is charged or refunded twice, and none outlives its request.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.limits.admission import Admission, Admitted


class Ledger:
    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._open: list[Admitted] = []
        self.suspends = admission.suspends  # whether settling or refunding can yield to the event loop

    def opened(self, admitted: Admitted) -> None:
        self._open.append(admitted)

    @property
    def open_count(self) -> int:
        return len(self._open)

    async def settle(self, admitted: Admitted, used_tokens: int | None, azure_headers: Mapping[str, str]) -> None:
        """Charge what the answer used (None: the estimate stays charged) and take in Azure's numbers."""
        if self._close(admitted):
            await self._admission.settle(admitted, used_tokens, azure_headers)

    async def refund(self, admitted: Admitted) -> None:
        if self._close(admitted):
            await self._admission.refund(admitted)

    async def refund_open(self) -> None:
        """Give back every reservation not yet ended: the request is over without using them."""
        while self._open:
            await self._admission.refund(self._open.pop())

    def _close(self, admitted: Admitted) -> bool:
        for index, held in enumerate(self._open):
            if held is admitted:
                del self._open[index]
                return True
        return False
