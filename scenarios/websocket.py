"""WebSocket: each user opens one connection to GET /ws and reads events as JSON text frames.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/websocket.py --host http://127.0.0.1:8000
    locust -f scenarios/websocket.py --host http://127.0.0.1:8000 --headless \
        -u 100 -r 20 --run-time 1m --stop-timeout 5

Each user starts live and speaks WebSocket through wsproto (the protocol library the server
uses too) on a plain socket, so that the client's cost per event stays small at 1,000
users. The opening (up to the 101 answer) is recorded as "WS /ws"; every event's delivery
latency is an "EVENT websocket" entry, and gaps or repeats are "websocket sequence"
failures. A WebSocket has no resume of its own: when the connection ends (server restart,
POST /drop) this user reconnects with the last id and epoch it saw in the address, which is
what a browser's EventSource does for SSE by itself and what every WebSocket client has to
write out.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlencode

import gevent
from client_measurement import now, recorder_for, socket_target
from locust import User, constant, events, task
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from lab.theory import websocket_frame_overhead

TRANSPORT = "websocket"
READ_TIMEOUT_S = 60.0  # several heartbeats: a silent connection this long is dead


@events.init_command_line_parser.add_listener
def add_websocket_options(parser) -> None:
    parser.add_argument(
        "--no-resume",
        action="store_true",
        help="reconnect live, without the last id: what a WebSocket client does unless it is "
        "written to resume (the events published meanwhile are lost)",
    )


class UpgradeRefused(Exception):
    """The server answered the opening handshake with an HTTP status instead of 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the upgrade with HTTP {status}")
        self.status = status


class WebSocketUser(User):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.address, self.host_header = socket_target(self.host)
        self.recorder = recorder_for(self.environment, TRANSPORT)
        self.last_id: int | None = None
        self.epoch = ""
        options = self.environment.parsed_options
        self.resumes = not options.no_resume
        self.reconnect_after = options.reconnect_after

    def target(self) -> str:
        if self.last_id is None or not self.resumes:
            return "/ws"
        return "/ws?" + urlencode({"last_event_id": self.last_id, "epoch": self.epoch})

    @task
    def connect(self) -> None:
        started = time.perf_counter()
        try:
            connection = socket.create_connection(self.address, timeout=10)
        except OSError as error:
            self.record_open(started, error)
            gevent.sleep(1)
            return
        try:
            connection.settimeout(READ_TIMEOUT_S)
            protocol, received_at = self.open(connection)
            self.record_open(started, None)
            self.read_frames(connection, protocol, received_at)
        except UpgradeRefused as refused:
            self.record_open(started, refused)
            if refused.status == 400:
                self.last_id = None  # the server restarted: start live again
            gevent.sleep(1)
        except OSError as error:
            self.record_open(started, error)
            gevent.sleep(1)
        finally:
            connection.close()
        # The connection ended (POST /drop, a restart): wait as a browser would, reconnect.
        gevent.sleep(self.reconnect_after)

    def open(self, connection: socket.socket) -> tuple[WSConnection, float]:
        """The opening handshake: the connection's protocol state once the server said 101,
        and when the bytes that said it arrived (the first frames may have come with them)."""
        protocol = WSConnection(ConnectionType.CLIENT)
        connection.sendall(protocol.send(Request(host=self.host_header, target=self.target())))
        while True:
            data = connection.recv(65536)
            received_at = now()
            if not data:
                raise ConnectionError("the server closed the connection before answering")
            protocol.receive_data(data)
            for event in protocol.events():
                if isinstance(event, AcceptConnection):
                    return protocol, received_at
                if isinstance(event, RejectConnection):
                    raise UpgradeRefused(event.status_code)
                if isinstance(event, RejectData):
                    continue

    def read_frames(
        self, connection: socket.socket, protocol: WSConnection, received_at: float
    ) -> None:
        """Events until the connection ends; the next task run reconnects and resumes.

        The frames that came in the same read as the handshake's answer are taken first:
        a resumed connection's missed events often arrive there, and reading the socket
        before them would leave them waiting for the next event.
        """
        while True:
            for event in protocol.events():
                if isinstance(event, Ping):
                    connection.sendall(protocol.send(event.response()))
                elif isinstance(event, CloseConnection):
                    connection.sendall(protocol.send(event.response()))
                    return
                elif isinstance(event, TextMessage):
                    self.take(event.data, received_at)
            data = connection.recv(65536)
            received_at = now()
            if not data:
                return
            protocol.receive_data(data)

    def take(self, text: str, received_at: float) -> None:
        size = len(text.encode("utf-8"))
        self.recorder.received_bytes(size + websocket_frame_overhead(size))
        message = json.loads(text)
        kind = message.get("notice")
        if kind == "open":
            self.epoch = message["epoch"]
            if self.last_id is None:
                self.recorder.start_after(message["last_id"])
        elif kind == "gap" and message.get("restarted"):
            # A restarted server numbers from 1 again: a new sequence starts.
            self.recorder.start_after(message["resumed_from"] - 1)
        elif kind is None:
            self.recorder.delivered(message, received_at, size)
            self.last_id = message["id"]
        # Other notices: a gap shows up in the ids as lost events.

    def record_open(self, started: float, error: Exception | None) -> None:
        took_ms = (time.perf_counter() - started) * 1000
        self.recorder.opened(now() - took_ms / 1000, took_ms, error is None)
        self.environment.events.request.fire(
            request_type="WS",
            name="/ws",
            response_time=took_ms,
            response_length=0,
            exception=error,
            context={},
        )
