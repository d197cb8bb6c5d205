"""Requests the server holds open (SSE streams, waiting long polls): the limit, the drop
switch, and noticing a client that has gone away while nothing is being written to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import gevent.event
from gevent.hub import Waiter

CLIENT_SOCKET_KEY = "lab.client_socket"
"""WSGI environ key under which the server puts the client's socket (absent elsewhere)."""
CLIENT_GONE_KEY = "lab.client_gone"
"""WSGI environ key set when a held request's client went away: nothing more is written."""
UPGRADE_KEY = "lab.upgrade"
"""WSGI environ key under which an accepted upgrade (a WebSocket) leaves the function that
runs it on the connection, instead of a response body (absent for every other request)."""

DROPPED, SHUTTING_DOWN, CLIENT_GONE, TIMED_OUT = "dropped", "shutting down", "client gone", None


class TooManyHeld(Exception):
    """The server already holds its maximum of streams and long polls."""


class Hold:
    """One held request. `wait` sleeps until news, a drop, the client leaving, or a timeout.

    Each wait parks the request's greenlet on one Waiter that every wake-up source switches
    to. Waiting on several gevent objects at once (gevent.wait) links and unlinks each of
    them on every event, which cost a fan-out to 1,000 streams about 14 us per stream.
    """

    def __init__(self, environ: dict | None = None) -> None:
        self._environ = environ if environ is not None else {}
        self.dropped = False
        self.drop_reason: str | None = None
        """DROPPED (POST /drop) or SHUTTING_DOWN (the server is stopping)."""
        self.client_gone = False
        self._waiter: Waiter | None = None
        self._watcher = None
        client_socket = self._environ.get(CLIENT_SOCKET_KEY)
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
            self._gone()
            return
        watcher = self._watcher = gevent.get_hub().loop.io(fileno, 1)

        def on_readable() -> None:
            try:
                peeked = raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                peeked = b""
            self._stop_watching()
            if not peeked:
                self._gone()
                self._wake(CLIENT_GONE)

        watcher.start(on_readable)

    def _gone(self) -> None:
        self.client_gone = True
        # Told to the connection at once, so that not even a stream's last chunk is written.
        self._environ[CLIENT_GONE_KEY] = True

    def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.close()
            self._watcher = None

    def _wake(self, reason: str) -> None:
        """Called from the event loop: resume the waiting greenlet, if it is waiting."""
        if self._waiter is not None:
            self._waiter.switch(reason)

    def client_left(self) -> None:
        """The client went away, as seen by whoever reads its socket (a WebSocket's reader)."""
        self._gone()
        self.wake(CLIENT_GONE)

    def drop(self, reason: str = DROPPED) -> None:
        self.dropped = True
        self.drop_reason = reason
        self.wake(reason)

    def wake(self, reason: str) -> None:
        """Resume this request's greenlet from any other greenlet (soon, not at once)."""
        gevent.get_hub().loop.run_callback(self._wake, reason)

    @property
    def ended(self) -> bool:
        return self.dropped or self.client_gone

    def wait(self, news: gevent.event.Event | None, timeout: float | None) -> bool:
        """Sleep until news, a drop, the client leaving or a `wake` (True), or the timeout.

        With `news` None only the other causes end the wait (a parked SSE stream)."""
        if self.ended or (news is not None and news.is_set()):
            return True
        waiter = self._waiter = Waiter()
        on_news = waiter.switch  # one bound method, so unlink finds what rawlink stored
        if news is not None:
            news.rawlink(on_news)
        timer = None
        if timeout is not None:
            timer = gevent.get_hub().loop.timer(timeout)
            timer.start(waiter.switch, TIMED_OUT)
        try:
            if waiter.get() is not TIMED_OUT:
                return True
            # The timer and the news can come due in the same turn of the loop (after a
            # long turn, such as a fan-out to many streams): then the news wins.
            return self.ended or (news is not None and news.is_set())
        finally:
            self._waiter = None
            if news is not None:
                news.unlink(on_news)
            if timer is not None:
                timer.close()

    def close(self) -> None:
        self._stop_watching()


class HeldRequests:
    """Counts held requests against a limit and can end them all at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._holds: set[Hold] = set()

    @property
    def count(self) -> int:
        return len(self._holds)

    @contextmanager
    def hold(self, environ: dict) -> Iterator[Hold]:
        """Register a held request for the `with` block; raise TooManyHeld over the limit."""
        if len(self._holds) >= self.limit:
            raise TooManyHeld(self.limit)
        held = Hold(environ)
        self._holds.add(held)
        try:
            yield held
        finally:
            held.close()
            self._holds.discard(held)

    def drop_all(self, reason: str = DROPPED) -> int:
        """End every held request now; return how many there were."""
        holds = list(self._holds)
        for held in holds:
            held.drop(reason)
        return len(holds)
