"""What a browser offers in `Sec-WebSocket-Protocol`. Browsers cannot set headers on a WebSocket, so
OpenAI's browser clients send their key and protocol choice as subprotocols:

    realtime, openai-insecure-api-key.<key>[, openai-beta.realtime-v1]

The gateway accepts `realtime` (echoing it is what those clients expect) and never the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

REALTIME = "realtime"
KEY_PREFIX = "openai-insecure-api-key."
BETA = "openai-beta.realtime-v1"


@dataclass(frozen=True, slots=True)
class Offer:
    key: str | None = field(default=None, repr=False)  # a gateway key; repr=False keeps it out of tracebacks
    accept: str | None = None  # the subprotocol to accept: "realtime" when offered
    beta: bool = False  # the beta protocol was asked for


def read_offer(subprotocols: Iterable[str]) -> Offer:
    key: str | None = None
    accept: str | None = None
    beta = False
    for offered in subprotocols:
        offered = offered.strip()
        if offered == REALTIME:
            accept = REALTIME
        elif offered == BETA:
            beta = True
        elif offered.startswith(KEY_PREFIX) and key is None:
            key = offered.removeprefix(KEY_PREFIX) or None
    return Offer(key, accept, beta)
