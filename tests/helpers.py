"""Test support: run the real server as a user would, and read its SSE stream."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests

from lab.sse import ServerSentEvent, SSEDecoder

START_TIMEOUT = 15.0


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

    def publish(self, data: object = "hello", type: str | None = None) -> dict:
        body = {"data": data} if type is None else {"data": data, "type": type}
        response = self.post("/publish", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def last_id(self) -> int:
        return self.get("/poll").json()["last_id"]

    def metrics(self) -> dict:
        return self.get("/metrics").json()

    def counters(self, transport: str) -> dict:
        return self.metrics()["transports"][transport]


@contextmanager
def run_server(*args: str) -> Iterator[LabServer]:
    """Start `python -m lab serve --port 0 ARGS` and stop it afterwards.

    The server prints its address as its first line, so no port is guessed.
    """
    command = [sys.executable, "-m", "lab", "serve", "--port", "0", *args]
    if "--host" not in args:
        command += ["--host", "127.0.0.1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    url = None
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the server did not start: {''.join(output)}") from None
            if line.startswith("listening on "):
                url = line.removeprefix("listening on ").strip().rstrip("/")
        yield LabServer(url=url, process=process, output=output)
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    """Ask a server to stop (SIGTERM: it ends its streams first), and make sure it did."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class SSEClient:
    """Reads /sse with `requests` and the lab's own parser, keeping raw bytes for checks."""

    def __init__(self, url: str, headers: dict | None = None, read_timeout: float = 10.0):
        self.response = requests.get(
            url, headers=headers or {}, stream=True, timeout=(5, read_timeout)
        )
        self.decoder = SSEDecoder()
        self.raw = bytearray()
        self._chunks = self.response.iter_content(chunk_size=None)
        self._pending: list[ServerSentEvent] = []

    def _read_chunk(self) -> None:
        chunk = next(self._chunks)  # the read timeout bounds each wait
        self.raw += chunk
        self._pending.extend(self.decoder.decode(chunk))

    def next_event(self) -> ServerSentEvent:
        while not self._pending:
            self._read_chunk()
        return self._pending.pop(0)

    def read_until(self, predicate: Callable[[bytes], bool]) -> bytes:
        """Read until the raw bytes so far satisfy `predicate` (e.g. hold a comment)."""
        while not predicate(bytes(self.raw)):
            self._read_chunk()
        return bytes(self.raw)

    def events(self, count: int) -> list[ServerSentEvent]:
        return [self.next_event() for _ in range(count)]

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> SSEClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
