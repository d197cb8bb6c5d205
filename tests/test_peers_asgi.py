"""The three asyncio peers on uvicorn: fastapi, fastapi-three-yields and django-asgi.

Real servers over real sockets, each started as `lab peer NAME` is. What is particular to
them is tested here: the stream's framing and resume, a queue per stream that goes when
its client goes, a quick stop with streams open, and the one difference between fastapi
and fastapi-three-yields that the report's claim S3 rests on: three chunks per event on
the wire instead of one. (The contract that every peer shares is tested in test_peers.py.)
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests
from helpers import SSEClient, wait_until

from lab.lab_process import LabProcess

ASGI_PEERS = ("fastapi", "fastapi-three-yields", "django-asgi")
RATE = "20"  # events a second: a stream has its next event within 50 ms
STOP_WITHIN_S = 3.0


def start(name: str) -> LabProcess:
    return LabProcess([name, "--port", "0", "--rate", RATE], command_name="peer")


@pytest.fixture(scope="module", params=ASGI_PEERS)
def peer(request) -> Iterator[LabProcess]:
    with start(request.param) as running:
        yield running


def metrics(peer: LabProcess) -> dict:
    return requests.get(peer.url + "/metrics", timeout=5).json()


def ids(events) -> list[int]:
    return [int(event.id) for event in events]


def test_a_stream_opens_with_retry_and_sends_consecutive_ids(peer: LabProcess) -> None:
    with SSEClient(peer.url + "/sse") as stream:
        events = stream.events(5)
        headers = stream.response.headers
        assert stream.response.status_code == 200
        assert headers["Content-Type"].startswith("text/event-stream")
        assert headers["Cache-Control"] == "no-cache"
        assert headers["X-Accel-Buffering"] == "no"
        assert headers["Transfer-Encoding"] == "chunked"  # what the lab's load client reads
        assert bytes(stream.raw).startswith(b"retry: 1000\n\n")
    first = ids(events)[0]
    assert ids(events) == list(range(first, first + 5))
    assert all(event.event == "tick" for event in events)


def test_a_stream_resumes_after_last_event_id_without_a_gap(peer: LabProcess) -> None:
    newest = wait_until(
        lambda: (n := requests.get(peer.url + "/poll", timeout=5).json()["last_id"]) >= 4 and n,
        what="four events",
    )
    with SSEClient(peer.url + "/sse", headers={"Last-Event-ID": str(newest - 3)}) as stream:
        events = stream.events(6)
    assert ids(events) == list(range(newest - 2, newest + 4))


def test_a_vanished_client_takes_its_queue_with_it(peer: LabProcess) -> None:
    wait_until(lambda: metrics(peer)["transports"]["sse"]["open"] == 0, what="no stream open")
    client = socket.create_connection(("127.0.0.1", peer.port), timeout=5)
    client.sendall(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert client.recv(4096).startswith(b"HTTP/1.1 200")
    wait_until(lambda: metrics(peer)["transports"]["sse"]["open"] == 1, what="one stream open")
    client.close()
    wait_until(lambda: metrics(peer)["transports"]["sse"]["open"] == 0, what="the stream ended")


def chunks_per_event(peer: LabProcess, events: int = 5) -> float:
    """Chunks on the wire per event, read from a raw socket: each `yield` is one chunk."""
    client = socket.create_connection(("127.0.0.1", peer.port), timeout=5)
    client.sendall(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    deadline = time.monotonic() + 10
    while received.count(b"data: ") < events + 1:
        assert time.monotonic() < deadline, f"no {events} events in 10 s: {received[-300:]!r}"
        received += client.recv(65536)
    client.close()
    payloads = chunk_payloads(received.split(b"\r\n\r\n", 1)[1])
    retry, *rest = payloads
    assert retry.startswith(b"retry:")
    # Up to the last chunk that ends an event: a later one may be an event's first line.
    last_end = max(i for i, payload in enumerate(rest) if payload.endswith(b"\n\n"))
    whole = rest[: last_end + 1]
    return len(whole) / b"".join(whole).count(b"data: ")


def chunk_payloads(body: bytes) -> list[bytes]:
    """The payloads of the complete chunks at the start of a chunked body."""
    payloads = []
    while True:
        size_line, found, rest = body.partition(b"\r\n")
        if not found or len(rest) < int(size_line, 16) + 2:
            return payloads
        size = int(size_line, 16)
        payloads.append(rest[:size])
        body = rest[size + 2 :]


def test_three_yields_put_three_chunks_on_the_wire_for_each_event() -> None:
    with start("fastapi") as one, start("fastapi-three-yields") as three:
        assert chunks_per_event(one) == pytest.approx(1.0, abs=0.25)
        assert chunks_per_event(three) == pytest.approx(3.0, abs=0.5)


@pytest.mark.parametrize("name", ASGI_PEERS)
def test_sigterm_stops_the_peer_with_open_streams(name: str) -> None:
    with start(name) as peer:
        first = SSEClient(peer.url + "/sse")
        with first, SSEClient(peer.url + "/sse") as second:
            first.next_event()
            second.next_event()
            started = time.monotonic()
            assert peer.stop(timeout=10) == 0
            assert time.monotonic() - started < STOP_WITHIN_S
