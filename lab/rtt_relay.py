"""A relay that puts a network's round trip between the clients and the server.

On loopback a request and its answer take a fraction of a millisecond, so long polling's
extra round trip per event costs nothing there, and the textbook's "long polling delivers
in 100-200 ms" cannot show. This relay accepts connections, opens one to the server for
each, and forwards the bytes both ways, each direction held back by half the round trip
(the kernel's netem would do this, but it is not available on every machine).

Bytes are forwarded unchanged, in order, as they arrive: the server counts the same bytes,
and a client sees the same stream, only later. Import after gevent's patching.
"""

from __future__ import annotations

import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

import gevent
import gevent.event
from gevent.server import StreamServer

CHUNK = 65536


class _Delayed:
    """One direction of a relayed connection: bytes read from `source` are written to
    `target` `delay_s` seconds after they arrived."""

    def __init__(self, source: socket.socket, target: socket.socket, delay_s: float) -> None:
        self.source, self.target, self.delay_s = source, target, delay_s
        self.queue: deque[tuple[float, bytes]] = deque()
        self.ready = gevent.event.Event()

    def read(self) -> None:
        try:
            while data := self.source.recv(CHUNK):
                self.queue.append((time.monotonic() + self.delay_s, data))
                self.ready.set()
        except OSError:
            pass
        self.queue.append((time.monotonic() + self.delay_s, b""))  # the end, delayed too
        self.ready.set()

    def write(self) -> None:
        try:
            while True:
                while not self.queue:
                    self.ready.clear()
                    self.ready.wait()
                due, data = self.queue.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    gevent.sleep(wait)
                if not data:
                    self.target.shutdown(socket.SHUT_WR)
                    return
                self.target.sendall(data)
        except OSError:
            return


def relay(upstream: tuple[str, int], rtt_ms: float) -> Callable[[socket.socket, tuple], None]:
    """A connection handler that relays to `upstream` with `rtt_ms` of round trip."""

    def handle(client: socket.socket, _address: tuple) -> None:
        try:
            server = socket.create_connection(upstream)
        except OSError:
            client.close()
            return
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        half = rtt_ms / 2000
        directions = [_Delayed(client, server, half), _Delayed(server, client, half)]
        workers = [gevent.spawn(d.read) for d in directions]
        workers += [gevent.spawn(d.write) for d in directions]
        try:
            gevent.joinall(workers[2:])  # both writers are done: both ends have closed
        finally:
            gevent.killall(workers)
            client.close()
            server.close()

    return handle


def start_relay(listen: tuple[str, int], upstream: tuple[str, int], rtt_ms: float) -> StreamServer:
    """A relay accepting on `listen` (port 0: a free one), started; `stop()` it when done."""
    server = StreamServer(listen, relay(upstream, rtt_ms), backlog=4096)
    server.start()
    return server


def run_relay(
    upstream: tuple[str, int],
    rtt_ms: float,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO = sys.stdout,
    on_listening: Callable[[int], None] | None = None,
    stop: gevent.event.Event | None = None,
) -> None:
    """Relay until `stop` is set (or for ever)."""
    server = start_relay((host, port), upstream, rtt_ms)
    # The first line is the address, as `lab serve` prints it.
    print(f"listening on http://{host}:{server.server_port}/", file=out, flush=True)
    print(
        f"Relaying to http://{upstream[0]}:{upstream[1]}/ with a round trip of {rtt_ms:g} ms",
        file=out,
        flush=True,
    )
    if on_listening is not None:
        on_listening(server.server_port)
    (stop or gevent.event.Event()).wait()
    server.stop(timeout=1)
