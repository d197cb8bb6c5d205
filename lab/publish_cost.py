"""What one message from a client costs: a POST /publish, or a text frame over an open
WebSocket. The second direction, which SSE does not have: an SSE page that wants to send
something makes a whole HTTP request.

`measure_publish_cost(url)` sends the same messages both ways from one client to a running
server and returns the bytes per message (counted exactly on the client's socket: the
request and its answer, or the frame) and the server's CPU per message (from /metrics).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from lab.http_client import header, read_head, status
from lab.lab_process import LabProcess, fetch_metrics

MESSAGES = 500
TIMEOUT_S = 30.0


def _read_answer(connection: socket.socket) -> int:
    """Read one 201 answer to a POST /publish; return its size in bytes."""
    head, body = read_head(connection)
    length = int(header(head, b"content-length") or 0)
    while len(body) < length:
        body += connection.recv(65536)
    if status(head) != 201:
        raise ConnectionError(f"POST /publish answered {status(head)}")
    return len(head) + 4 + length


def _by_requests(address, host: str, bodies: list[bytes]) -> int:
    total = 0
    with socket.create_connection(address, timeout=TIMEOUT_S) as connection:
        for body in bodies:
            request = (
                f"POST /publish HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            connection.sendall(request)
            total += len(request) + _read_answer(connection)
    return total


def _by_frames(address, host: str, bodies: list[bytes]) -> int:
    """Send each body as a frame; wait until every one came back as an event (so that the
    server has handled them all before it is asked for its CPU)."""
    protocol = WSConnection(ConnectionType.CLIENT)
    total = 0
    with socket.create_connection(address, timeout=TIMEOUT_S) as connection:
        connection.sendall(protocol.send(Request(host=host, target="/ws")))
        accepted = False
        while not accepted:
            protocol.receive_data(connection.recv(65536))
            accepted = any(isinstance(e, AcceptConnection) for e in protocol.events())
        for body in bodies:
            frame = protocol.send(TextMessage(data=body.decode()))
            connection.sendall(frame)
            total += len(frame)
        echoed = 0
        deadline = time.monotonic() + TIMEOUT_S
        while echoed < len(bodies):
            if time.monotonic() > deadline:
                raise TimeoutError("the published frames did not all come back as events")
            protocol.receive_data(connection.recv(65536))
            echoed += sum(
                isinstance(e, TextMessage) and '"notice"' not in e.data for e in protocol.events()
            )
    return total


def measure_publish_cost(url: str, messages: int = MESSAGES) -> dict:
    """Per message, both ways: bytes on the client's socket and the server's CPU in µs."""
    parts = urlsplit(url)
    address, host = (parts.hostname or "127.0.0.1", parts.port or 80), parts.netloc
    bodies = [
        json.dumps({"type": "chat", "data": {"n": n, "text": "hello"}}).encode()
        for n in range(messages)
    ]
    found: dict = {"messages": messages}
    for name, send in (("http", _by_requests), ("websocket", _by_frames)):
        before = fetch_metrics(url)["process"]["cpu_s"]
        sent = send(address, host, bodies)
        after = fetch_metrics(url)["process"]["cpu_s"]
        found[name] = {
            "bytes_per_message": sent / messages,
            "cpu_us_per_message": (after - before) * 1e6 / messages,
        }
    return found


def publish_comparison(run_dir: Path, out: TextIO) -> dict:
    """One client's messages as POST /publish and as WebSocket frames, on a fresh server."""
    print("Comparing a client's messages: POST /publish against WebSocket frames", file=out)
    args = ["--host", "127.0.0.1", "--port", "0", "--paused"]
    (run_dir / "raw").mkdir(exist_ok=True)
    with LabProcess(args, log=run_dir / "raw" / "publish-server.log") as server:
        return measure_publish_cost(server.url)
