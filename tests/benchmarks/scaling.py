"""Benchmark: what one server holds with 1, 2, 4 ... workers, and what Redis costs.

For each server (the in-process source with one worker, then Redis with each worker count
of --workers), it raises the number of users step by step and prints, per step:

- SSE: U streams while the ticker publishes --rate events/s. Deliveries per second (from
  the server's counters), the delivery latency's p50 and p99 (client clock minus the
  event's `ts`, for every event received in the window), and microseconds of server CPU
  per delivery: every worker's CPU plus, with Redis, the redis-server's (`INFO cpu`).
- Short polling: U keep-alive clients, each asking `GET /poll?since=<last>` once a second
  at its own phase. Requests per second answered, the request time's p50 and p99, and
  microseconds of server CPU per request.

A step whose p99 passes 100 ms ends that server's climb. At the end it prints, for each
server, the most deliveries (or requests) per second with a p99 under 100 ms, and the CPU
per delivery with Redis in the path against the in-process source at the same load.

The load runs in --load-processes processes (default: one per core), each one selector
loop over its share of the sockets: far cheaper per event than Locust's users, so that the
server, not the load, is what runs out first. Nothing is pinned: with 2 workers the server
wants both cores, and the load shares them. On a machine with few cores the figures show
how the workers share the cores with the load, not how the server scales alone; say so
when quoting them.

Run:  python tests/benchmarks/scaling.py                       # workers 1 and 2
      python tests/benchmarks/scaling.py --workers 1 2 4 8 --users 1000 4000 16000
It asserts nothing; it prints what it measured. Traffic goes to 127.0.0.1 only, every step
stops by itself; with the defaults it takes about 20 minutes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import selectors
import socket
import statistics
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.costs import machine, raise_file_limit, request_bytes, snapshot  # noqa: E402
from helpers import address_of, run_server, wait_until  # noqa: E402

P99_LIMIT_MS = 100.0
_TS = re.compile(rb'"ts":([0-9.]+)')
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


# --- the load: one selector loop per process ---------------------------------------------


def read_streams(address, count, until, window, results) -> None:
    """Open `count` SSE streams and read them until `until` (wall clock); send back the
    latencies (ms) of the events received inside `window` = (start, end)."""
    raise_file_limit()
    selector = selectors.DefaultSelector()
    for _ in range(count):
        client = socket.create_connection(address)
        client.sendall(request_bytes("/sse"))
        client.setblocking(False)
        selector.register(client, selectors.EVENT_READ, b"")
    latencies: list[float] = []
    start, end = window
    while (left := until - time.time()) > 0:
        for key, _ in selector.select(min(left, 0.2)):
            try:
                data = key.fileobj.recv(262144)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            now = time.time()
            if not data:
                selector.unregister(key.fileobj)
                continue
            seen = key.data + data
            cut = seen.rfind(b"\n\n") + 2  # frames end with a blank line
            if start <= now < end:
                latencies.extend((now - float(ts)) * 1000 for ts in _TS.findall(seen[:cut]))
            selector.modify(key.fileobj, selectors.EVENT_READ, seen[cut:][-4096:])
    results.put(latencies)


def poll_loop(address, count, until, window, results) -> None:
    """`count` keep-alive pollers, each asking once a second at its own phase; send back the
    request times (ms) of the requests answered inside `window`."""
    raise_file_limit()
    selector = selectors.DefaultSelector()
    clients = []
    for _ in range(count):
        client = socket.create_connection(address)
        client.setblocking(False)
        state = {"next": time.time() + random.random(), "sent": 0.0, "buf": b"", "since": 0}
        selector.register(client, selectors.EVENT_READ, state)
        clients.append((client, state))
    times: list[float] = []
    start, end = window
    while (now := time.time()) < until:
        for client, state in clients:
            if state["sent"] == 0.0 and now >= state["next"]:
                client.send(request_bytes(f"/poll?since={state['since']}"))
                state["sent"], state["next"] = now, state["next"] + 1.0
        for key, _ in selector.select(0.005):
            state = key.data
            try:
                data = key.fileobj.recv(262144)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            if not data:
                selector.unregister(key.fileobj)
                continue
            state["buf"] += data
            head_end = state["buf"].find(b"\r\n\r\n")
            length = _CONTENT_LENGTH.search(state["buf"])
            if head_end < 0 or not length:
                continue
            if len(state["buf"]) < head_end + 4 + int(length.group(1)):
                continue
            body = state["buf"][head_end + 4 :]
            found = re.search(rb'"last_id":(\d+)', body)
            state["since"] = int(found.group(1)) if found else state["since"]
            answered = time.time()
            if start <= answered < end:
                times.append((answered - state["sent"]) * 1000)
            state["buf"], state["sent"] = b"", 0.0
    results.put(times)


# --- one step ---------------------------------------------------------------------------------


@dataclass
class Step:
    server: str
    transport: str
    users: int
    per_s: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    cpu_share: float
    connected: bool

    def line(self) -> str:
        unit = "deliveries/s" if self.transport == "sse" else "requests/s"
        mark = "" if self.connected else "  (not every user connected: not measured)"
        return (
            f"{self.server:<18} {self.transport:<13} {self.users:>6} users  "
            f"{self.per_s:>9,.0f} {unit:<12}  p50 {self.p50_ms:>7.1f} ms  "
            f"p99 {self.p99_ms:>7.1f} ms  {self.cpu_us:>6.1f} µs each  "
            f"server CPU {self.cpu_share:>4.0%} of a core{mark}"
        )


def server_cpu(metrics: dict) -> float:
    return metrics["process"]["cpu_s"] + metrics.get("broker", {}).get("cpu_s", 0.0)


def measure_step(server, server_name, transport, users, loaders, settle_s, window_s) -> Step:
    url, address = server.url, address_of(server)
    connect_s = 10 + users / 500
    start = time.time() + connect_s + settle_s
    window = (start, start + window_s)
    until = window[1] + 0.5
    target = read_streams if transport == "sse" else poll_loop
    results: multiprocessing.Queue = multiprocessing.Queue()
    shares = [users // loaders + (1 if i < users % loaders else 0) for i in range(loaders)]
    processes = [
        multiprocessing.Process(target=target, args=(address, n, until, window, results))
        for n in shares
        if n
    ]
    for process in processes:
        process.start()
    counter = "sse" if transport == "sse" else "short_polling"
    try:
        connected = bool(
            wait_until(
                lambda: transport != "sse" or snapshot(url)["transports"]["sse"]["open"] >= users,
                timeout=connect_s,
                what=f"{users} streams to open",
            )
        )
    except AssertionError:
        connected = False
    time.sleep(max(0.0, window[0] - time.time()))
    before = snapshot(url)
    time.sleep(max(0.0, window[1] - time.time()))
    after = snapshot(url)
    samples: list[float] = []
    for _ in processes:
        samples.extend(results.get(timeout=120))
    for process in processes:
        process.join(timeout=30)
    field = "events_sent" if transport == "sse" else "requests"
    done = after["transports"][counter][field] - before["transports"][counter][field]
    elapsed = after["time"] - before["time"]
    cpu = server_cpu(after) - server_cpu(before)
    quantiles = statistics.quantiles(samples, n=100) if len(samples) > 1 else [float("nan")] * 99
    return Step(
        server=server_name,
        transport=transport,
        users=users,
        per_s=done / elapsed,
        p50_ms=quantiles[49],
        p99_ms=quantiles[98],
        cpu_us=cpu / max(done, 1) * 1e6,
        cpu_share=cpu / elapsed,
        connected=connected,
    )


def servers(worker_counts: list[int]) -> list[tuple[str, list[str]]]:
    found = [("in-process", [])]
    for count in worker_counts:
        found.append(
            (
                f"redis, {count} worker{'s' if count > 1 else ''}",
                ["--workers", str(count), "--broker", "redis"],
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000])
    parser.add_argument("--poll-users", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--rate", type=float, default=2.0, help="events/s (default 2)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--load-processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    raise_file_limit()
    print(f"Machine: {machine()}. Load: {args.load_processes} processes on the same machine.")
    steps: list[Step] = []
    for name, options in servers(args.workers):
        for transport, user_steps, rate in (
            ("sse", args.users, args.rate),
            ("short_polling", args.poll_users, 1.0),
        ):
            for users in user_steps:
                with run_server(
                    *options, "--rate", f"{rate:g}", "--arrivals", "fixed",
                    "--max-streams", str(max(20_000, users * 2)),
                ) as server:  # fmt: skip
                    step = measure_step(
                        server, name, transport, users, args.load_processes,
                        args.settle, args.window,
                    )  # fmt: skip
                steps.append(step)
                print(step.line(), flush=True)
                if not step.connected or step.p99_ms > P99_LIMIT_MS:
                    break
    print()
    print(f"Most per second with a p99 under {P99_LIMIT_MS:g} ms:")
    for name, _ in servers(args.workers):
        for transport in ("sse", "short_polling"):
            good = [
                s for s in steps
                if s.server == name and s.transport == transport and s.connected
                and s.p99_ms <= P99_LIMIT_MS
            ]  # fmt: skip
            best = max(good, key=lambda s: s.per_s, default=None)
            shown = f"{best.per_s:,.0f} at {best.users} users" if best else "none"
            print(f"  {name:<18} {transport:<13} {shown}")
    print()
    print("Server CPU per SSE delivery, Redis against the in-process source:")
    base = {s.users: s for s in steps if s.server == "in-process" and s.transport == "sse"}
    for step in steps:
        if step.transport == "sse" and step.server != "in-process" and step.users in base:
            ratio = step.cpu_us / base[step.users].cpu_us
            print(f"  {step.server:<18} {step.users:>6} users  {step.cpu_us:.1f} µs against "
                  f"{base[step.users].cpu_us:.1f} µs: {ratio:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
