"""Test support: run the real server as a user would, and read its SSE stream."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests

from lab.lab_process import LabProcess, ServerDidNotStart
from lab.sse import ServerSentEvent, SSEDecoder

START_TIMEOUT = 15.0


def event_number(sse_id: str) -> int:
    """The event number in an SSE id such as "41@k3x9" (the part before the epoch)."""
    return int(sse_id.partition("@")[0])


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


@dataclass
class LabServer:
    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.post(self.url + path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.put(self.url + path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.delete(self.url + path, **kwargs)

    def publish(self, data: object = "hello", type: str | None = None) -> dict:
        body = {"data": data} if type is None else {"data": data, "type": type}
        response = self.post("/publish", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def drop(self) -> dict:
        """POST /drop as the page does: a JSON content type, which no cross-site form sends."""
        response = self.post("/drop", headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        return response.json()

    def epoch(self) -> str:
        return self.get("/source").json()["epoch"]

    def sse_id(self, event: dict) -> str:
        """The SSE id of a published event: its number and this server run's epoch."""
        return f"{event['id']}@{self.epoch()}"

    def last_id(self) -> int:
        return self.get("/poll").json()["last_id"]

    def metrics(self) -> dict:
        return self.get("/metrics").json()

    def counters(self, transport: str) -> dict:
        return self.metrics()["transports"][transport]


@contextmanager
def run_server(
    *args: str, preexec_fn: Callable[[], None] | None = None, source_dir: str | None = None
) -> Iterator[LabServer]:
    """Start `python -m lab serve --port 0 ARGS` and stop it afterwards.

    The server prints its address as its first line, so no port is guessed. `source_dir`
    runs the server of another checkout (for before/after benchmarks).
    """
    args = ("--port", "0", *args) if "--port" not in args else args
    if "--host" not in args:
        args = (*args, "--host", "127.0.0.1")
    try:
        lab = LabProcess(
            args,
            preexec_fn=preexec_fn,
            cwd=source_dir,
            pythonpath=source_dir,
            timeout=START_TIMEOUT,
        )
    except ServerDidNotStart as error:
        raise AssertionError(f"the server did not start: {error}") from None
    try:
        yield LabServer(url=lab.url, process=lab.process, output=lab.output)
    finally:
        lab.stop()


def stop_process(process: subprocess.Popen) -> None:
    """Ask a server to stop (SIGTERM: it ends its streams first), and make sure it did."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class SSEClient:
    """Reads /sse with `requests` and the lab's own parser, keeping raw bytes for checks.

    Every wait has a deadline (`timeout`, 10 s unless told): a heartbeat keeps a stream
    from ever going silent, so a per-read timeout alone would wait for ever for an event
    that never comes. A wait that runs out fails with what was awaited and what came.
    """

    def __init__(
        self,
        url: str,
        headers: dict | None = None,
        read_timeout: float = 10.0,
        timeout: float = 10.0,
    ):
        self.response = requests.get(
            url, headers=headers or {}, stream=True, timeout=(5, read_timeout)
        )
        self.timeout = timeout
        self.decoder = SSEDecoder()
        self.raw = bytearray()
        self._chunks = self.response.iter_content(chunk_size=None)
        self._pending: list[ServerSentEvent] = []

    def _read_chunk(self, deadline: float, awaited: str, since: int) -> None:
        if time.monotonic() > deadline:
            got = bytes(self.raw[since:])
            raise AssertionError(
                f"gave up after {self.timeout:g} s waiting for {awaited}; the stream sent "
                f"{len(got)} bytes meanwhile: {got[-300:]!r}"
            )
        chunk = next(self._chunks)  # the read timeout bounds each single wait
        self.raw += chunk
        self._pending.extend(self.decoder.decode(chunk))

    def next_event(self, timeout: float | None = None) -> ServerSentEvent:
        deadline = time.monotonic() + (timeout or self.timeout)
        since = len(self.raw)
        while not self._pending:
            self._read_chunk(deadline, "the next event", since)
        return self._pending.pop(0)

    def read_until(self, predicate: Callable[[bytes], bool], what: str = "") -> bytes:
        """Read until the raw bytes so far satisfy `predicate` (e.g. hold a comment)."""
        deadline = time.monotonic() + self.timeout
        since = len(self.raw)
        while not predicate(bytes(self.raw)):
            self._read_chunk(deadline, what or "the bytes the test expects", since)
        return bytes(self.raw)

    def events(self, count: int) -> list[ServerSentEvent]:
        deadline = time.monotonic() + self.timeout
        found = []
        for _ in range(count):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"gave up after {self.timeout:g} s with {len(found)} "
                    f"of {count} events: {[e.id for e in found]}"
                )
            found.append(self.next_event(left))
        return found

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> SSEClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def address_of(server: LabServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def open_socket(server: LabServer, receive_buffer: int | None = None) -> socket.socket:
    """A raw TCP connection to the server (a small receive buffer makes a slow reader)."""
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.settimeout(10)
    client.connect(address_of(server))
    return client


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    rest: bytes
    """Bytes that arrived after this response (e.g. the next pipelined answer)."""

    def json(self) -> object:
        import json

        return json.loads(self.body)


def read_response(
    client: socket.socket, timeout: float = 10.0, head_only: bool = False
) -> RawResponse:
    """Read one HTTP/1.1 response with a Content-Length (or none: up to the close).

    `head_only` reads the head alone (the answer to a HEAD request, whose Content-Length
    describes a body that is not sent). Fails after `timeout` seconds with what arrived.
    """
    deadline = time.monotonic() + timeout
    received = b""

    def more() -> bool:
        nonlocal received
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no complete response within {timeout} s; got {received[:300]!r}")
        client.settimeout(remaining)
        try:
            data = client.recv(65536)
        except TimeoutError:
            raise AssertionError(
                f"no complete response within {timeout} s; got {received[:300]!r}"
            ) from None
        received += data
        return bool(data)

    while b"\r\n\r\n" not in received:
        if not more():
            raise AssertionError(f"the connection closed before a response head: {received!r}")
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only:
        return RawResponse(status, headers, b"", body)
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(body) < length and more():
            body = received.partition(b"\r\n\r\n")[2]
        body = received.partition(b"\r\n\r\n")[2]
        return RawResponse(status, headers, body[:length], body[length:])
    while more():
        pass
    return RawResponse(status, headers, received.partition(b"\r\n\r\n")[2], b"")


def closed_by_server(client: socket.socket, timeout: float) -> bool:
    """True once the server closes the connection (reading and dropping what it sends);
    False if it is still open after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        client.settimeout(remaining)
        try:
            data = client.recv(65536)
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        if not data:
            return True
