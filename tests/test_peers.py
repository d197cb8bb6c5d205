"""Every peer (lab.peers) serves the lab's contract for /poll, /longpoll, /publish and
/metrics: the same answers, the same refusals, the snapshot the sweep reads. Each peer runs
for real, started as `lab peer NAME`, and is talked to over real sockets.

Each peer's streaming has tests of its own (test_peers_asgi.py, test_peers_threaded.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import requests
from helpers import wait_until

from lab.cli import main
from lab.lab_process import LabProcess
from lab.measurement import counter_delta, server_cpu_s
from lab.peers import FRAMEWORKS, PEERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(PEERS))
def peer(request) -> str:
    """A peer's URL, its ticker paused in effect (one event per 1,000 s): the tests publish
    the events they need. django-wsgi gets 3 workers, so that a held long poll leaves
    others free."""
    args = [request.param, "--port", "0", "--rate", "0.001"]
    if request.param == "django-wsgi":
        args += ["--workers", "3"]
    with LabProcess(args, command_name="peer", timeout=30) as running:
        yield running.url


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=10, **kwargs)


def publish(url: str, data: object, type: str | None = None) -> dict:
    body = {"data": data} if type is None else {"data": data, "type": type}
    response = requests.post(url + "/publish", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_poll_without_a_cursor_tells_the_newest_id(peer):
    first = get(peer + "/poll")
    assert first.status_code == 200
    assert first.json()["events"] == []
    event = publish(peer, {"n": 1})
    assert get(peer + "/poll").json() == {"events": [], "last_id": event["id"]}


def test_a_poll_answers_the_events_after_its_cursor_oldest_first(peer):
    since = get(peer + "/poll").json()["last_id"]
    sent = [publish(peer, {"n": n}) for n in range(3)]
    answer = get(peer + "/poll", params={"since": since}).json()
    assert [e["id"] for e in answer["events"]] == [e["id"] for e in sent]
    assert [e["id"] for e in sent] == list(range(since + 1, since + 4))
    assert answer["events"][0]["data"] == {"n": 0}
    assert answer["events"][0]["type"] == "message"
    assert isinstance(answer["events"][0]["ts"], float)
    assert answer["last_id"] == sent[-1]["id"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("since=abc", "since"),
        ("since=-1", "since"),
        ("since=1e3", "since"),
        ("since=99999999", "ahead of the newest event"),
    ],
)
def test_a_bad_cursor_is_a_400_with_a_sentence(peer, query, says):
    for path in ("/poll", "/longpoll"):
        response = get(f"{peer}{path}?{query}")
        assert response.status_code == 400, (path, response.text)
        assert says in response.json()["error"]


@pytest.mark.parametrize("timeout", ["0", "-2", "121", "soon"])
def test_a_long_poll_timeout_out_of_bounds_is_a_400(peer, timeout):
    response = get(peer + "/longpoll", params={"timeout": timeout})
    assert response.status_code == 400
    assert "timeout" in response.json()["error"]


def test_a_long_poll_with_no_news_ends_with_204_after_its_timeout(peer):
    since = get(peer + "/poll").json()["last_id"]
    response = get(peer + "/longpoll", params={"since": since, "timeout": "0.3"})
    assert response.status_code == 204
    assert response.content == b""


def test_a_held_long_poll_is_answered_by_the_next_event(peer):
    since = get(peer + "/poll").json()["last_id"]
    # The long poll is held in a child process, so that this one can publish meanwhile.
    script = (
        "import requests, sys; "
        f"r = requests.get({peer!r} + '/longpoll', params={{'since': {since}, 'timeout': 20}}, "
        "timeout=30); print(r.status_code); print(r.text)"
    )
    held = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        wait_until(
            lambda: metrics(peer)["transports"]["long_polling"]["open"] >= 1,
            timeout=10,
            what="the long poll to be held",
        )
        event = publish(peer, {"n": "news"})
        out, _ = held.communicate(timeout=15)
    finally:
        held.kill()
    status, body = out.split("\n", 1)
    assert status == "200"
    assert event["id"] == since + 1
    assert f'"id": {event["id"]}' in body or f'"id":{event["id"]}' in body


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"not json", "application/json", 400),
        (b'{"data": 1}', "text/plain", 415),
        (b'{"nodata": 1}', "application/json", 400),
        (b'{"data": 1, "type": "a:b"}', "application/json", 400),
        (b'{"data": 1, "type": "two\\nlines"}', "application/json", 400),
    ],
)
def test_a_bad_publish_is_refused_with_a_sentence(peer, body, content_type, status):
    response = requests.post(
        peer + "/publish", data=body, headers={"Content-Type": content_type}, timeout=10
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]


def test_metrics_have_what_the_sweep_reads(peer):
    before = metrics(peer)
    since = get(peer + "/poll").json()["last_id"]
    publish(peer, {"n": 1})
    get(peer + "/poll", params={"since": since})
    get(peer + "/poll", params={"since": "x"})
    after = metrics(peer)
    delta = counter_delta(before, after, "short_polling")
    assert delta["requests"] == 3
    assert delta["responses"]["200"] == 2
    assert delta["responses"]["400"] == 1
    assert delta["events_sent"] == 1
    assert delta["published"] == 1
    assert delta["bytes_in"] is None and delta["bytes_out"] is None  # not counted at a socket
    assert after["server"] in PEERS
    assert after["time"] > before["time"]
    assert server_cpu_s(after) >= server_cpu_s(before) > 0
    assert after["process"]["rss_bytes"] > 1_000_000
    for transport in ("short_polling", "long_polling", "sse"):
        assert after["transports"][transport]["open"] >= 0


def metrics(url: str) -> dict:
    return get(url + "/metrics").json()


def test_a_peer_refuses_to_start_without_its_framework_in_one_sentence(monkeypatch):
    monkeypatch.setitem(FRAMEWORKS, "fastapi", ("no_such_framework", "uvicorn"))
    with pytest.raises(SystemExit) as stopped:
        main(["peer", "fastapi", "--port", "0"])
    assert str(stopped.value) == (
        "lab: the fastapi peer needs no_such_framework, which is not installed; "
        "install the peers with: pip install -e '.[peers]'"
    )


def test_a_peer_refuses_to_listen_beyond_loopback():
    with pytest.raises(SystemExit) as stopped:
        main(["peer", "fastapi", "--host", "0.0.0.0"])
    assert "loopback only" in str(stopped.value)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_a_peer_on_a_busy_port_says_so_in_one_sentence(name):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "lab", "peer", name, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert finished.stderr.strip() == (
        f"lab: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
