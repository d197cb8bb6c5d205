"""/publish, /source, /drop, /metrics, the page, errors and the token, on a real server."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
from helpers import SSEClient, run_server, wait_until


def test_publish_answers_201_with_the_event_and_every_transport_sees_it(server):
    since = server.last_id()
    response = server.post("/publish", json={"type": "chat", "data": {"text": "안녕하세요"}})
    assert response.status_code == 201
    event = response.json()
    assert event["id"] == since + 1 and event["type"] == "chat"
    assert event["data"] == {"text": "안녕하세요"}
    assert server.get(f"/poll?since={since}").json()["events"] == [event]
    assert server.get(f"/longpoll?since={since}").json()["events"] == [event]


def test_publish_without_type_is_a_message(server):
    assert server.publish([1, None, "x"])["type"] == "message"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"hello", "text/plain", 415, "Content-Type: application/json"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b'{"type": "x"}', "application/json", 400, '"data"'),
        (b"[1, 2]", "application/json", 400, '"data"'),
        (b'{"data": 1, "extra": 2}', "application/json", 400, "unknown field extra"),
        (b'{"data": 1, "type": "a\\nb"}', "application/json", 400, "short token"),
        (b'{"data": 1, "type": "a\\rb"}', "application/json", 400, "short token"),
        (b'{"data": 1, "type": "a:b"}', "application/json", 400, "short token"),
        (b'{"data": 1, "type": ""}', "application/json", 400, "short token"),
        (b'{"data": 1, "type": 5}', "application/json", 400, "short token"),
        (b'{"data": 1, "type": "close"}', "application/json", 400, "reserved"),
        (b'{"data": NaN}', "application/json", 400, "not valid JSON"),
        (b'{"data": [Infinity]}', "application/json", 400, "not valid JSON"),
        (b'{"data": "\\ud800"}', "application/json", 400, "lone surrogate"),
        (b'{"data": "\xff\xfe"}', "application/json", 400, "not valid JSON"),
        (b'{"data": "' + b"x" * 70_000 + b'"}', "application/json", 413, "limit"),
    ],
)
def test_bad_publish_is_refused_clearly(server, body, content_type, status, words):
    before = server.last_id()
    response = server.post("/publish", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert words in response.json()["error"]
    assert server.last_id() == before
    assert server.get("/poll").status_code == 200


def test_hostile_data_reaches_sse_subscribers_intact_and_injects_nothing(server):
    hostile = [
        "line one\nline two",
        "cr\ronly",
        "\r\n\r\ndata: injected\n\nevent: evil\nid: 999\n\n",
        "nul\x00byte",
        ": not a comment",
        "한국어 텍스트 ✓",
        "z" * 60_000,
    ]
    with SSEClient(server.url + "/sse") as stream:
        stream.read_until(lambda raw: raw.endswith(b"\n\n"))
        published = [server.publish(text) for text in hostile]
        received = stream.events(len(hostile))
    assert [json.loads(e.data) for e in received] == published
    assert {e.event for e in received} == {"message"}
    assert [e.id for e in received] == [server.sse_id(p) for p in published]


def test_source_can_be_read_and_changed(server):
    before = server.get("/source").json()
    assert {"rate", "arrivals", "payload_bytes", "paused", "last_id"} <= set(before)
    changed = server.put("/source", json={"payload_bytes": 40, "arrivals": "poisson"}).json()
    assert changed["payload_bytes"] == 40 and changed["arrivals"] == "poisson"
    server.put("/source", json={"payload_bytes": before["payload_bytes"], "arrivals": "fixed"})


def test_ticker_publishes_at_the_rate_set_while_running(server):
    since = server.last_id()
    server.put("/source", json={"rate": 50, "paused": False, "payload_bytes": 5})
    try:
        wait_until(lambda: server.last_id() >= since + 10, timeout=10, what="ten ticks")
    finally:
        server.put("/source", json={"paused": True})
    events = server.get(f"/poll?since={since}").json()["events"]
    ticks = [e for e in events if e["type"] == "tick"]
    assert ticks and ticks[0]["data"]["pad"] == "x" * 5
    paused_at = server.last_id()
    # Paused: a long poll times out with nothing new.
    assert server.get(f"/longpoll?since={paused_at}&timeout=0.5").status_code == 204


@pytest.mark.parametrize(
    "change",
    [
        {"rate": -1},
        {"rate": "fast"},
        {"rate": 1e9},
        {"arrivals": "bursty"},
        {"payload_bytes": 1.5},
        {"payload_bytes": -1},
        {"paused": "yes"},
        {"colour": "red"},
        [1],
    ],
)
def test_nonsense_source_settings_are_400_and_change_nothing(server, change):
    before = server.get("/source").json()
    response = server.put("/source", json=change)
    assert response.status_code == 400
    assert response.json()["error"]
    after = server.get("/source").json()
    assert {k: after[k] for k in ("rate", "arrivals", "payload_bytes", "paused")} == {
        k: before[k] for k in ("rate", "arrivals", "payload_bytes", "paused")
    }


def test_drop_ends_streams_and_held_polls_and_says_how_many(server):
    results = {}

    def hold() -> None:
        results["poll"] = server.get(f"/longpoll?since={server.last_id()}&timeout=60")

    with SSEClient(server.url + "/sse") as stream:
        stream.read_until(lambda raw: b"retry" in raw)
        holder = threading.Thread(target=hold)
        holder.start()
        wait_until(lambda: server.metrics()["held"]["count"] == 2, what="a stream and a poll")
        assert server.drop() == {"dropped": 2}
        raw = stream.read_until(lambda raw: b"dropped" in raw)
        assert b": dropped by the server" in raw
        with pytest.raises(StopIteration):
            stream.next_event()
        holder.join(timeout=10)
    assert results["poll"].status_code == 503
    assert "POST /drop" in results["poll"].json()["error"]
    wait_until(lambda: server.metrics()["held"]["count"] == 0, what="nothing held")


def raw_exchange(url: str, request: bytes) -> bytes:
    """Send one request on a fresh socket and read the whole answer (Connection: close)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(request)
        received = bytearray()
        while chunk := client.recv(65536):
            received += chunk
    return bytes(received)


@pytest.mark.parametrize(
    ("transport", "path"),
    [
        ("short_polling", "/poll?since=0"),
        ("long_polling", "/longpoll?since=0"),
        ("sse", "/sse?last_event_id=0&limit=2"),
    ],
)
def test_bytes_are_counted_at_the_socket_exactly(transport, path):
    with run_server("--rate", "0") as fresh:
        fresh.publish("a")
        fresh.publish("b")
        before = fresh.counters(transport)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        answer = raw_exchange(fresh.url, request)
        wait_until(lambda: fresh.counters(transport)["open"] == 0, what="request finished")
        after = fresh.counters(transport)
    assert after["requests"] - before["requests"] == 1
    assert after["bytes_in"] - before["bytes_in"] == len(request)
    assert after["bytes_out"] - before["bytes_out"] == len(answer)
    assert after["events_sent"] - before["events_sent"] == 2
    assert after["responses"]["200"] - before["responses"].get("200", 0) == 1
    if transport == "sse":
        assert b"Transfer-Encoding: chunked" in answer and answer.endswith(b"0\r\n\r\n")


def test_metrics_has_every_transport_the_source_and_the_process(server):
    metrics = server.metrics()
    for name in ("short_polling", "long_polling", "sse"):
        counters = metrics["transports"][name]
        assert set(counters) >= {
            "requests",
            "responses",
            "bytes_in",
            "bytes_out",
            "open",
            "events_sent",
        }
    assert metrics["source"]["last_id"] == server.last_id()
    assert metrics["process"]["cpu_s"] > 0 and metrics["process"]["rss_bytes"] > 1_000_000
    server.get("/poll")
    later = server.metrics()
    assert (
        later["transports"]["short_polling"]["requests"]
        > (metrics["transports"]["short_polling"]["requests"])
    )


def test_page_is_served(server):
    response = server.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/nowhere", 404), ("post", "/poll", 405), ("get", "/publish", 405)],
)
def test_unknown_addresses_and_methods_answer_json(server, method, path, status):
    response = getattr(requests, method)(server.url + path, timeout=10)
    assert response.status_code == status
    assert response.json()["error"]


def test_off_loopback_the_changing_endpoints_need_the_token():
    # Bound to every address, but the test's traffic still goes to 127.0.0.1 only.
    with run_server("--host", "0.0.0.0", "--rate", "0", "--token", "s3cret") as exposed:
        port = exposed.url.rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        teacher = wait_until(
            lambda: [line for line in exposed.output if "#token=s3cret" in line],
            what="the teacher URL with the token in its fragment",
        )
        # A reachable address is printed, never the wildcard the server is bound to.
        assert "0.0.0.0" not in teacher[0]
        calls = [
            ("post", "/publish", {"json": {"data": 1}}),
            ("put", "/source", {"json": {"paused": True}}),
            ("post", "/drop", {"json": None, "headers": {"Content-Type": "application/json"}}),
        ]
        for method, path, kwargs in calls:
            call = getattr(requests, method)
            kwargs.pop("headers", None)
            missing = call(url + path, timeout=10, **kwargs)
            assert missing.status_code == 401 and "token" in missing.json()["error"]
            wrong = call(url + path, headers={"X-Lab-Token": "guess"}, timeout=10, **kwargs)
            assert wrong.status_code == 403
            # The token goes in a header; in the address it would reach logs and Referers.
            in_url = call(url + path + "?token=s3cret", timeout=10, **kwargs)
            assert in_url.status_code == 401
            right = call(url + path, headers={"X-Lab-Token": "s3cret"}, timeout=10, **kwargs)
            assert right.status_code in (200, 201)
        # Reading stays open to everyone.
        for path in ("/poll", "/metrics", "/source", "/"):
            assert requests.get(url + path, timeout=10).status_code == 200
