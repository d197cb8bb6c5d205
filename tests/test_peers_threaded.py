"""The two peers that hold a stream in an OS thread or a whole process: flask-threaded
(Werkzeug's threaded server) and django-wsgi (gunicorn's sync workers over an SQLite file).

Real servers over real sockets, each started as `lab peer NAME` is. What is particular to
these two is tested here: a stream per thread that must end when its client goes, a stream
per worker process that keeps every other request waiting, ids numbered by one database
for several processes, and counters added up over the workers. (The contract that every
peer shares is tested in test_peers.py.)
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import SSEClient, wait_until

from lab.lab_process import LabProcess

RATE = "20"  # events a second: a stream has its next event within 50 ms
STOP_WITHIN_S = 3.0
FIXTURES = {"flask-threaded": "flask_peer", "django-wsgi": "django_peer"}


def start(name: str, *args: str) -> LabProcess:
    return LabProcess([name, "--port", "0", "--rate", RATE, *args], command_name="peer")


@pytest.fixture(scope="module")
def flask_peer() -> Iterator[LabProcess]:
    with start("flask-threaded") as peer:
        yield peer


@pytest.fixture(scope="module")
def django_peer() -> Iterator[LabProcess]:
    with start("django-wsgi", "--workers", "2") as peer:
        yield peer


@pytest.fixture(params=FIXTURES)
def peer(request) -> LabProcess:
    return request.getfixturevalue(FIXTURES[request.param])


def metrics(peer: LabProcess) -> dict:
    response = requests.get(peer.url + "/metrics", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def last_id(peer: LabProcess) -> int:
    return requests.get(peer.url + "/poll", timeout=5).json()["last_id"]


def ids(events) -> list[int]:
    return [int(event.id) for event in events]


def send_request(peer: LabProcess, path: str) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", peer.port), timeout=5)
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return client


def test_a_stream_opens_with_retry_and_sends_consecutive_ids(peer: LabProcess) -> None:
    with SSEClient(peer.url + "/sse") as stream:
        events = stream.events(5)
        headers = stream.response.headers
        assert stream.response.status_code == 200
        assert headers["Content-Type"].startswith("text/event-stream")
        assert headers["Cache-Control"] == "no-cache"
        assert headers["X-Accel-Buffering"] == "no"
        # The lab's load client decodes chunked HTTP/1.1 from a raw socket.
        assert headers["Transfer-Encoding"] == "chunked"
        assert stream.response.raw.version == 11
        assert bytes(stream.raw).startswith(b"retry: 1000\n\n")
    first = ids(events)[0]
    assert ids(events) == list(range(first, first + 5))
    assert all(event.event == "tick" for event in events)


def test_a_stream_resumes_after_last_event_id_without_a_gap(peer: LabProcess) -> None:
    newest = wait_until(lambda: (n := last_id(peer)) >= 4 and n, what="four events")
    resume_after = newest - 3
    with SSEClient(peer.url + "/sse", headers={"Last-Event-ID": str(resume_after)}) as stream:
        events = stream.events(6)
    assert ids(events) == list(range(resume_after + 1, resume_after + 7))


def test_a_vanished_client_frees_its_thread(flask_peer: LabProcess) -> None:
    client = send_request(flask_peer, "/sse")
    assert client.recv(4096).startswith(b"HTTP/1.1 200")
    wait_until(lambda: metrics(flask_peer)["transports"]["sse"]["open"] == 1, what="open stream")
    client.close()
    # Noticed at the first write that fails: one or two events later.
    wait_until(lambda: metrics(flask_peer)["transports"]["sse"]["open"] == 0, what="open 0")


def test_two_streams_hold_both_workers_and_the_next_request_waits(django_peer: LabProcess) -> None:
    first = SSEClient(django_peer.url + "/sse")
    with first, SSEClient(django_peer.url + "/sse") as second:
        first.next_event()
        second.next_event()
        waiting = send_request(django_peer, "/metrics")
        waiting.settimeout(1.5)
        with pytest.raises(TimeoutError):
            waiting.recv(4096)
        first.close()
        waiting.settimeout(5)
        assert waiting.recv(4096).startswith(b"HTTP/1.1 200")
    waiting.close()


def test_ids_stay_consecutive_when_workers_and_the_ticker_publish(django_peer: LabProcess) -> None:
    before = last_id(django_peer)
    published: list[int] = []

    def interleaved() -> bool:
        """Enough published, with a tick numbered in between."""
        return len(published) >= 10 and max(published) - min(published) >= len(published)

    def publish_some() -> None:
        deadline = time.monotonic() + 5
        while not interleaved() and time.monotonic() < deadline:
            # A new connection each time: sync workers close theirs after every answer.
            response = requests.post(django_peer.url + "/publish", json={"data": 1}, timeout=5)
            published.append(response.json()["id"])

    # Two publishers at once keep both workers busy, so each worker inserts some.
    publishers = [threading.Thread(target=publish_some) for _ in range(2)]
    for publisher in publishers:
        publisher.start()
    for publisher in publishers:
        publisher.join(timeout=10)
    assert interleaved()
    assert len(set(published)) == len(published)
    with SSEClient(django_peer.url + "/sse", headers={"Last-Event-ID": str(before)}) as stream:
        events = []
        while not events or int(events[-1].id) < max(published):
            events.append(stream.next_event())
    assert ids(events) == list(range(before + 1, before + 1 + len(events)))
    assert set(published) <= set(ids(events))
    assert {event.event for event in events} == {"tick", "message"}


def test_metrics_add_up_every_workers_counters(django_peer: LabProcess) -> None:
    wait_until(lambda: metrics(django_peer)["transports"]["sse"]["open"] == 0, what="no stream")
    before = metrics(django_peer)["transports"]
    with SSEClient(django_peer.url + "/sse") as stream:
        stream.next_event()
        # The stream holds one worker: the polls and /metrics are the other one's.
        for _ in range(3):
            assert requests.get(django_peer.url + "/poll", timeout=5).status_code == 200
        assert requests.get(django_peer.url + "/poll?since=x", timeout=5).status_code == 400
        during = metrics(django_peer)
    transports = during["transports"]
    assert transports["sse"]["requests"] - before["sse"]["requests"] == 1
    assert transports["sse"]["open"] == 1
    assert transports["sse"]["events_sent"] > before["sse"]["events_sent"]
    polls = transports["short_polling"]
    assert polls["requests"] - before["short_polling"]["requests"] == 4
    assert polls["responses"]["400"] - before["short_polling"]["responses"].get("400", 0) == 1
    # This process, gunicorn's arbiter and the two workers.
    assert len(during["process"]["pids"]) == 4
    assert during["process"]["cpu_s"] > 0


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def temporary_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("lab-django-wsgi-*"))


@pytest.mark.parametrize("name", FIXTURES)
def test_sigterm_stops_the_peer_with_open_streams(name: str) -> None:
    folders_before = temporary_folders()
    with start(name, *(["--workers", "2"] if name == "django-wsgi" else [])) as peer:
        pids = metrics(peer)["process"].get("pids", [peer.process.pid])
        first = SSEClient(peer.url + "/sse")
        with first, SSEClient(peer.url + "/sse") as second:
            first.next_event()
            second.next_event()
            started = time.monotonic()
            assert peer.stop(timeout=10) == 0
            assert time.monotonic() - started < STOP_WITHIN_S
    # gunicorn's arbiter may exit a moment before its killed workers are gone.
    wait_until(lambda: not [pid for pid in pids if running(pid)], timeout=2, what="no process")
    assert temporary_folders() <= folders_before
