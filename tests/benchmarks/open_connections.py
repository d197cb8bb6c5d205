"""Benchmark: how the server holds many idle connections.

Starts a lab server, opens N idle SSE streams, then N held long polls, and measures
- the server's RSS per open SSE stream ((RSS with N streams - RSS before) / N),
- how fast /poll answers while all of them are open (median and p99 of 200 requests),
- that every connection is released again once the clients close.

Run:  python tests/benchmarks/open_connections.py [--connections 1000]
It prints figures; it asserts nothing about time. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from helpers import run_server, wait_until  # noqa: E402


def open_idle(host: str, port: int, path: str, wait_for: bytes | None) -> socket.socket:
    client = socket.create_connection((host, port))
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    if wait_for is not None:
        received = b""
        while wait_for not in received:
            received += client.recv(4096)
    return client


def open_many(count: int, host: str, port: int, path: str, wait_for: bytes | None) -> list:
    pool = gevent.pool.Pool(200)
    return list(pool.imap_unordered(lambda _: open_idle(host, port, path, wait_for), range(count)))


def poll_latencies(url: str, count: int = 200) -> list[float]:
    session = requests.Session()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url + "/poll", timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    n = args.connections

    with run_server("--rate", "0", "--heartbeat", "15") as server:
        host, port = server.url.removeprefix("http://").split(":")
        port = int(port)
        poll_latencies(server.url, 20)  # warm up
        idle = poll_latencies(server.url)
        rss_before = server.metrics()["process"]["rss_bytes"]

        started = time.perf_counter()
        streams = open_many(n, host, port, "/sse", b"retry:")
        opened_in = time.perf_counter() - started
        wait_until(lambda: server.counters("sse")["open"] == n, timeout=30, what="streams")
        rss_streams = server.metrics()["process"]["rss_bytes"]
        with_streams = poll_latencies(server.url)

        polls = open_many(n, host, port, "/longpoll?timeout=120", None)
        wait_until(lambda: server.metrics()["held"]["count"] == 2 * n, timeout=30, what="polls")
        with_both = poll_latencies(server.url)
        rss_both = server.metrics()["process"]["rss_bytes"]

        # One event wakes every held client at once.
        started = time.perf_counter()
        server.publish("wake up")
        wait_until(lambda: server.counters("long_polling")["open"] == 0, timeout=30, what="answers")
        wake_all = time.perf_counter() - started

        for client in streams + polls:
            client.close()
        wait_until(lambda: server.metrics()["held"]["count"] == 0, timeout=30, what="release")
        released = server.metrics()

    cpu = os.cpu_count()
    print(f"machine: {cpu} cores; server and clients share them; loopback")
    print(f"/poll with nothing open:                  {describe(idle)}")
    print(f"/poll with {n} SSE streams open:        {describe(with_streams)}")
    print(f"/poll with {n} SSE + {n} held long polls: {describe(with_both)}")
    print(f"opened {n} SSE streams in {opened_in:.2f} s")
    print(
        f"server RSS: {rss_before / 2**20:.1f} MiB idle, {rss_streams / 2**20:.1f} MiB with "
        f"{n} streams, {rss_both / 2**20:.1f} MiB with the long polls too"
    )
    print(f"RSS per open SSE stream: {(rss_streams - rss_before) / n / 1024:.1f} KiB")
    print(f"RSS per held long poll:  {(rss_both - rss_streams) / n / 1024:.1f} KiB")
    print(f"one publish answered {n} held long polls in {wake_all * 1000:.0f} ms")
    print(
        "after the clients closed: held "
        f"{released['held']['count']}, open sse {released['transports']['sse']['open']}, "
        f"open long_polling {released['transports']['long_polling']['open']}"
    )


if __name__ == "__main__":
    main()
