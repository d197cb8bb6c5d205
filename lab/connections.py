"""The server's client connections: a cap below the open-file limit, and who is idle.

Each client holds a socket, and a process can open only so many files. A server that lets
idle sockets use them all can accept nobody else (EMFILE): 20,200 idle connections did that
to the first version of the lab. So connections are capped below the limit. At the cap a
new client still gets in when some connection is idle (waiting for a request): the oldest
idle one is closed to make room. Only when every connection is busy is the newcomer answered
503 at once.
"""

from __future__ import annotations

import contextlib
import resource
import socket

from lab.metrics import ConnectionCounters

FILES_RESERVED = 100
"""Open files kept free for everything that is not a client (the listener, the event loop,
static files, /proc reads) and for the connections accepted in one turn of the event loop
before the limit is applied to them (LabServer.max_accept)."""


def raise_open_file_limit() -> int:
    """Allow as many open files as the system lets this process have; return that number."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1_000_000


def connection_cap(asked: int, open_file_limit: int) -> tuple[int, str | None]:
    """The connection limit to use, and a sentence when the one asked for cannot be had."""
    room = max(1, open_file_limit - FILES_RESERVED)
    if not asked:
        return room, None
    if asked > room:
        return room, (
            f"--max-connections {asked} is more than the open-file limit allows "
            f"({open_file_limit} files, {FILES_RESERVED} kept for the server itself); "
            f"using {room}"
        )
    return asked, None


class Connections:
    """Open client connections, in order of how long each has been idle."""

    def __init__(self, counters: ConnectionCounters, limit: int) -> None:
        self.counters = counters
        counters.limit = limit
        self._open: set = set()
        # Insertion-ordered: the first key is the connection idle the longest.
        self._idle: dict = {}

    @property
    def limit(self) -> int:
        return self.counters.limit

    def __len__(self) -> int:
        return len(self._open)

    def full(self) -> bool:
        return len(self._open) >= self.limit

    def opened(self, connection) -> None:
        self._open.add(connection)
        self.counters.open = len(self._open)

    def closed(self, connection) -> None:
        self._open.discard(connection)
        self._idle.pop(connection, None)
        self.counters.open = len(self._open)
        self.counters.idle = len(self._idle)

    def idle(self, connection) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None
        self.counters.idle = len(self._idle)

    def busy(self, connection) -> None:
        if self._idle.pop(connection, 0) is None:
            self.counters.idle = len(self._idle)

    def evict_oldest_idle(self) -> bool:
        """Close the connection idle the longest; False when none is idle."""
        while self._idle:
            connection = next(iter(self._idle))
            del self._idle[connection]
            self.counters.idle = len(self._idle)
            if connection.evict():
                self.counters.evicted += 1
                return True
        return False


def refuse(client_socket: socket.socket, body: bytes) -> None:
    """Answer a connection that cannot be served with 503 and close it, without waiting."""
    head = (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    raw = getattr(client_socket, "_sock", client_socket)
    try:
        raw.send(head + body)  # one try: a client that cannot take 200 bytes gets nothing
    except OSError:
        pass
    finally:
        client_socket.close()
