"""A real nginx between the client and the lab server, in each profile: what it does to a
stream, to a held poll and to a stream's bytes, asserted on behaviour.

The source is paused and events are published one by one, so every test knows which events
exist; a client reads the stream off a plain socket and records which events each read
brought. Under CI a missing nginx fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
import websocket
from ci import unavailable
from helpers import LabServer, event_number, run_server, wait_until

from lab.http_chunks import ChunkedDecoder
from lab.proxy import nginx as nginx_module
from lab.proxy.nginx import Nginx, NginxDidNotStart, NginxMissing, find_nginx
from lab.proxy.profiles import PROFILES
from lab.sse import SSEDecoder


@pytest.fixture(scope="module", autouse=True)
def nginx_installed() -> None:
    try:
        find_nginx()
    except NginxMissing as missing:
        unavailable(str(missing), "CI must run the proxy tests")


@pytest.fixture(scope="module")
def paused_server() -> Iterator[LabServer]:
    with run_server("--paused") as server:
        yield server


class StreamReader:
    """GET /sse on a plain socket; `reads` holds the event ids each read brought."""

    def __init__(self, url: str, last_event_id: str = "", gzip: bool = False) -> None:
        address = urlsplit(url)
        self.socket = socket.create_connection((address.hostname, address.port), timeout=5)
        self.socket.settimeout(0.2)
        headers = ["GET /sse HTTP/1.1", f"Host: {address.netloc}", "Accept: text/event-stream"]
        if last_event_id:
            headers.append(f"Last-Event-ID: {last_event_id}")
        if gzip:
            headers.append("Accept-Encoding: gzip")
        self.socket.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self.head = b""
        self.body = b""
        self.reads: list[list[int]] = []
        self.ids: list[str] = []
        self.comments = 0
        self.ended = False
        self.chunks, self.decoder = ChunkedDecoder(), SSEDecoder()
        self.inflate = None

    def read_once(self) -> None:
        """One read off the socket, if anything came within 0.2 s."""
        if self.ended:
            return
        try:
            data = self.socket.recv(65536)
        except TimeoutError:
            return
        if not data:
            self.ended = True
            return
        if not self.head:
            self.body += data
            if b"\r\n\r\n" not in self.body:
                return
            self.head, _, data = self.body.partition(b"\r\n\r\n")
            if b"content-encoding: gzip" in self.head.lower():
                self.inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        text = self.chunks.decode(data)
        if self.inflate is not None:
            text = self.inflate.decompress(text)
        self.comments += text.count(b"\n:") + text.startswith(b":")
        events = [m for m in self.decoder.decode(text) if m.event == "tick" or m.id]
        if events:
            self.reads.append([event_number(m.id) for m in events])
            self.ids += [m.id for m in events]

    @property
    def received(self) -> list[int]:
        return [n for read in self.reads for n in read]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Read until `count` events have come (True) or `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            self.read_once()
        return len(self.received) >= count

    def wait_for_end(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            self.read_once()
        return self.ended

    def close(self) -> None:
        self.socket.close()


def publish(server: LabServer, count: int) -> list[int]:
    return [server.publish("x" * 40)["id"] for _ in range(count)]


@pytest.mark.parametrize("profile", ["passthrough", "honours-header"])
def test_an_unbuffered_profile_passes_each_event_on_alone(paused_server, profile):
    with Nginx(PROFILES[profile], paused_server.url) as proxy:
        stream = StreamReader(proxy.url)
        try:
            wait_until(lambda: stream.read_once() or paused_server.counters("sse")["open"], 5)
            for number in range(5):
                published = publish(paused_server, 1)
                assert stream.wait_for(number + 1, timeout=5), (
                    f"event {published} did not come through {profile} within 5 s"
                )
            assert all(len(read) == 1 for read in stream.reads), stream.reads
        finally:
            stream.close()


def test_the_buffered_profile_holds_events_until_its_buffer_fills(paused_server):
    with Nginx(PROFILES["buffered"], paused_server.url) as proxy:
        stream = StreamReader(proxy.url)
        try:
            wait_until(lambda: paused_server.counters("sse")["open"] >= 1, 5, "the stream")
            first = publish(paused_server, 3)
            # The server wrote them at once (its header says "do not buffer"), nginx holds them.
            assert not stream.wait_for(1, timeout=1.5), "an event came through unbuffered"
            assert stream.head == b"", "even the response's head should wait in the buffer"
            publish(paused_server, 100)  # about 10 KB: more than nginx's 4 KB buffer
            assert stream.wait_for(30, timeout=10)
            assert stream.reads[0][0] == first[0]
            assert len(stream.reads[0]) >= 10, f"the first read brought {stream.reads[0]}"
        finally:
            stream.close()


def test_a_stream_cut_by_the_read_timeout_resumes_with_last_event_id(paused_server):
    with Nginx(PROFILES["short-timeout"], paused_server.url) as proxy:
        stream = StreamReader(proxy.url)
        try:
            wait_until(lambda: paused_server.counters("sse")["open"] >= 1, 5, "the stream")
            publish(paused_server, 1)
            assert stream.wait_for(1, timeout=5)
            # The server's heartbeat comes after 15 s of silence, the proxy gives up after 10.
            assert stream.wait_for_end(timeout=20), "the proxy did not cut the idle stream"
            last_seen = stream.ids[-1]
        finally:
            stream.close()
        missed = publish(paused_server, 3)  # published while the client is away
        resumed = StreamReader(proxy.url, last_event_id=last_seen)
        try:
            assert resumed.wait_for(3, timeout=5)
            assert resumed.received == missed
        finally:
            resumed.close()


def test_a_heartbeat_sooner_than_the_read_timeout_keeps_the_stream():
    with (
        run_server("--paused", "--heartbeat", "4") as server,
        Nginx(PROFILES["short-timeout"], server.url) as proxy,
    ):
        stream = StreamReader(proxy.url)
        try:
            # Three heartbeats span 12 s of silence, more than the proxy's 10 s timeout.
            wait_until(lambda: stream.read_once() or stream.comments >= 3 or stream.ended, 20)
            assert not stream.ended and stream.comments >= 3
            publish(server, 1)
            assert stream.wait_for(1, timeout=5)
        finally:
            stream.close()


def test_a_long_poll_held_past_the_read_timeout_gets_504(paused_server):
    with Nginx(PROFILES["short-timeout"], paused_server.url) as proxy:
        since = paused_server.last_id()
        epoch = paused_server.epoch()
        long_hold = requests.get(
            f"{proxy.url}/longpoll?since={since}&epoch={epoch}&timeout=25", timeout=30
        )
        assert long_hold.status_code == 504
        assert long_hold.headers["Server"].startswith("nginx")
        short_hold = requests.get(
            f"{proxy.url}/longpoll?since={since}&epoch={epoch}&timeout=3", timeout=30
        )
        assert short_hold.status_code == 204


def test_the_gzip_profile_compresses_each_event_and_still_passes_it_on(paused_server):
    with Nginx(PROFILES["gzip"], paused_server.url) as proxy:
        stream = StreamReader(proxy.url, gzip=True)
        try:
            wait_until(lambda: paused_server.counters("sse")["open"] >= 1, 5, "the stream")
            for number in range(3):
                publish(paused_server, 1)
                assert stream.wait_for(number + 1, timeout=5)
            assert b"content-encoding: gzip" in stream.head.lower()
        finally:
            stream.close()


def test_the_http2_profile_offers_http2_over_tls(paused_server):
    with Nginx(PROFILES["http2"], paused_server.url) as proxy:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2", "http/1.1"])
        address = urlsplit(proxy.url)
        with (
            socket.create_connection((address.hostname, address.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.selected_alpn_protocol() == "h2"
        assert proxy.url.startswith("https://")


def test_nginx_stops_and_its_temporary_folder_goes():
    with run_server("--paused") as server:
        proxy = Nginx(PROFILES["passthrough"], server.url)
        assert requests.get(proxy.url + "/metrics", timeout=5).headers["Server"].startswith("nginx")
        folder, process = proxy.folder, proxy.process
        proxy.stop()
        assert process is not None and process.poll() is not None
        assert not folder.exists()
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/metrics", timeout=5)


def test_a_missing_nginx_is_one_sentence_on_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(nginx_module, "SEARCHED", (str(tmp_path / "nginx"),))
    with pytest.raises(NginxMissing) as missing:
        find_nginx()
    message = str(missing.value)
    assert "apt-get install nginx-light" in message and message.count(". ") == 0


def test_a_taken_port_is_a_sentence_not_a_silent_success(paused_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(NginxDidNotStart) as refused:
            Nginx(PROFILES["passthrough"], paused_server.url, port=port)
    assert "in use" in str(refused.value)


@pytest.mark.parametrize("profile", ["passthrough", "buffered"])
def test_a_websocket_passes_through_every_profile(paused_server, profile):
    with Nginx(PROFILES[profile], paused_server.url) as proxy:
        socket_url = proxy.url.replace("http://", "ws://") + "/ws"
        connection = websocket.create_connection(socket_url, timeout=10)
        try:
            assert json.loads(connection.recv())["notice"] == "open"
            (event_id,) = publish(paused_server, 1)
            assert json.loads(connection.recv())["id"] == event_id
        finally:
            connection.close()
