"""Server-side counters per transport, counted at the socket, and process figures.

Counters only grow (except `open`); a caller diffs two snapshots to measure a window.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

from lab.names import CHAT, TRANSPORT_PATHS, TRANSPORTS

TRANSPORT_BY_PATH = {path: transport for transport, path in TRANSPORT_PATHS.items()}
OTHER = "other"


def transport_of(path: str) -> str:
    """The transport a request path belongs to: 'chat' for the chat endpoints, 'other' for
    the page and control endpoints."""
    path = path.split("?", 1)[0]
    if path == "/chat" or path.startswith("/chat/"):
        return CHAT
    return TRANSPORT_BY_PATH.get(path, OTHER)


@dataclass
class TransportCounters:
    requests: int = 0
    responses: Counter = field(default_factory=Counter)
    bytes_in: int = 0
    bytes_out: int = 0
    open: int = 0
    events_sent: int = 0
    empty_responses: int = 0
    """Poll answers that carried no event (200 with none, or a long poll's 204)."""
    disconnects: int = 0
    """Responses cut short because the client went away."""
    write_timeouts: int = 0
    """Responses ended because the client read nothing for --write-timeout seconds."""

    def snapshot(self) -> dict:
        return {
            "requests": self.requests,
            "responses": {str(status): n for status, n in sorted(self.responses.items())},
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "open": self.open,
            "events_sent": self.events_sent,
            "empty_responses": self.empty_responses,
            "disconnects": self.disconnects,
            "write_timeouts": self.write_timeouts,
        }


@dataclass
class ChatCounters:
    """Chat answers (POST /chat): each a generator that ends finished or aborted."""

    answers_started: int = 0
    answers_finished: int = 0
    answers_aborted: int = 0
    """Answers that ended before their last token: the client left, or POST /drop."""
    generating: int = 0
    """Answers being generated now: 0 once every client has finished or gone."""
    tokens_generated: int = 0
    tokens_sent: int = 0

    def snapshot(self) -> dict:
        return dict(vars(self))


@dataclass
class ConnectionCounters:
    """The server's client connections: how many, and how the unwanted ones ended."""

    limit: int = 0
    open: int = 0
    idle: int = 0
    """Open connections waiting for a request (new, or kept alive between requests)."""
    idle_closed: int = 0
    """Keep-alive connections closed after --idle-timeout seconds without a request."""
    head_timeouts: int = 0
    """Requests whose head (or body) did not arrive within --header-timeout seconds."""
    evicted: int = 0
    """Idle connections closed to make room for a new one at the connection limit."""
    refused: int = 0
    """New connections answered 503 at once: the limit was reached and none was idle."""

    def snapshot(self) -> dict:
        return dict(vars(self))


class Metrics:
    def __init__(self) -> None:
        self.transports = {name: TransportCounters() for name in (*TRANSPORTS, CHAT, OTHER)}
        self.connections = ConnectionCounters()
        self.chat = ChatCounters()
        self.started = time.time()

    def __getitem__(self, transport: str) -> TransportCounters:
        return self.transports[transport]

    def snapshot(self) -> dict:
        return {
            "time": time.time(),
            "uptime_s": time.time() - self.started,
            "transports": {name: c.snapshot() for name, c in self.transports.items()},
            "connections": self.connections.snapshot(),
            "chat": self.chat.snapshot(),
            "process": process_figures(),
        }


def process_figures() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "pid": os.getpid(),
        "cpu_user_s": usage.ru_utime,
        "cpu_system_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_bytes": current_rss_bytes(),
    }


def current_rss_bytes() -> int:
    """Resident memory now (Linux reads /proc; elsewhere the peak is the best available)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
