"""The lab's vocabulary, defined once: transports, arrival kinds, and Locust's entry names.

Pure: every part of the lab (server, scenarios, sweep, charts, report, theory) imports its
names from here, so that adding a transport starts with one line below.
"""

from __future__ import annotations

TRANSPORTS = ("short_polling", "long_polling", "sse", "websocket")
"""Every transport, in the order the lab shows them."""

TRANSPORT_LABELS = {
    "short_polling": "short polling",
    "long_polling": "long polling",
    "sse": "SSE",
    "websocket": "WebSocket",
}
"""How a transport is named in running text."""

TRANSPORT_PATHS = {
    "short_polling": "/poll",
    "long_polling": "/longpoll",
    "sse": "/sse",
    "websocket": "/ws",
}
"""The address each transport is served at."""

CHAT_TRANSPORTS = ("short_polling", "long_polling", "sse")
"""The transports a chat answer is served over (POST /chat streams it; /chat/jobs polls it)."""

LAB_SERVER = "lab"
"""The lab's own server, as a sweep's `server` names it (the others are peers, lab.peers)."""

CHAT = "chat"
"""The chat workload (a question answered token by token, lab.chat) and the counters of its
endpoints (`/chat`, `/chat/jobs/...`) in /metrics."""
TICKER = "ticker"
"""The ticker workload: the event source's stream of events, the lab's main comparison."""

ARRIVALS = ("fixed", "poisson")
"""How the ticker spaces events: evenly, or as a Poisson process with the same mean rate."""

EVENT_ENTRY = "EVENT"
"""The Locust request type under which every delivered event is recorded (name: the
transport; response time: its delivery latency)."""


def sequence_entry(transport: str) -> str:
    """The Locust entry name under which a transport's lost and repeated events are failures."""
    return f"{transport} sequence"


def is_sequence_entry(name: str) -> bool:
    """A sequence failure: "<transport> sequence", or a chat answer's "chat sequence <t>"."""
    return name.endswith(" sequence") or name.startswith(f"{CHAT} sequence ")


def transport_label(transport: str, capital: bool = False) -> str:
    text = TRANSPORT_LABELS.get(transport, transport)
    return text[0].upper() + text[1:] if capital else text
