"""Benchmark: what hostile or careless clients cost the server, in memory and connections.

Each part starts a fresh `lab serve` on 127.0.0.1 and prints figures:

1. five clients ask GET /poll?since=0 with 100 kB events in the history, and never read
   the answer: how much the server's RSS grows;
2. the ticker publishes 1 MB events for 15 s: how much the history grows;
3. slow clients: 500 "slowloris" connections that send a request head one byte at a time;
   20 SSE streams that never read while 100 kB events go out; 1,100 idle connections
   against a server whose open-file limit is 1,024. How many are still open after the
   deadlines, and whether a new client is still served.

Run:  python tests/benchmarks/hostile_clients.py
      python tests/benchmarks/hostile_clients.py --source DIR   # another checkout's server
It asserts nothing; it prints what it measured. It takes about 2.5 minutes.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from helpers import address_of, run_server, wait_until  # noqa: E402

MiB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


def rss(server) -> float:
    return server.get("/metrics").json()["process"]["rss_bytes"] / MiB


def fill(server, payload: int, rate: float, until_id: int, timeout: float) -> None:
    server.put(
        "/source", json={"payload_bytes": payload, "rate": rate, "paused": False}, headers=JSON
    )
    wait_until(lambda: server.last_id() >= until_id, timeout=timeout, what=f"{until_id} events")
    server.put("/source", json={"paused": True}, headers=JSON)


def stalled(server, request: bytes) -> socket.socket:
    """A client with a 4 kB receive buffer that sends a request and never reads."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(address_of(server))
    client.sendall(request)
    return client


def is_open(client: socket.socket, limit: int = 64 * MiB) -> bool:
    """Whether the server has not closed this connection: what it sent is read and dropped
    until nothing more is waiting (open) or the stream ends (closed)."""
    client.setblocking(False)
    drained = 0
    try:
        while drained < limit:
            data = client.recv(1 << 20)
            if not data:
                return False
            drained += len(data)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return True


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def unread_polls(source: str | None) -> None:
    with run_server("--rate", "0", source_dir=source) as server:
        fill(server, 100_000, 100, 1000, timeout=60)
        kept = server.get("/source").json()
        before = rss(server)
        clients = [stalled(server, get("/poll?since=0")) for _ in range(5)]
        time.sleep(3)
        after = rss(server)
        for client in clients:
            client.close()
        print(f"1. history: {kept.get('history_size')} events of 100 kB kept, RSS {before:.0f} MiB")
        print(f"   5 unread GET /poll?since=0 answers added {after - before:.0f} MiB")


def big_history(source: str | None) -> None:
    with run_server("--rate", "0", source_dir=source) as server:
        before = rss(server)
        server.put(
            "/source", json={"payload_bytes": 1_000_000, "rate": 16, "paused": False}, headers=JSON
        )
        time.sleep(15)
        server.put("/source", json={"paused": True}, headers=JSON)
        after = rss(server)
        source_figures = server.get("/source").json()
        print(
            f"2. 1 MB ticks for 15 s: {source_figures['last_id']} published, "
            f"{source_figures['history_size']} kept; RSS grew {after - before:.0f} MiB "
            f"({before:.0f} -> {after:.0f})"
        )


def slowloris(source: str | None, count: int = 500, seconds: float = 15) -> None:
    with run_server("--rate", "0", source_dir=source) as server:
        clients = []
        for _ in range(count):
            client = socket.create_connection(address_of(server))
            client.sendall(b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            clients.append(client)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for client in clients:
                with contextlib.suppress(OSError):
                    client.sendall(b"X")
            time.sleep(2)
        still = sum(is_open(client) for client in clients)
        served = server.get("/poll").status_code == 200
        for client in clients:
            client.close()
        print(
            f"3a. {count} slowloris heads, a byte every 2 s: {still} still open after "
            f"{seconds:.0f} s; a new client served: {served}"
        )


def stalled_streams(source: str | None, count: int = 20, seconds: float = 45) -> None:
    with run_server("--rate", "0", source_dir=source) as server:
        before = rss(server)
        clients = [stalled(server, get("/sse")) for _ in range(count)]
        wait_until(
            lambda: server.get("/metrics").json()["transports"]["sse"]["open"] >= count,
            what="the streams",
        )
        server.put(
            "/source", json={"payload_bytes": 100_000, "rate": 20, "paused": False}, headers=JSON
        )
        time.sleep(seconds)
        server.put("/source", json={"paused": True}, headers=JSON)
        time.sleep(1)
        still = sum(is_open(client) for client in clients)
        after = rss(server)
        for client in clients:
            client.close()
        print(
            f"3b. {count} SSE streams that never read, 100 kB x 20/s for {seconds:.0f} s: "
            f"{still} still open; RSS grew {after - before:.0f} MiB"
        )


def idle_beyond_the_file_limit(source: str | None, count: int = 1100) -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    with run_server("--rate", "0", source_dir=source, preexec_fn=low_limit) as server:
        host, port = address_of(server)
        pool = gevent.pool.Pool(100)

        def connect(_):
            try:
                return socket.create_connection((host, port), timeout=5)
            except OSError:
                return None

        clients = [c for c in pool.imap_unordered(connect, range(count)) if c is not None]
        time.sleep(1)
        served = 0
        for _ in range(5):
            with contextlib.suppress(requests.RequestException):
                served += requests.get(server.url + "/poll", timeout=3).status_code == 200
        for client in clients:
            client.close()
        print(
            f"3c. {len(clients)} idle connections, server limited to 1024 open files: "
            f"{served} of 5 new clients served"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", default=None, help="run the server from this checkout (default: this one)"
    )
    args = parser.parse_args()
    print(f"server: {args.source or 'this checkout'}; machine: {os.cpu_count()} cores")
    for part in (unread_polls, big_history, slowloris, stalled_streams, idle_beyond_the_file_limit):
        gevent.sleep(0)
        part(args.source)


if __name__ == "__main__":
    main()
