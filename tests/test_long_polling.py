"""GET /longpoll against a real server: hold, answer, time out, notice departures."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from helpers import run_server, wait_until


def test_answers_at_once_when_news_exists(server):
    since = server.last_id()
    published = server.publish("ready")
    started = time.monotonic()
    response = server.get(f"/longpoll?since={since}&timeout=30")
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert response.json()["events"] == [published]


def test_holds_until_an_event_is_published(server):
    since = server.last_id()
    result = {}

    def ask() -> None:
        result["response"] = server.get(f"/longpoll?since={since}&timeout=30")

    asker = threading.Thread(target=ask)
    asker.start()
    wait_until(lambda: server.counters("long_polling")["open"] >= 1, what="the poll to be held")
    published = server.publish("news")
    asker.join(timeout=10)
    assert result["response"].status_code == 200
    assert result["response"].json()["events"] == [published]


def test_without_since_waits_for_the_next_event(server):
    server.publish("old news")
    result = {}
    asker = threading.Thread(
        target=lambda: result.setdefault("r", server.get("/longpoll?timeout=30"))
    )
    asker.start()
    wait_until(lambda: server.counters("long_polling")["open"] >= 1, what="the poll to be held")
    fresh = server.publish("fresh")
    asker.join(timeout=10)
    assert result["r"].json()["events"] == [fresh]


def test_timeout_is_answered_with_204_and_no_body(server):
    started = time.monotonic()
    response = server.get(f"/longpoll?since={server.last_id()}&timeout=0.3")
    elapsed = time.monotonic() - started
    assert response.status_code == 204
    assert response.content == b""
    assert 0.25 < elapsed < 5


@pytest.mark.parametrize("timeout", ["0", "-1", "121", "abc", "nan", "inf"])
def test_timeout_out_of_range_is_400(server, timeout):
    response = server.get("/longpoll", params={"timeout": timeout})
    assert response.status_code == 400
    assert "timeout" in response.json()["error"]


@pytest.mark.parametrize("since", ["x", "-3", "10000000"])
def test_bad_since_is_400(server, since):
    response = server.get("/longpoll", params={"since": since, "timeout": "1"})
    assert response.status_code == 400
    assert "since" in response.json()["error"]


def test_client_that_leaves_is_noticed_and_open_drops_back(server):
    before = server.counters("long_polling")["open"]
    host, port = server.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(
        f"GET /longpoll?since={server.last_id()}&timeout=100 HTTP/1.1\r\n"
        f"Host: {host}\r\n\r\n".encode()
    )
    wait_until(lambda: server.counters("long_polling")["open"] == before + 1, what="held")
    client.close()
    # Noticed through the socket, long before the 100 s timeout.
    wait_until(lambda: server.counters("long_polling")["open"] == before, timeout=5, what="release")
    assert server.metrics()["held"]["count"] == 0


def test_more_held_requests_than_the_limit_get_503_with_retry_after():
    with run_server("--rate", "0", "--max-streams", "2") as small:
        sessions = [requests.Session() for _ in range(2)]
        threads = [
            threading.Thread(target=s.get, args=(small.url + "/longpoll?timeout=30",))
            for s in sessions
        ]
        for thread in threads:
            thread.start()
        wait_until(lambda: small.metrics()["held"]["count"] == 2, what="two held polls")
        refused = small.get("/longpoll?timeout=30")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "max-streams" in refused.json()["error"]
        # Short polls are never held, so they are still served.
        assert small.get("/poll").status_code == 200
        small.publish("release them")
        for thread in threads:
            thread.join(timeout=10)
