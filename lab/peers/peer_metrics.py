"""What a peer counts about itself, in the shape of the lab server's /metrics, so that the
sweep reads a peer's snapshot as it reads the lab's.

A peer cannot count its socket: a framework writes the head and the chunk framing where the
application does not see them. Its snapshot says so (`"socket_bytes": false`), and the
sweep then takes the bytes the clients read instead.
"""

from __future__ import annotations

import threading
import time

from lab.metrics import TransportCounters, process_figures

PEER_TRANSPORTS = ("short_polling", "long_polling", "sse")
"""The transports a peer serves (the lab's contract without WebSocket)."""


class PeerCounters:
    """Requests, answers, open streams and events sent, per transport. The threaded peers
    count from many threads at once, hence the lock."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.transports = {name: TransportCounters() for name in PEER_TRANSPORTS}
        self._lock = threading.Lock()

    def request(self, transport: str) -> None:
        with self._lock:
            counters = self.transports[transport]
            counters.requests += 1
            counters.open += 1

    def answered(self, transport: str, status: int, events: int = 0) -> None:
        """A request is over: its status, and the events its answer carried."""
        with self._lock:
            counters = self.transports[transport]
            counters.open -= 1
            counters.responses[status] += 1
            counters.events_sent += events
            if status in (200, 204) and events == 0 and transport != "sse":
                counters.empty_responses += 1

    def sent(self, transport: str, events: int = 1) -> None:
        """Events written on an open stream."""
        with self._lock:
            self.transports[transport].events_sent += events

    def snapshot(self, source: dict, process: dict | None = None) -> dict:
        """The /metrics answer. `source`: at least `last_id`, `rate` and `history`;
        `process`: the server's CPU and memory (default: this process's)."""
        with self._lock:
            transports = {name: c.snapshot() for name, c in self.transports.items()}
        return {
            "server": self.server,
            "time": time.time(),
            "socket_bytes": False,
            "transports": transports,
            "source": source,
            "process": process if process is not None else process_figures(),
        }
