"""The gevent WSGI server, with per-transport counters kept at the socket.

Bytes are counted where they cross the socket: request lines, headers and bodies coming in;
status lines, headers, chunk framing and bodies going out. The Flask app never sees those
bytes, so it could not count them itself.

Import this module only after gevent's monkey patching (the `lab` command does it first).
"""

from __future__ import annotations

import contextlib
import io
import resource
import signal
import socket
import sys
from collections.abc import Callable
from typing import TextIO

import gevent
import gevent.event
from gevent.pywsgi import WSGIHandler, WSGIServer

from lab.app import create_app, lab_state
from lab.held import CLIENT_SOCKET_KEY
from lab.metrics import OTHER, Metrics, transport_of
from lab.settings import Settings


class _CountingReader(io.RawIOBase):
    """A raw byte stream that reports how many bytes each socket read returned."""

    def __init__(self, raw: io.RawIOBase, on_bytes: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        count = self._raw.readinto(buffer)
        if count:
            self._on_bytes(count)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


class CountingHandler(WSGIHandler):
    """pywsgi's handler plus byte, request, status and open counts per transport."""

    server: LabServer

    def __init__(self, sock, address, server, rfile=None) -> None:
        self._transport: str | None = None
        self._unattributed_in = 0
        self._head: bytes | None = None
        self._holding_head = False
        # Small writes must leave at once: with Nagle's algorithm on, a keep-alive client's
        # delayed ACK held each poll's body back by about 40 ms.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rfile is None:
            rfile = io.BufferedReader(_CountingReader(sock.makefile("rb", buffering=0), self._in))
        super().__init__(sock, address, server, rfile)

    def _in(self, count: int) -> None:
        # Bytes of the next request line arrive before its path is known; keep them until then.
        if self._transport is None:
            self._unattributed_in += count
        else:
            self.server.metrics[self._transport].bytes_in += count

    def read_request(self, raw_requestline):
        accepted = super().read_request(raw_requestline)
        self._transport = transport_of(self.path)
        counters = self.server.metrics[self._transport]
        counters.requests += 1
        counters.open += 1
        counters.bytes_in += self._unattributed_in
        self._unattributed_in = 0
        return accepted

    def get_environ(self):
        environ = super().get_environ()
        environ[CLIENT_SOCKET_KEY] = self.socket
        return environ

    def _write_with_headers(self, data) -> None:
        # pywsgi sends the status line and headers, then the first body bytes, in two calls.
        # Holding the head back and sending both together puts a small answer in one packet.
        self._holding_head = True
        try:
            super()._write_with_headers(data)
        finally:
            self._holding_head = False
            if self._head is not None:
                head, self._head = self._head, None
                self._send_counted(head)

    def _sendall(self, data) -> None:
        if self._holding_head and self._head is None:
            self._head = bytes(data)
            return
        if self._head is not None:
            data, self._head = self._head + bytes(data), None
        self._send_counted(data)

    def _send_counted(self, data) -> None:
        # Fast path: one non-blocking send of the whole buffer, which is what almost always
        # happens. gevent's sendall would first ask the kernel for the buffer size (a second
        # system call per write) and pass through several more Python frames; on an SSE
        # fan-out that is paid once per subscriber per event.
        sent = 0
        raw = getattr(self.socket, "_sock", None)
        if raw is not None:
            try:
                sent = raw.send(data)
            except OSError:
                sent = 0  # would block, or failed: the full path below waits or reports it
        if sent < len(data):
            super()._sendall(memoryview(data)[sent:] if sent else data)
        else:
            self.response_length += sent
        self.server.metrics[self._transport or OTHER].bytes_out += len(data)

    def handle_one_response(self):
        try:
            return super().handle_one_response()
        finally:
            counters = self.server.metrics[self._transport or OTHER]
            counters.open -= 1
            code = getattr(self, "code", None) or 0
            counters.responses[abs(code)] += 1
            if code < 0:
                counters.disconnects += 1
            self._transport = None


class LabServer(WSGIServer):
    handler_class = CountingHandler

    def __init__(self, listener, application, metrics: Metrics, **kwargs) -> None:
        self.metrics = metrics
        super().__init__(listener, application, **kwargs)


def raise_open_file_limit() -> None:
    """Each client holds a socket; allow as many as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (Linux; [] where unknown).

    Read from the network interfaces themselves: nothing is sent anywhere.
    """
    try:
        import fcntl
        import struct
    except ImportError:
        return []
    found = []
    get_address = 0x8915  # SIOCGIFADDR
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(probe.fileno(), get_address,
                                     struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
        address = socket.inet_ntoa(packed[20:24])
        if not address.startswith("127."):
            found.append(address)
    return found


def page_urls(settings: Settings, port: int) -> tuple[str, str | None]:
    """The address to open, and the teacher's address with the token (None on loopback).

    Bound to every address, the server names itself by an address of this machine, which
    students' laptops can reach more often than its host name.
    """
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = next(iter(local_addresses()), None) or socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}/"
    return url, None if settings.on_loopback else f"{url}?token={settings.token}"


def serve(settings: Settings, access_log: bool = False, out: TextIO = sys.stdout) -> None:
    """Run the lab server until SIGINT or SIGTERM; then end every stream and exit."""
    raise_open_file_limit()
    app = create_app(settings)
    state = lab_state(app)
    server = LabServer(
        (settings.host, settings.port),
        app,
        metrics=state.metrics,
        backlog=4096,
        log=sys.stderr if access_log else None,
    )
    server.start()
    url, teacher_url = page_urls(settings, server.server_port)
    # The first line is the address, so scripts and tests can read where the server is.
    print(f"listening on http://{settings.host}:{server.server_port}/", file=out, flush=True)
    if teacher_url:
        print(
            f"Reachable from the network. Students open {url} (read-only).\n"
            f"Teacher (controls enabled): {teacher_url}",
            file=out,
            flush=True,
        )
    print("Ctrl+C stops the server.", file=out, flush=True)
    state.fanout.start()
    state.ticker.start()

    stopping = gevent.event.Event()

    def request_stop() -> None:
        stopping.set()

    gevent.signal_handler(signal.SIGTERM, request_stop)
    gevent.signal_handler(signal.SIGINT, request_stop)
    stopping.wait()
    state.ticker.stop()
    state.fanout.stop()
    state.held.drop_all()
    server.stop(timeout=2)
    print("stopped", file=out, flush=True)
