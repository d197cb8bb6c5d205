"""One accepted WebSocket: the source's events as JSON text frames, pings at the heartbeat,
events published by the client, and a close code with a reason for a frame it cannot take.

The WebSocket protocol itself (the opening handshake, frames, masking, close codes, pings) is
wsproto's; this module decides what goes into the frames and when. It knows nothing of the
HTTP server: the connection hands it a way to send bytes and a way to read them.

Two greenlets share the connection: this one writes events (and pings) as they come, and a
reader takes the client's frames. Writes from both go through one lock, so that frames never
interleave on the socket.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import gevent
import gevent.lock
from wsproto import ConnectionType
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.handshake import H11Handshake
from wsproto.utilities import ProtocolError

from lab.cursors import Resume
from lab.errors import ApiError
from lab.held import SHUTTING_DOWN, Hold
from lab.state import LabState

# Close codes (RFC 6455, section 7.4.1).
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
SERVICE_RESTART = 1012

MAX_REASON_BYTES = 123
"""A close frame's reason fits in a control frame: 125 bytes, 2 of them the code."""


@dataclass(frozen=True)
class Refusal(Exception):
    """A frame the server will not take: closes the connection with `code` and `reason`."""

    code: int
    reason: str


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, on a character boundary."""
    encoded = text.encode("utf-8")[:MAX_REASON_BYTES]
    return encoded.decode("utf-8", errors="ignore")


def notice(kind: str, **fields) -> str:
    """A server notice: an object without an `id`, so that no client takes it for an event."""
    return json.dumps({"notice": kind, **fields}, separators=(",", ":"))


class WebSocketSession:
    def __init__(
        self,
        state: LabState,
        held: Hold,
        resume: Resume,
        publish: Callable[[object], object] | None,
        publish_refused: str,
    ) -> None:
        """`publish` takes a parsed frame and publishes it (ApiError when it cannot), or is
        None when this client may not publish, for the reason `publish_refused`."""
        self.state = state
        self.held = held
        self.resume = resume
        self.publish = publish
        self.publish_refused = publish_refused
        self.counters = state.metrics["websocket"]
        self._send_lock = gevent.lock.Semaphore()
        self._send_bytes: Callable[[bytes], None] = lambda _data: None
        self._connection: Connection | None = None
        self._closing: Refusal | None = None
        self.max_message_bytes = state.settings.max_body_bytes

    # --- the opening handshake ----------------------------------------------------------

    def accept(self, request_head: bytes, send: Callable[[bytes], None]) -> None:
        """Answer the upgrade request (its head as the client sent it) with 101."""
        handshake = H11Handshake(ConnectionType.SERVER)
        handshake.receive_data(request_head)
        request = next((e for e in handshake.events() if isinstance(e, Request)), None)
        if request is None:
            raise ApiError(400, "that is not a WebSocket opening handshake")
        self._send_bytes = send
        self._send(handshake.send(AcceptConnection()))
        self._connection = handshake.connection

    # --- the session ---------------------------------------------------------------------

    def run(self, read: Callable[[], bytes]) -> None:
        """Send events until the client leaves, a frame is refused, or the server drops it.
        `read` returns the next bytes from the client (b"" when it has closed)."""
        reader = gevent.spawn(self._read_frames, read)
        try:
            self._write_events()
        finally:
            reader.kill(block=True)

    def _write_events(self) -> None:
        source, settings = self.state.source, self.state.settings
        heartbeat = settings.heartbeat or None
        cursor = self.resume.after
        last_write = time.monotonic()
        # Where this connection starts, and the run's epoch: what a client needs to resume.
        self._send_text(notice("open", epoch=source.epoch, last_id=cursor))
        if self.resume.restarted:
            # The cursor came from an earlier run: this run's events are all new to it.
            first = source.first_id
            self._send_text(notice("gap", restarted=True, epoch=source.epoch, resumed_from=first))
        while True:
            if self._closing is not None:
                self._close(self._closing.code, self._closing.reason)
                return
            if self.held.ended:
                if self.held.dropped:
                    if self.held.drop_reason == SHUTTING_DOWN:
                        self._close(GOING_AWAY, "the server is shutting down; reconnect soon")
                    else:
                        self._close(SERVICE_RESTART, "dropped by the server (POST /drop)")
                return
            events, gap = source.events_after(cursor, settings.max_batch, settings.max_batch_bytes)
            if gap and events:
                self._send_text(notice("gap", missed_after=cursor, resumed_from=events[0].id))
            if events:
                for event in events:
                    self._send_text(event.json_bytes.decode("utf-8"))
                    self.counters.events_sent += 1
                cursor = events[-1].id
                last_write = time.monotonic()
                continue
            wait = (
                None if heartbeat is None else max(0.0, last_write + heartbeat - time.monotonic())
            )
            if not self.held.wait(source.news(), wait) and heartbeat is not None:
                self._send_frame(Ping(payload=b"heartbeat"))
                last_write = time.monotonic()

    def _read_frames(self, read: Callable[[], bytes]) -> None:
        connection = self._connection
        assert connection is not None
        parts: list[str] = []
        size = 0
        try:
            while connection.state is ConnectionState.OPEN:
                data = read()
                if not data:
                    break
                connection.receive_data(data)
                for event in connection.events():
                    if isinstance(event, Ping):
                        self._send_frame(event.response())
                    elif isinstance(event, CloseConnection):
                        if connection.state is ConnectionState.OPEN:
                            # Not the client's close: wsproto found a broken frame (text
                            # that is not UTF-8, say) and names the code to close with.
                            raise Refusal(event.code, close_reason(event.reason or ""))
                        self._finish(event)
                        return
                    elif isinstance(event, BytesMessage):
                        raise Refusal(UNSUPPORTED_DATA, "this socket takes JSON text frames only")
                    elif isinstance(event, TextMessage):
                        size += len(event.data.encode("utf-8"))
                        if size > self.max_message_bytes:
                            raise Refusal(
                                MESSAGE_TOO_BIG,
                                f"a message may be at most {self.max_message_bytes:,} bytes",
                            )
                        parts.append(event.data)
                        if event.message_finished:
                            self._take("".join(parts))
                            parts, size = [], 0
        except Refusal as refusal:
            self._closing = refusal
        except ProtocolError as error:
            self._closing = Refusal(1002, close_reason(f"protocol error: {error}"))
        except OSError:
            pass
        finally:
            if self._closing is None:
                self.held.client_left()
            else:
                self.held.wake("refused")

    def _take(self, text: str) -> None:
        """One whole text message from the client: an event to publish."""
        if self.publish is None:
            raise Refusal(POLICY_VIOLATION, close_reason(self.publish_refused))
        try:
            body = json.loads(text)
        except ValueError:
            raise Refusal(
                INVALID_PAYLOAD, 'send JSON such as {"type": "chat", "data": "hello"}'
            ) from None
        try:
            self.publish(body)
        except ApiError as error:
            raise Refusal(INVALID_PAYLOAD, close_reason(error.message)) from None

    # --- writing -----------------------------------------------------------------------

    def _finish(self, close: CloseConnection) -> None:
        """The client closed: answer its close frame, as the protocol asks."""
        connection = self._connection
        if connection is not None and connection.state is ConnectionState.REMOTE_CLOSING:
            self._send(connection.send(close.response()))
        self.held.client_left()

    def _close(self, code: int, reason: str) -> None:
        connection = self._connection
        if connection is not None and connection.state is ConnectionState.OPEN:
            self._send(connection.send(CloseConnection(code=code, reason=close_reason(reason))))

    def _send_text(self, text: str) -> None:
        self._send_frame(TextMessage(data=text))

    def _send_frame(self, event) -> None:
        connection = self._connection
        if connection is None or connection.state is not ConnectionState.OPEN:
            return
        self._send(connection.send(event))

    def _send(self, data: bytes) -> None:
        if not data:
            return
        with self._send_lock:
            self._send_bytes(data)
