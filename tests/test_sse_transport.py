"""GET /sse against a real server: framing, resume, gaps, heartbeats, limits, departures."""

from __future__ import annotations

import json
import socket
import time

import pytest
from helpers import SSEClient, address_of, event_number, run_server, wait_until

from lab.http_chunks import ChunkedDecoder
from lab.sse import SSEDecoder


def payload(event) -> dict:
    return json.loads(event.data)


def test_headers_and_retry_come_first(server):
    with SSEClient(server.url + "/sse") as stream:
        headers = stream.response.headers
        assert stream.response.status_code == 200
        assert headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert headers["Cache-Control"] == "no-cache"
        assert headers["X-Accel-Buffering"] == "no"
        raw = stream.read_until(lambda raw: b"\n\n" in raw)
        assert raw.startswith(b"retry: 1500\n\n")
        assert stream.decoder.retry == 1500


def test_starts_live_and_frames_each_event(server):
    server.publish("old")
    with SSEClient(server.url + "/sse") as stream:
        stream.read_until(lambda raw: raw.endswith(b"\n\n"))
        quote = server.publish({"price": 1}, type="quote")
        message = server.publish("plain")
        first, second = stream.events(2)
        raw = bytes(stream.raw)
    epoch = server.epoch()
    assert (first.event, first.id, payload(first)) == ("quote", f"{quote['id']}@{epoch}", quote)
    assert (second.event, second.id, payload(second)) == (
        "message",
        f"{message['id']}@{epoch}",
        message,
    )
    assert f"id: {quote['id']}@{epoch}\nevent: quote\ndata: ".encode() in raw
    # The default type is written without an event line.
    assert f"id: {message['id']}@{epoch}\ndata: ".encode() in raw
    assert b"old" not in raw


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_gives_exactly_the_missed_events(server, how):
    seen = server.publish("seen")["id"]
    missed = [server.publish(f"missed {i}")["id"] for i in range(3)]
    if how == "header":
        stream = SSEClient(server.url + "/sse", headers={"Last-Event-ID": str(seen)})
    else:
        stream = SSEClient(server.url + f"/sse?last_event_id={seen}")
    with stream:
        got = [event_number(e.id) for e in stream.events(3)]
        after = server.publish("live")["id"]
        assert got == missed
        assert event_number(stream.next_event().id) == after


def test_header_wins_over_query(server):
    a = server.publish("a")["id"]
    b = server.publish("b")["id"]
    url = server.url + f"/sse?last_event_id={a - 1}"
    with SSEClient(url, headers={"Last-Event-ID": str(a)}) as stream:
        assert event_number(stream.next_event().id) == b


def test_resume_older_than_history_sends_a_gap_notice_first():
    with run_server("--rate", "0", "--history", "3") as small:
        for i in range(6):
            small.publish(i)
        with SSEClient(small.url + "/sse", headers={"Last-Event-ID": "1"}) as stream:
            gap = stream.next_event()
            assert gap.event == "gap"
            assert payload(gap) == {"after": 1, "resumed_from": 4, "lost": 2}
            assert gap.id == ""  # a notice carries no id, so it never moves a cursor
            assert [event_number(e.id) for e in stream.events(3)] == [4, 5, 6]


def test_heartbeat_comment_when_idle(server):
    with SSEClient(server.url + "/sse") as stream:
        raw = stream.read_until(lambda raw: b": ping\n\n" in raw)
        assert raw.startswith(b"retry:")


def test_no_heartbeat_when_turned_off():
    with (
        run_server("--rate", "0", "--heartbeat", "0") as quiet,
        SSEClient(quiet.url + "/sse", read_timeout=1.5) as stream,
    ):
        stream.read_until(lambda raw: raw.endswith(b"\n\n"))
        # Nothing arrives within the read timeout: no heartbeat was sent.
        with pytest.raises(Exception, match="(?i)timed out|timeout"):
            stream.read_until(lambda raw: b"ping" in raw)


def test_limit_ends_the_stream_with_a_close_event(server):
    since = server.last_id()
    for i in range(3):
        server.publish(i)
    with SSEClient(server.url + f"/sse?last_event_id={since}&limit=2") as stream:
        events = stream.events(3)
        assert [e.event for e in events] == ["message", "message", "close"]
        assert payload(events[2]) == {"reason": "limit", "sent": 2}
        with pytest.raises(StopIteration):
            stream.next_event()


@pytest.mark.parametrize(
    ("headers", "query", "words"),
    [
        ({"Last-Event-ID": "abc"}, "", "Last-Event-ID"),
        ({"Last-Event-ID": "-2"}, "", "0 or more"),
        ({"Last-Event-ID": "999999999"}, "", "restarted"),
        ({}, "?last_event_id=1e3", "whole number"),
        ({}, "?limit=0", "limit"),
        ({}, "?limit=many", "limit"),
    ],
)
def test_bad_resume_point_or_limit_is_a_clear_400(server, headers, query, words):
    response = server.get("/sse" + query, headers=headers)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert server.get("/poll").status_code == 200


def test_client_that_leaves_is_noticed_and_open_drops_back(server):
    before = server.counters("sse")["open"]
    host, port = server.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(f"GET /sse HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    client.recv(4096)
    wait_until(lambda: server.counters("sse")["open"] == before + 1, what="stream open")
    client.close()
    # The heartbeat here is 0.5 s; the stream must be released within about one of them.
    wait_until(lambda: server.counters("sse")["open"] == before, timeout=3, what="release")
    assert server.metrics()["held"]["count"] == 0


def test_client_that_leaves_is_noticed_even_without_heartbeats():
    with run_server("--rate", "0", "--heartbeat", "0") as quiet:
        host, port = quiet.url.removeprefix("http://").split(":")
        client = socket.create_connection((host, int(port)))
        client.sendall(f"GET /sse HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        client.recv(4096)
        wait_until(lambda: quiet.counters("sse")["open"] == 1, what="stream open")
        client.close()
        wait_until(lambda: quiet.counters("sse")["open"] == 0, timeout=3, what="release")


def test_more_streams_than_the_limit_get_503():
    with run_server("--rate", "0", "--max-streams", "1") as small:
        with SSEClient(small.url + "/sse") as first:
            first.read_until(lambda raw: b"retry" in raw)
            refused = small.get("/sse")
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
        wait_until(lambda: small.metrics()["held"]["count"] == 0, what="first stream released")
        with SSEClient(small.url + "/sse") as again:
            assert again.response.status_code == 200


def test_a_slow_reader_gets_everything_and_does_not_hold_up_the_others():
    # The stalled client's socket buffers fill up, so the server's writes to it would block:
    # its stream must leave the fast path, finish each chunk later, and lose nothing, while
    # a reader that keeps up receives every event meanwhile.
    with run_server("--rate", "0", "--max-body-bytes", "200000") as busy:
        host, port = busy.url.removeprefix("http://").split(":")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((host, int(port)))
        stalled.sendall(f"GET /sse HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        with SSEClient(busy.url + "/sse") as fast:
            fast.read_until(lambda raw: b"retry" in raw)
            wait_until(lambda: busy.counters("sse")["open"] == 2, what="both streams")
            big = "y" * 50_000
            published = [busy.publish(f"{i}:{big}") for i in range(60)]
            received = [event_number(e.id) for e in fast.events(len(published))]
            assert received == [p["id"] for p in published]

        decoder, chunks, got = SSEDecoder(), ChunkedDecoder(), []
        stalled.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head:
            head += stalled.recv(65536)
        body = head.split(b"\r\n\r\n", 1)[1]
        while len(got) < len(published):
            got.extend(decoder.decode(chunks.decode(body)))
            if len(got) < len(published):
                body = stalled.recv(65536)
                assert body, "the server closed the slow reader's stream"
        stalled.close()
    assert [event_number(e.id) for e in got] == [p["id"] for p in published]
    assert [json.loads(e.data) for e in got] == published


def read_sse_until(client, count: int, deadline_s: float = 15.0) -> bytes:
    """Read a raw /sse answer until it holds `count` events (frames with an id line)."""
    received = b""
    deadline = time.monotonic() + deadline_s
    while received.count(b"\nid: ") + received.startswith(b"id: ") < count:
        assert time.monotonic() < deadline, f"{received.count(b'id: ')} of {count} events"
        client.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = client.recv(65536)
        assert chunk, "the server closed the stream early"
        received += chunk
    return received


def read_to_end(client, received: bytes, deadline_s: float = 15.0) -> bytes:
    """Read the rest of a chunked answer, up to its last (empty) chunk; the connection
    itself stays open for the next request."""
    deadline = time.monotonic() + deadline_s
    while not received.endswith(b"\r\n0\r\n\r\n"):
        assert time.monotonic() < deadline, f"the stream did not end: {received[-80:]!r}"
        client.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = client.recv(65536)
        assert chunk, "the connection closed before the stream's last chunk"
        received += chunk
    return received


def test_fan_out_counters_are_exact_for_a_fast_and_a_slow_reader():
    """Streams without ?limit= take the fan-out path; every byte and event is counted,
    the slow reader's (which leaves the fast path and catches up) included."""
    with run_server("--rate", "0", "--heartbeat", "0") as lab:
        host, port = address_of(lab)
        before = lab.counters("sse")
        request = f"GET /sse HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        fast = socket.create_connection((host, port))
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((host, port))
        try:
            fast.sendall(request)
            slow.sendall(request)
            wait_until(lambda: lab.counters("sse")["open"] == before["open"] + 2, what="2 open")
            published = [lab.publish("f" * 60_000) for _ in range(60)]  # 3.6 MB each
            fast_bytes = read_sse_until(fast, len(published))
            slow_bytes = read_sse_until(slow, len(published))
            assert lab.drop() == {"dropped": 2}
            fast_bytes = read_to_end(fast, fast_bytes)
            slow_bytes = read_to_end(slow, slow_bytes)
        finally:
            fast.close()
            slow.close()
        wait_until(lambda: lab.counters("sse")["open"] == before["open"], what="both closed")
        after = lab.counters("sse")
    assert after["events_sent"] - before["events_sent"] == 2 * len(published)
    assert after["bytes_out"] - before["bytes_out"] == len(fast_bytes) + len(slow_bytes)
    assert after["bytes_in"] - before["bytes_in"] == 2 * len(request)
    assert after["disconnects"] == before["disconnects"]


def test_a_client_that_leaves_is_one_disconnect_and_nothing_more_is_sent_to_it():
    with run_server("--rate", "0", "--heartbeat", "0") as lab:
        host, port = address_of(lab)
        before = lab.counters("sse")
        client = socket.create_connection((host, port))
        client.sendall(f"GET /sse HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        wait_until(lambda: lab.counters("sse")["open"] == before["open"] + 1, what="open")
        lab.publish("one")
        received = read_sse_until(client, 1)
        client.close()
        wait_until(lambda: lab.counters("sse")["open"] == before["open"], what="noticed")
        after = lab.counters("sse")
    assert after["disconnects"] - before["disconnects"] == 1
    assert after["bytes_out"] - before["bytes_out"] == len(received)
