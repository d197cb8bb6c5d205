"""The gevent WSGI server: the lab's app behind counting, deadline-keeping connections.

Import this module only after gevent's monkey patching (the `lab` command does it first).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TextIO

import gevent
import gevent.event
from gevent.pywsgi import WSGIServer

from lab.app import create_app
from lab.connections import Connections, connection_cap, raise_open_file_limit, refuse
from lab.errors import error_body
from lab.held import SHUTTING_DOWN
from lab.http_handler import CountingHandler
from lab.metrics import Metrics
from lab.page_address import page_urls, print_addresses
from lab.proxy.profiles import Profile
from lab.settings import Settings
from lab.state import lab_state


class LabServer(WSGIServer):
    handler_class = CountingHandler
    # Connections accepted per turn of the event loop (gevent's default is 100). Each is a
    # file before its handler runs, and an idle one closed to make room frees its file only
    # a turn later: small bursts keep both within the files kept free under the limit.
    max_accept = 16

    def __init__(
        self,
        listener,
        application,
        metrics: Metrics,
        settings: Settings,
        max_connections: int,
        **kwargs,
    ) -> None:
        self.metrics = metrics
        self.settings = settings
        self.connections = Connections(metrics.connections, max_connections)
        super().__init__(listener, application, **kwargs)

    def handle(self, sock, address) -> None:
        if self.connections.full() and not self.connections.evict_oldest_idle():
            self.metrics.connections.refused += 1
            refuse(
                sock,
                error_body(
                    f"the server has its maximum of {self.connections.limit} connections open, all "
                    "busy (--max-connections); try again shortly"
                ),
            )
            return
        super().handle(sock, address)


def shared_listener(address: tuple[str, int]) -> socket.socket:
    """A listening socket that other workers bind too (SO_REUSEPORT): the kernel spreads
    new connections across every worker listening on the port."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    listener.listen(4096)
    listener.setblocking(False)
    return listener


def refuse_taken_address(host: str, port: int) -> None:
    """OSError when another program listens at (host, port).

    nginx would fail to bind there, but whoever holds the port answers its start-up check
    in its place, so nginx's start would look fine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        # As nginx binds: connections of an earlier run that are closing do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def serve(
    settings: Settings,
    access_log: bool = False,
    out: TextIO = sys.stdout,
    on_listening: Callable[[int], None] | None = None,
    network_rtt_ms: float = 0.0,
    proxy: Profile | None = None,
) -> None:
    """Run the lab server until SIGINT or SIGTERM; then end every stream and exit.

    `on_listening(port)` is called once the server accepts connections. With
    `network_rtt_ms`, clients reach it only through a relay (lab.rtt_relay) that adds that
    round trip, listening where the server would have. With `proxy`, they reach it through
    a real nginx in that profile (lab.proxy.nginx), which is stopped with the server; with
    both, the relay is in front of nginx, as a distant network is in front of a proxy.
    """
    open_files = raise_open_file_limit()
    max_connections, note = connection_cap(settings.max_connections, open_files)
    app = create_app(settings)
    state = lab_state(app)
    state.network_rtt_ms = network_rtt_ms
    # Behind the relay or nginx every client's request arrives from loopback, unchanged (its
    # Host header included): the settings' host, not this address, still decides whether
    # the token is needed and which names are answered.
    relayed = network_rtt_ms > 0
    address = ("127.0.0.1", 0) if relayed or proxy else (settings.host, settings.port)
    listener = shared_listener(address) if settings.workers > 1 else address
    server = LabServer(
        listener,
        app,
        metrics=state.metrics,
        settings=settings,
        max_connections=max_connections,
        backlog=None if isinstance(listener, socket.socket) else 4096,
        log=sys.stderr if access_log else None,
    )
    # Taken over before nginx starts: a stop asked for while it starts is then only noted,
    # and nginx is stopped below rather than left running after this process.
    stopping = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    gevent.signal_handler(signal.SIGINT, stopping.set)
    server.start()
    port = server.server_port
    fronts: list[Callable[[], None]] = []  # what stands in front of the server, inner first
    try:
        if proxy is not None:
            from lab.proxy.nginx import Nginx

            host, wanted = ("127.0.0.1", 0) if relayed else (settings.host, settings.port)
            if wanted:
                refuse_taken_address(host, wanted)
            nginx = Nginx(proxy, f"http://127.0.0.1:{port}", host=host, port=wanted)
            fronts.append(nginx.stop)
            # Another program may have taken the port since the check: nginx then exits.
            if nginx.process is None or nginx.process.poll() is not None:
                raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
            port = nginx.port
        if relayed:
            from lab.rtt_relay import start_relay

            relay = start_relay((settings.host, settings.port), ("127.0.0.1", port), network_rtt_ms)
            fronts.append(lambda: relay.stop(timeout=1))
            port = relay.server_port
        scheme = "https" if proxy is not None and proxy.http2 else "http"
        url, teacher_url = page_urls(settings, port, scheme)
        # The first line is the address, so scripts and tests can read where the server is.
        print(f"listening on {scheme}://{settings.host}:{port}/", file=out, flush=True)
        if proxy is not None:
            print(f"Through nginx, profile {proxy.name}: {proxy.shows}.", file=out, flush=True)
        if relayed:
            print(
                f"Simulating a network: a round trip of {network_rtt_ms:g} ms between every "
                "client and the server.",
                file=out,
                flush=True,
            )
        if note:
            print(f"Note: {note}.", file=out, flush=True)
        print_addresses(url, teacher_url, out)
        if on_listening is not None:
            on_listening(port)
        print("Ctrl+C stops the server.", file=out, flush=True)
        state.start()
        stopping.wait()
        state.stop()
        state.held.drop_all(SHUTTING_DOWN)
        server.stop(timeout=2)
    finally:
        if not server.closed:  # left early, by an error: not stopped above
            server.stop(timeout=0)
        for stop in reversed(fronts):
            stop()
    print("stopped", file=out, flush=True)
