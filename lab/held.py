"""Requests the server holds open (SSE streams, waiting long polls): the limit, the drop
switch, and noticing a client that has gone away while nothing is being written to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import gevent.event

CLIENT_SOCKET_KEY = "lab.client_socket"
"""WSGI environ key under which the server puts the client's socket (absent elsewhere)."""


class TooManyHeld(Exception):
    """The server already holds its maximum of streams and long polls."""


class Hold:
    """One held request. `wait` sleeps until news, a drop, the client leaving, or a timeout."""

    def __init__(self, registry: HeldRequests, client_socket: socket.socket | None) -> None:
        self._registry = registry
        self.dropped = registry._drop_signal
        self.client_gone = gevent.event.Event()
        self._watcher = None
        if client_socket is not None:
            self._watch(client_socket)

    def _watch(self, client_socket: socket.socket) -> None:
        # A held client sends nothing until it gets an answer, so the socket turning readable
        # means it closed (or, rarely, pipelined a request). One I/O watcher in the event loop
        # notices this without a greenlet per client.
        raw = getattr(client_socket, "_sock", client_socket)
        try:
            fileno = client_socket.fileno()
        except OSError:
            self.client_gone.set()
            return
        loop = gevent.get_hub().loop
        self._watcher = loop.io(fileno, 1)

        def on_readable() -> None:
            try:
                peeked = raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                peeked = b""
            self._stop_watching()
            if not peeked:
                self.client_gone.set()

        self._watcher.start(on_readable)

    def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.close()
            self._watcher = None

    @property
    def ended(self) -> bool:
        return self.dropped.is_set() or self.client_gone.is_set()

    def wait(self, news: gevent.event.Event, timeout: float | None) -> bool:
        """Sleep until news, a drop or the client leaving (True), or the timeout (False)."""
        return bool(gevent.wait([news, self.dropped, self.client_gone], timeout=timeout, count=1))

    def close(self) -> None:
        self._stop_watching()


class HeldRequests:
    """Counts held requests against a limit and can end them all at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._drop_signal = gevent.event.Event()

    @contextmanager
    def hold(self, environ: dict) -> Iterator[Hold]:
        """Register a held request for the `with` block; raise TooManyHeld over the limit."""
        if self.count >= self.limit:
            raise TooManyHeld(self.limit)
        self.count += 1
        held = Hold(self, environ.get(CLIENT_SOCKET_KEY))
        try:
            yield held
        finally:
            held.close()
            self.count -= 1

    def drop_all(self) -> int:
        """End every held request now; return how many there were."""
        dropped = self.count
        signal, self._drop_signal = self._drop_signal, gevent.event.Event()
        signal.set()
        return dropped
