"""One client connection: gevent's pywsgi handler, with counters, deadlines and JSON errors.

Bytes are counted where they cross the socket: request lines, headers and bodies coming in;
status lines, headers, chunk framing and bodies going out. The Flask app never sees those
bytes, so it could not count them itself.

Every wait on the client has a deadline, so a client that is slow on purpose holds a
connection for seconds, not forever:
- a new connection must send a whole request head within --header-timeout seconds (and a
  body, if it has one, within as long again): against "slowloris" clients;
- a kept-alive connection may wait --idle-timeout seconds for its next request;
- a write may stay blocked --write-timeout seconds (a client that stopped reading).

What pywsgi answers by itself (a bad request line, a request line too long) gets the lab's
JSON error body too.

The hot path is kept short: plain polls are answered here without the app (lab.lean_poll),
plain header lines are read without the email parser (lab.request_head), and no access-log
line is formatted when there is no access log.
"""

from __future__ import annotations

import contextlib
import errno
import io
import re
import socket

from gevent import pywsgi
from gevent.pywsgi import WSGIHandler

from lab.deadline_reader import (
    BODY,
    HEAD,
    IDLE,
    MAX_HEAD_BYTES,
    NONE,
    DeadlineReader,
    HeadTooLarge,
    ReadTimedOut,
)
from lab.errors import error_body
from lab.held import CLIENT_GONE_KEY, CLIENT_SOCKET_KEY, UPGRADE_KEY
from lab.lean_poll import LeanPolls, lean_polls_for
from lab.metrics import OTHER, transport_of
from lab.request_head import read_head
from lab.sending import send_parts_within

_TOKEN_IN_URL = re.compile(r"(token=)[^&\s#]*", re.IGNORECASE)
# pywsgi's stand-in for "no access log" (private, hence looked up with a fallback).
_NO_LOG = getattr(pywsgi, "_NoopLog", ())
# The message class pywsgi's own header reader makes (None: read headers its way).
_HEADERS_CLASS = getattr(pywsgi, "OldMessage", None)


class _NoBodyToDiscard:
    """Stands in for a request body that is not worth reading to its end: the connection is
    closed instead (a body too large, chunked, or too slow)."""

    def _discard(self) -> None:
        pass


def canned_response(status: int, message: str, extra: bytes = b"") -> bytes:
    """A complete HTTP response with the lab's JSON error, closing the connection."""
    body = error_body(message)
    reason = {
        400: b"Bad Request",
        408: b"Request Timeout",
        414: b"URI Too Long",
        431: b"Request Header Fields Too Large",
    }.get(status, b"Error")
    return (
        b"HTTP/1.1 %d %b\r\nContent-Type: application/json\r\nConnection: close\r\n%b"
        b"Content-Length: %d\r\n\r\n%b" % (status, reason, extra, len(body), body)
    )


class CountingHandler(WSGIHandler):
    """pywsgi's handler plus byte, request, status and open counts per transport."""

    status: bytes | str | None  # pywsgi's: bytes as sent, or a sentence after a socket error
    code: int | None

    # A write that timed out is a client that left in all but name: close quietly.
    ignored_socket_errors = (*WSGIHandler.ignored_socket_errors, errno.ETIMEDOUT)

    def __init__(self, sock, address, server, rfile=None) -> None:
        self._transport: str | None = None
        self._unattributed_in = 0
        self._head: bytes | None = None
        self._holding_head = False
        self._requests_read = 0
        self._evicted = False
        self._lean: LeanPolls | None = lean_polls_for(getattr(server, "application", None))
        # Small writes must leave at once: with Nagle's algorithm on, a keep-alive client's
        # delayed ACK held each poll's body back by about 40 ms.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = DeadlineReader(sock, self._in)
        self._reader.head_timeout = server.settings.header_timeout
        if rfile is None:
            rfile = io.BufferedReader(self._reader)
        super().__init__(sock, address, server, rfile)

    # --- the connection's life -------------------------------------------------------

    def handle(self) -> None:
        self.server.connections.opened(self)
        try:
            super().handle()
        finally:
            self.server.connections.closed(self)

    def evict(self) -> bool:
        """Close this idle connection to make room for another; False if it is not idle."""
        if self._evicted or self.socket is None:
            return False
        self._evicted = True
        # Shutting the socket down wakes the read that waits for the next request, which
        # then sees the end of the stream and ends this handler the usual way.
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        return True

    def read_requestline(self):
        settings = self.server.settings
        first = self._requests_read == 0
        self._reader.start(IDLE, settings.header_timeout if first else settings.idle_timeout)
        self.server.connections.idle(self)
        try:
            return super().read_requestline()
        finally:
            self.server.connections.busy(self)

    def handle_one_request(self):
        result = super().handle_one_request()
        timed_out, self._reader.timed_out = self._reader.timed_out, None
        counters = self.server.metrics.connections
        if timed_out == BODY:
            counters.head_timeouts += 1
        elif result is None and timed_out == IDLE:
            if self._requests_read:
                counters.idle_closed += 1
            else:
                counters.head_timeouts += 1  # connected, and never sent a byte
        elif result is None and timed_out == HEAD:
            counters.head_timeouts += 1
            return self._canned(
                408,
                f"the request head did not arrive within "
                f"{self.server.settings.header_timeout:g} s (--header-timeout)",
            )
        elif isinstance(result, tuple) and result[0] == "414":
            return self._canned(
                414,
                "the request line is longer than this server reads "
                "(8192 bytes); send a shorter address",
            )
        return result

    def _canned(self, status: int, message: str) -> tuple[str, bytes]:
        response = canned_response(status, message)
        self.server.metrics[OTHER].bytes_out += len(response)
        self.server.metrics[OTHER].responses[status] += 1
        return str(status), response

    def _handle_client_error(self, ex):
        # pywsgi's own answer to a request it cannot parse is an empty 400; say why instead.
        if isinstance(ex, ReadTimedOut):
            self.server.metrics.connections.head_timeouts += 1
            return self._canned(
                408,
                f"the request head did not arrive within "
                f"{self.server.settings.header_timeout:g} s (--header-timeout)",
            )
        if isinstance(ex, HeadTooLarge):
            return self._canned(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
        reason = getattr(ex, "formatted_message", None) or str(ex) or type(ex).__name__
        return self._canned(400, f"this is not a request the server can read ({reason[:200]})")

    def _send_error_response_if_possible(self, error_code):
        if self.response_length:
            self.close_connection = True
            return
        message = (
            "this request's body is not valid chunked encoding"
            if error_code == 400
            else "the server failed to handle this request; the log says why"
        )
        body = error_body(message)
        try:
            self.start_response(
                f"{error_code} Error",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
            self.write(body)
        except OSError:
            self.close_connection = True

    # --- reading a request --------------------------------------------------------------

    def _in(self, count: int) -> None:
        # Bytes of the next request line arrive before its path is known; keep them until then.
        if self._transport is None:
            self._unattributed_in += count
        else:
            self.server.metrics[self._transport].bytes_in += count

    def MessageClass(self, fp, *args):  # noqa: N802 (pywsgi's name)
        if _HEADERS_CLASS is None:
            headers = super().MessageClass(fp, *args)
        else:
            headers = read_head(fp, _HEADERS_CLASS)
        # Two lengths (or a length beside chunking, or another coding) let a proxy and this
        # server disagree on where the body ends: the classic request-smuggling opening.
        # Checked here, before pywsgi drops a Content-Length that comes with chunking.
        lengths = headers.get_all("Content-Length") or []
        coding = headers.get("Transfer-Encoding")
        if len(lengths) > 1:
            raise ValueError("two Content-Length headers")
        if coding is not None and (coding.strip().lower() != "chunked" or lengths):
            raise ValueError("a Transfer-Encoding other than chunked alone")
        return headers

    def read_request(self, raw_requestline):
        self._requests_read += 1
        accepted = super().read_request(raw_requestline)
        self._reader.start(BODY, self.server.settings.header_timeout)
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

    def run_application(self):
        try:
            if not self._answer_lean():
                super().run_application()
        finally:
            self._reader.start(NONE, None)
            if not self._body_worth_discarding():
                self.wsgi_input = _NoBodyToDiscard()
                self.close_connection = True

    def _answer_lean(self) -> bool:
        """Answer a plain poll without the app (lab.lean_poll); False: the app answers."""
        if self.content_length or "HTTP_TRANSFER_ENCODING" in self.environ:
            return False  # a body: rare on a poll, and left to the full path
        if self._lean is None:
            return False
        answer = self._lean.answer(
            self.command, self.path, self.request_version, self.environ.get("HTTP_HOST")
        )
        if answer is None:
            return False
        head, body = answer
        # What pywsgi's start_response would have noted, for the counts and the access log.
        self.code = 200
        self.status = b"200 OK"
        self._orig_status = "200 OK"
        self.headers_sent = True
        self._send_parts([head, body])
        return True

    def _body_worth_discarding(self) -> bool:
        """Whether to read the rest of an unread body to keep the connection (else close)."""
        body = self.wsgi_input
        if self._reader.timed_out:
            return False
        if getattr(body, "chunked_input", True):
            return False  # its length is unknown: it could go on for ever
        left = (self.content_length or 0) - getattr(body, "position", 0)
        return left <= self.server.settings.max_body_bytes

    # --- an upgraded connection (a WebSocket) ------------------------------------------------

    def process_result(self):
        upgrade = self.environ.get(UPGRADE_KEY)
        if upgrade is None:
            return super().process_result()
        # The app accepted an upgrade: the connection is the session's from here on, with
        # no deadline on reading (its pings find a dead client), and closed when it ends.
        self.close_connection = True
        self._reader.start(NONE, None)
        upgrade(self)
        return None

    def send(self, data: bytes) -> None:
        """An upgraded session's bytes out: counted, and within --write-timeout."""
        self._send_parts([data])

    def read(self) -> bytes:
        """An upgraded session's next bytes in (counted), or b"" when the client closed."""
        return self.rfile.read1(65536)

    # --- writing the response -------------------------------------------------------------

    def finalize_headers(self):
        super().finalize_headers()
        if self.command == "HEAD":
            self.response_use_chunked = False  # a HEAD answer has no body, not even chunks

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
                self._send_parts([head])

    def _sendall(self, data) -> None:
        if self._holding_head and self._head is None:
            self._head = bytes(data)
            return
        self._send_parts([data])

    def _write(self, data) -> None:
        if not data or self.command == "HEAD":
            return
        chunked = self.response_use_chunked
        parts = [b"%x\r\n" % len(data), data, b"\r\n"] if chunked else [data]
        if self._head is not None:
            parts.insert(0, self._head)
            self._head = None
        self._send_parts(parts)

    def _send_parts(self, parts: list) -> None:
        """Send head, chunk framing and body as they are (one system call, no copy)."""
        if self._client_gone():
            # The client left while its request was held: an answer (or a stream's last
            # chunk) would go nowhere. The connection is closed instead.
            self.close_connection = True
            return
        counters = self.server.metrics[self._transport or OTHER]
        try:
            send_parts_within(self.socket, parts, self.server.settings.write_timeout, counters)
        except OSError as error:
            self.status = f"socket error: {error}"
            code = int(getattr(self, "code", 0) or 0)
            if code > 0:
                self.code = -code
            raise
        self.response_length += sum(len(part) for part in parts)

    def handle_one_response(self):
        try:
            return super().handle_one_response()
        finally:
            counters = self.server.metrics[self._transport or OTHER]
            counters.open -= 1
            code = getattr(self, "code", None) or 0
            counters.responses[abs(code)] += 1
            if code < 0 or self._client_gone():
                counters.disconnects += 1
            self._transport = None

    def _client_gone(self) -> bool:
        environ = getattr(self, "environ", None)
        return bool(environ and environ.get(CLIENT_GONE_KEY))

    def log_request(self):
        # Without an access log pywsgi still formats each request's line, then drops it.
        if not isinstance(self.server.log, _NO_LOG):
            super().log_request()

    def format_request(self):
        # The access log never shows a token, even one sent in the address by mistake.
        return _TOKEN_IN_URL.sub(r"\1[redacted]", super().format_request())
