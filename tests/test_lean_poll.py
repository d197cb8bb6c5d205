"""lab.lean_poll: the plain polls answered without Flask, byte for byte as Flask answers
them, and counted the same way (a real server over real sockets)."""

from __future__ import annotations

import re
import socket

import pytest
from helpers import address_of

from lab.lean_poll import plain_query

THROUGH_FLASK = "&via=%66lask"
"""A parameter the polls ignore, but written so that only a decoding parser can read it:
the same question then goes through Flask instead of the lean path."""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("since=5", {"since": "5"}),
        ("since=5&epoch=k3x9&timeout=2.5", {"since": "5", "epoch": "k3x9", "timeout": "2.5"}),
        ("since=1&since=2", {"since": "1"}),  # the first, as Flask's request.args.get
        ("since", {"since": ""}),
        ("&&since=3&", {"since": "3"}),
        ("since=4@k3x9", {"since": "4@k3x9"}),
        ("since=%35", None),  # percent-decoding would change it
        ("si%6Ece=5", None),
        ("since=+5", None),
        ("since=5;x=1", None),
        ("since=５", None),
        ("since= 5", None),
    ],
)
def test_plain_query(query, expected):
    assert plain_query(query) == expected


def exchange(client: socket.socket, target: str) -> bytes:
    """Send one GET and return the whole raw response (head and Content-Length body)."""
    client.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while True:
        head, found, body = received.partition(b"\r\n\r\n")
        if found:
            length = re.search(rb"Content-Length: (\d+)", head)
            if len(body) >= (int(length[1]) if length else 0):
                return received
        data = client.recv(65536)
        assert data, f"the connection closed; got {received!r}"
        received += data


def without_date(response: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*", b"", response)


def test_the_lean_answers_are_the_bytes_flask_sends(server):
    since = server.last_id()
    for n in range(3):
        server.publish(f"message {n}")
    epoch = server.epoch()
    targets = [
        "/poll",
        "/poll?since=0",
        f"/poll?since={since + 1}",
        f"/poll?since={since + 3}",
        f"/poll?since={since}&epoch={epoch}",
        f"/poll?since={since}@{epoch}",
        "/poll?since=1&epoch=zzzz",  # another run's cursor: a restart notice
        f"/longpoll?since={since}&timeout=5",  # news: answered at once
    ]
    with socket.create_connection(address_of(server)) as client:
        client.settimeout(10)
        for target in targets:
            separator = "&" if "?" in target else "?"
            lean = exchange(client, target)
            full = exchange(client, target + separator + THROUGH_FLASK.lstrip("&"))
            assert without_date(lean) == without_date(full), target
            assert lean.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nDate: " in lean


def test_lean_polls_are_counted_at_the_socket_like_any_request(server):
    last = server.last_id()  # a poll itself: asked before the counts are taken
    before = server.counters("short_polling")
    sent = received = 0
    with socket.create_connection(address_of(server)) as client:
        client.settimeout(10)
        for _ in range(5):
            request = f"GET /poll?since={last} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            sent += len(request)
            received += len(exchange(client, f"/poll?since={last}"))
    after = server.counters("short_polling")
    assert after["requests"] - before["requests"] == 5
    assert int(after["responses"]["200"]) - int(before["responses"].get("200", 0)) == 5
    assert after["empty_responses"] - before["empty_responses"] == 5
    assert after["bytes_in"] - before["bytes_in"] == sent
    assert after["bytes_out"] - before["bytes_out"] == received
    assert after["open"] == 0


@pytest.mark.parametrize(
    ("target", "status", "words"),
    [
        ("/poll?since=abc", 400, "whole number"),
        ("/poll?since=99999999", 400, "ahead of the newest event"),
        ("/longpoll?since=0&timeout=0", 400, "above 0"),
    ],
)
def test_what_the_lean_path_leaves_to_flask_is_still_answered(server, target, status, words):
    with socket.create_connection(address_of(server)) as client:
        client.settimeout(10)
        response = exchange(client, target)
    assert response.startswith(b"HTTP/1.1 %d " % status) and words.encode() in response
