"""GET /ws against the real server, with a plain WebSocket client (websocket-client): events
as JSON text frames, resume, pings both ways, publishing over the socket, bad frames closed
with a code and a reason, /drop, the limit, and bytes counted at the socket."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import websocket
from helpers import run_server, wait_until

from lab.theory import websocket_frame_overhead

CLOSE = websocket.ABNF.OPCODE_CLOSE
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def server():
    with run_server("--paused", "--heartbeat", "1") as running:
        yield running


def ws_url(server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/ws" + query


class Client:
    """A WebSocket client that reads the lab's frames: notices apart from events."""

    def __init__(self, server, query: str = "") -> None:
        self.ws = websocket.create_connection(ws_url(server, query), timeout=TIMEOUT)
        opened = self.next_message()
        assert opened["notice"] == "open", opened
        self.epoch, self.start = opened["epoch"], opened["last_id"]

    def next_frame(self):
        return self.ws.recv_data_frame(control_frame=True)

    def next_message(self) -> dict:
        while True:
            opcode, frame = self.next_frame()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                return json.loads(frame.data)
            assert opcode != CLOSE, f"closed: {close_of(frame)}"

    def events(self, count: int) -> list[dict]:
        found = []
        while len(found) < count:
            message = self.next_message()
            if "notice" not in message:
                found.append(message)
        return found

    def closed(self) -> tuple[int, str]:
        """The close frame's code and reason (other frames before it are skipped)."""
        while True:
            opcode, frame = self.next_frame()
            if opcode == CLOSE:
                return close_of(frame)

    def close(self) -> None:
        self.ws.close()


def close_of(frame) -> tuple[int, str]:
    return int.from_bytes(frame.data[:2], "big"), frame.data[2:].decode()


@pytest.fixture
def client(server):
    opened = Client(server)
    yield opened
    opened.close()


def test_starts_live_and_sends_each_event_as_one_json_text_frame(server, client):
    server.publish({"n": 1})
    second = server.publish({"n": 2}, type="tick")
    first, last = client.events(2)
    assert first["id"] == client.start + 1 and first["data"] == {"n": 1}
    assert last == {k: second[k] for k in ("id", "ts", "type", "data")}


def test_resume_from_the_last_id_and_epoch_gives_exactly_the_missed_events(server, client):
    seen = server.publish("seen")["id"]
    client.events(1)
    client.close()
    missed = [server.publish(f"missed {n}")["id"] for n in range(3)]
    again = Client(server, f"?last_event_id={seen}&epoch={client.epoch}")
    try:
        assert [e["id"] for e in again.events(3)] == missed
    finally:
        again.close()


def test_a_resume_from_another_run_starts_over_with_a_notice(server):
    server.publish("x")
    again = Client(server, "?last_event_id=1&epoch=zzzz")
    try:
        notice = again.next_message()
        assert notice["notice"] == "gap" and notice["restarted"] is True
    finally:
        again.close()


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [("?last_event_id=abc", 400, "last_event_id"), ("?last_event_id=999999", 400, "ahead")],
)
def test_a_bad_cursor_refuses_the_upgrade_with_a_sentence(server, query, status, words):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url(server, query), timeout=TIMEOUT)
    assert refused.value.status_code == status
    assert words in json.loads(refused.value.resp_body)["error"]


def test_a_plain_get_is_told_to_upgrade(server):
    answer = server.get("/ws")
    assert answer.status_code == 426 and answer.headers["Upgrade"] == "websocket"
    assert "WebSocket" in answer.json()["error"]


def test_the_server_answers_a_ping_and_pings_when_idle(server, client):
    client.ws.ping(b"are you there")
    seen = set()
    deadline = time.monotonic() + TIMEOUT
    while seen != {websocket.ABNF.OPCODE_PONG, websocket.ABNF.OPCODE_PING}:
        assert time.monotonic() < deadline, f"only {seen} came"
        opcode, frame = client.next_frame()
        if opcode == websocket.ABNF.OPCODE_PONG:
            assert frame.data == b"are you there"
        seen.add(opcode)


def test_a_client_publishes_over_its_socket_and_everyone_gets_it(server, client):
    other = Client(server)
    try:
        client.ws.send(json.dumps({"type": "chat", "data": {"text": "안녕"}}))
        for reader in (client, other):
            (event,) = reader.events(1)
            assert event["type"] == "chat" and event["data"] == {"text": "안녕"}
        assert server.get("/poll", params={"since": event["id"] - 1}).json()["events"][0] == event
    finally:
        other.close()


@pytest.mark.parametrize(
    ("send", "code", "words"),
    [
        (lambda ws: ws.send_binary(b"\x00\x01"), 1003, "JSON text frames"),
        (lambda ws: ws.send("{not json"), 1007, "send JSON"),
        (lambda ws: ws.send(json.dumps({"data": 1, "type": "a:b"})), 1007, "type must be"),
        (lambda ws: ws.send(json.dumps({"type": "x"})), 1007, "data"),
        (lambda ws: ws.send("x" * 70_000), 1009, "at most"),
        # Text that is not UTF-8: the protocol library finds it, the server closes.
        (lambda ws: ws.send(b"\xff\xfe", websocket.ABNF.OPCODE_TEXT), 1007, "utf-8"),
    ],
)
def test_a_bad_frame_is_closed_with_a_code_and_a_reason_and_others_go_on(
    server, client, send, code, words
):
    bystander = Client(server)
    try:
        send(client.ws)
        closed_code, reason = client.closed()
        assert closed_code == code and words in reason
        server.publish("still here")
        assert bystander.events(1)[0]["data"] == "still here"
    finally:
        bystander.close()


def test_drop_closes_with_a_code_and_a_resuming_client_loses_nothing(server, client):
    before = server.publish("before")["id"]
    client.events(1)
    assert server.drop()["dropped"] >= 1
    code, reason = client.closed()
    assert code == 1012 and "POST /drop" in reason
    published = [server.publish(f"after {n}")["id"] for n in range(2)]
    again = Client(server, f"?last_event_id={before}&epoch={client.epoch}")
    try:
        assert [e["id"] for e in again.events(2)] == published
    finally:
        again.close()


def test_more_sockets_than_the_limit_get_503():
    with run_server("--paused", "--max-streams", "2") as small:
        held = [Client(small) for _ in range(2)]
        try:
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(ws_url(small), timeout=TIMEOUT)
            assert refused.value.status_code == 503
        finally:
            for one in held:
                one.close()


def test_bytes_out_are_each_frame_with_its_header():
    with run_server("--paused", "--heartbeat", "0") as quiet:
        one = Client(quiet)
        try:
            before = quiet.counters("websocket")
            event = quiet.publish({"pad": "x" * 200})
            one.events(1)
            after = quiet.counters("websocket")
            size = len(json.dumps(event, separators=(",", ":")).encode())
            assert after["events_sent"] - before["events_sent"] == 1
            assert after["bytes_out"] - before["bytes_out"] == size + websocket_frame_overhead(size)
            assert websocket_frame_overhead(size) == 4  # 126 bytes or more: 2 + 2
        finally:
            one.close()


def test_a_client_that_vanishes_is_noticed_and_open_drops_back(server):
    raw = Client(server)
    wait_until(lambda: server.counters("websocket")["open"] >= 1, what="the socket to open")
    # The socket goes away without a close frame, as when a laptop lid shuts.
    raw.ws.sock.shutdown(socket.SHUT_RDWR)
    raw.ws.sock.close()
    wait_until(lambda: server.counters("websocket")["open"] == 0, what="the server to notice")


SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "websocket.py"


@pytest.mark.slow
@pytest.mark.parametrize("resume", [True, False])
def test_the_scenario_resumes_after_drops_or_loses_what_came_meanwhile(resume, tmp_path):
    with run_server("--rate", "20", "--arrivals", "fixed") as ticking:
        command = [
            sys.executable, "-m", "locust", "-f", str(SCENARIO), "--headless",
            "--host", ticking.url, "-u", "2", "-r", "2", "--run-time", "6s",
            "--stop-timeout", "2", "--only-summary", "--csv", str(tmp_path / "ws"),
            "--reconnect-after", "0.5", *([] if resume else ["--no-resume"]),
        ]  # fmt: skip
        stop = threading.Event()

        def drop_now_and_then() -> None:
            # Two drops, once both users are connected.
            wait_until(lambda: ticking.counters("websocket")["open"] >= 2, what="2 sockets")
            for _ in range(2):
                if stop.wait(1.5):
                    return
                ticking.drop()

        dropper = threading.Thread(target=drop_now_and_then)
        dropper.start()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        finally:
            stop.set()
            dropper.join()
    assert done.returncode in (0, 1), done.stderr[-2000:]
    with open(tmp_path / "ws_stats.csv", newline="") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    assert int(rows["/ws"]["Request Count"]) >= 4  # 2 users, 2 drops: reconnected
    lost = rows.get("websocket sequence")
    if resume:
        assert lost is None, lost
    else:
        # 20 events a second, half a second away: about 10 lost per user per drop.
        assert lost is not None and int(lost["Failure Count"]) >= 2


# Run in a process of its own: importing the scenario imports Locust, which patches the
# standard library for gevent.
FRAMES_WITH_THE_ANSWER = r"""
import importlib.util, socket, sys, threading
from pathlib import Path
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

path = Path(sys.argv[1])
sys.path.insert(0, str(path.parent))
spec = importlib.util.spec_from_file_location("websocket_scenario", path)
scenario = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scenario)
client, server = socket.socketpair()

def answer():
    protocol = WSConnection(ConnectionType.SERVER)
    while not any(isinstance(e, Request) for e in protocol.events()):
        protocol.receive_data(server.recv(65536))
    server.sendall(
        protocol.send(AcceptConnection())
        + protocol.send(TextMessage(data='{"id":5}'))
        + protocol.send(TextMessage(data='{"id":6}'))
    )
    server.shutdown(socket.SHUT_WR)

threading.Thread(target=answer).start()
user = scenario.WebSocketUser.__new__(scenario.WebSocketUser)
user.host_header, user.last_id, user.epoch, user.resumes = "127.0.0.1", 4, "k3x9", True
taken = []
user.take = lambda text, received_at: taken.append(text)
protocol, received_at = user.open(client)
user.read_frames(client, protocol, received_at)
print(" ".join(taken))
"""


def test_the_scenario_takes_the_events_that_came_with_the_handshake_answer():
    # A resumed connection's missed events often share a read with the 101: left unread,
    # they waited for the next event and their latency grew by its interval.
    done = subprocess.run(
        [sys.executable, "-c", FRAMES_WITH_THE_ANSWER, str(SCENARIO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ['{"id":5}', '{"id":6}']


def test_a_page_from_another_site_may_read_but_not_publish(server):
    foreign = websocket.create_connection(ws_url(server), origin="http://evil.example", timeout=10)
    try:
        assert json.loads(foreign.recv())["notice"] == "open"
        foreign.send(json.dumps({"data": "from another site"}))
        while True:
            opcode, frame = foreign.recv_data_frame(control_frame=True)
            if opcode == CLOSE:
                break
        code, reason = close_of(frame)
        assert code == 1008 and "another site" in reason
    finally:
        foreign.close()
