"""Server-Sent Events: each user opens one GET /sse stream and reads events as they come.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/sse.py --host http://127.0.0.1:8000
    locust -f scenarios/sse.py --host http://127.0.0.1:8000 --headless \
        -u 100 -r 20 --run-time 1m --stop-timeout 5

Each user starts live (no Last-Event-ID) and parses the stream with the lab's own SSE parser
(lab.sse.SSEDecoder). It reads from a plain socket (HTTP/1.1, chunked, lab.http_chunks)
rather than through an HTTP library: an SSE event is small and every user gets every event,
so the client's cost per event decides how late the 1,000th simulated user sees it.
(Locust's FastHttpUser would be cheap too, but it reads streams in fixed-size blocks and
holds small events back.) GET /sse is recorded with its time to the response head; every
event's delivery latency is an "EVENT sse" entry, and gaps or repeats are "sse sequence"
failures. If the stream ends (server restart, POST /drop), the user reconnects with
Last-Event-ID, as a browser's EventSource does.
"""

from __future__ import annotations

import json
import socket
import time
import zlib
from collections.abc import Callable

import gevent
from client_measurement import now, recorder_for, socket_target
from locust import User, constant, task

from lab.http_chunks import ChunkedDecoder
from lab.http_client import header, read_head
from lab.sse import SSEDecoder

TRANSPORT = "sse"
READ_TIMEOUT_S = 60.0  # several heartbeats: a silent stream this long is dead


class StreamRefused(Exception):
    """The server answered GET /sse with something other than 200."""


class SSEUser(User):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.address, self.host_header = socket_target(self.host)
        self.recorder = recorder_for(self.environment, TRANSPORT)
        self.last_event_id = ""

    def request_bytes(self) -> bytes:
        lines = [
            "GET /sse HTTP/1.1",
            f"Host: {self.host_header}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
            "Accept-Encoding: gzip",  # as browsers send it: a proxy may compress the stream
            "User-Agent: lab-locust-sse",
        ]
        if self.last_event_id:
            lines.append(f"Last-Event-ID: {self.last_event_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    @task
    def stream(self) -> None:
        started = time.perf_counter()
        try:
            connection = socket.create_connection(self.address, timeout=10)
        except OSError as error:
            self.record_open(started, 0, error)
            gevent.sleep(1)
            return
        try:
            self.read_stream(connection, started)
        except OSError as error:
            self.record_open(started, 0, error)
            gevent.sleep(1)
        finally:
            connection.close()
        # The stream ended (POST /drop, a restart): wait as a browser would, then resume.
        gevent.sleep(self.environment.parsed_options.reconnect_after)

    def read_stream(self, connection: socket.socket, started: float) -> None:
        # A buffering proxy holds back even the response's head until its buffer fills: wait
        # for it as long as for any event, as a browser does.
        connection.settimeout(READ_TIMEOUT_S)
        connection.sendall(self.request_bytes())
        head, body = read_head(connection)
        received_at = now()
        self.recorder.received_bytes(len(head) + 4, received_at)  # the head and its blank line
        status_line = head.split(b"\r\n", 1)[0]
        status = int(status_line.split(b" ", 2)[1])
        if status != 200:
            self.record_open(started, len(head), StreamRefused(status_line.decode()))
            if status == 400:
                self.last_event_id = ""  # the server restarted: start live again
            gevent.sleep(retry_after(head))
            return
        self.record_open(started, len(head), None)
        chunks, decoder = ChunkedDecoder(), SSEDecoder()
        inflate = inflater(head)
        data = body
        while True:
            if data:
                self.recorder.received_bytes(len(data), received_at)
                for message in decoder.decode(inflate(chunks.decode(data))):
                    if message.event == "gap" and '"restarted":true' in message.data:
                        # A restarted server numbers from 1 again: a new sequence starts.
                        self.recorder.start_after(json.loads(message.data)["resumed_from"] - 1)
                        continue
                    if message.event in ("gap", "close"):
                        continue  # server notices; a gap shows up in the ids as lost events
                    event = json.loads(message.data)
                    self.recorder.delivered(event, received_at, len(message.data.encode()))
                self.last_event_id = decoder.last_event_id
                if chunks.finished:
                    return  # the server ended the stream: reconnect on the next task run
            data = connection.recv(65536)
            received_at = now()
            if not data:
                return

    def record_open(self, started: float, length: int, error: Exception | None) -> None:
        took_ms = (time.perf_counter() - started) * 1000
        self.recorder.opened(now() - took_ms / 1000, took_ms, error is None)
        self.environment.events.request.fire(
            request_type="GET",
            name="/sse",
            response_time=took_ms,
            response_length=length,
            exception=error,
            context={},
        )


def retry_after(head: bytes) -> float:
    value = header(head, b"retry-after")
    return float(value) if value and value.isdigit() else 1.0


def inflater(head: bytes) -> Callable[[bytes], bytes]:
    """What turns the body's bytes back into the event stream: nothing, or gunzip."""
    if (header(head, b"content-encoding") or b"").lower() != b"gzip":
        return bytes
    decompress = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress
    return decompress
