"""Benchmark: the server's CPU per SSE delivery and per short-poll request, on one core.

Starts `python -m lab serve` on a free loopback port, pinned to CPU 0 when the machine has
two cores or more (this process, the load, runs on the others), and prints:

0. The floor: a bare process on CPU 0 writes one default tick's chunk with one send() to
   each of N loopback sockets per event, read by the same reader loop as (1). Its CPU per
   send is what the kernel alone charges for one delivery (on loopback the sender also pays
   the receiving side's TCP work, and waking the reader).
1. SSE: N streams (default 2,000) read by one non-blocking socket loop in this process,
   while the ticker publishes R events/s (default 5). Per window: microseconds of server CPU
   per delivery = (server CPU seconds) / (events written to streams), both from /metrics,
   and the deliveries this client counted, as a check. Each SSE window comes right after a
   window of the floor (the server paused meanwhile), and the difference is printed pair
   by pair: on a shared VM the speed of a core drifts by tens of percent within minutes,
   so a floor measured minutes apart from the server says little about it.
2. Short polls: C keep-alive connections (default 200) each asking GET /poll?since=<the
   last_id of its previous answer> on a fixed clock (default 5 requests/s each), with the
   ticker at 1 event/s, so that most answers are empty, as in a real short-polling load.
   Per window: microseconds of server CPU per request.
3. Long polls answered at once (GET /longpoll?since=<an older id>), as (2).
4. With --peers: SSE as in (1) on each named peer (`lab peer NAME`, its ticker at R events/s
   from the start), pinned and read the same way, so that the floor, the lab and the peers
   are measured in one run by one reader.

Each figure is the median of --repeats windows (every window's value is printed too).
The server CPU includes everything the process does in the window: the ticker, the
/metrics request that closes the window, the event loop; nothing is subtracted. The share in
user mode is printed too (the rest is the kernel's); it comes from the kernel's tick-based
split, so it is rough.

Run:  python tests/benchmarks/costs.py                # about 2 minutes
      python tests/benchmarks/costs.py --source DIR   # another checkout's server
      python tests/benchmarks/costs.py --streams 1000 --rate 10 --repeats 7
      python tests/benchmarks/costs.py --streams 1000 --rate 2 --skip poll longpoll \
          --peers fastapi            # the floor, the lab and FastAPI side by side
It asserts nothing; it prints what it measured. Traffic goes to 127.0.0.1 only, every phase
stops by itself (--skip floor sse poll longpoll leaves parts out).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import resource
import selectors
import socket
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from helpers import address_of, run_server, wait_until  # noqa: E402

SERVER_CPU = 0
JSON = {"Content-Type": "application/json"}
_LAST_ID = re.compile(rb'"last_id":(\d+)')
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores"


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin_server() -> None:
    """Runs in the server's process before it starts: CPU 0 only."""
    os.sched_setaffinity(0, {SERVER_CPU})


def pin_load() -> None:
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - {SERVER_CPU})


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def snapshot(url: str) -> dict:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        return json.load(response)


def cpu_split(before: dict, after: dict) -> tuple[float, float | None]:
    """The server's CPU seconds between two snapshots, and the share spent in user mode
    (the rest is the kernel's: system calls, and the loopback's TCP work done for them);
    None for a server that does not report the split (the peers)."""
    cpu = after["process"]["cpu_s"] - before["process"]["cpu_s"]
    if "cpu_user_s" not in after["process"]:
        return cpu, None
    user = after["process"]["cpu_user_s"] - before["process"]["cpu_user_s"]
    return cpu, user / cpu if cpu else 0.0


def put_source(url: str, **settings: object) -> None:
    request = urllib.request.Request(
        url + "/source", data=json.dumps(settings).encode(), headers=JSON, method="PUT"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


# --- SSE -----------------------------------------------------------------------------------


class SSEReaders:
    """N streams read by one selector loop: counts frames (`data:` lines) per stream."""

    MARK = b"\ndata: "

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.sockets: list[socket.socket] = []
        self.tails: dict[int, bytes] = {}
        self.frames = 0

    def connect(self, address: tuple[str, int], count: int, request: bytes = b"") -> None:
        for _ in range(count):
            client = socket.create_connection(address)
            if request:
                client.sendall(request)
            client.setblocking(False)
            self.sockets.append(client)
            self.tails[client.fileno()] = b""
            self.selector.register(client, selectors.EVENT_READ)

    def pump(self, seconds: float) -> None:
        """Read whatever arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for key, _ in self.selector.select(min(left, 0.1)):
                client: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = client.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.selector.unregister(client)
                    continue
                fd = key.fd
                seen = self.tails[fd] + data
                self.frames += seen.count(self.MARK)
                self.tails[fd] = seen[-(len(self.MARK) - 1) :]

    def close(self) -> None:
        for client in self.sockets:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(client)
            client.close()
        self.selector.close()


def measure_sse(
    url: str,
    address: tuple[str, int],
    streams: int,
    rate: float,
    window: float,
    repeats: int,
    controls_source: bool = True,
    floor: list[float] | None = None,
) -> list[float]:
    """CPU per delivery per window. `controls_source`: the lab's server, paused while the
    streams connect and then set to `rate`; a peer has no /source and ticks from its start.

    With a `floor` list (the lab's server only), each window is paired with a window of
    the bare sender just before it, on as many streams read by the same loop, while the
    server is paused; the floor's figures are appended to `floor`. A pair is measured
    within seconds, so the VM's slow swings in speed fall on both of its halves.
    """
    if controls_source:
        put_source(url, paused=True)
    readers = SSEReaders()
    readers.connect(address, streams, request_bytes("/sse"))
    sender = BareSender(streams, rate, readers) if floor is not None else None
    try:
        wait_until(
            lambda: (readers.pump(0.05), snapshot(url))[1]["transports"]["sse"]["open"] >= streams,
            timeout=60,
            what=f"{streams} open SSE streams",
        )
        if sender is not None:
            sender.window(window)  # warm up
        if controls_source:
            put_source(url, rate=rate, arrivals="fixed", paused=False)
        readers.pump(1.0)  # warm up: every stream written to at least once
        figures = []
        for index in range(repeats):
            if sender is not None and floor is not None:
                put_source(url, paused=True)
                floor.append(sender.window(window))
                print(f"   window {index + 1}: floor {floor[-1]:.2f} us per send()", flush=True)
                put_source(url, rate=rate, arrivals="fixed", paused=False)
                readers.pump(1 / rate + 0.1)  # the ticker's first event after the pause
            before, frames_before = snapshot(url), readers.frames
            readers.pump(window)
            after, frames = snapshot(url), readers.frames - frames_before
            cpu, user = cpu_split(before, after)
            sent = (
                after["transports"]["sse"]["events_sent"]
                - before["transports"]["sse"]["events_sent"]
            )
            per = cpu / sent * 1e6 if sent else float("nan")
            figures.append(per)
            split = "" if user is None else f" ({user:.0%} user)"
            print(
                f"   window {index + 1}: {sent:,} deliveries ({frames:,} read here), "
                f"{cpu * 1000:.0f} ms CPU{split}, {per:.2f} us per delivery",
                flush=True,
            )
        if controls_source:
            put_source(url, paused=True)
        return figures
    finally:
        if sender is not None:
            sender.close()
        readers.close()


def tick_chunk(payload_bytes: int = 16) -> bytes:
    """One default tick as the server sends it to a stream: its SSE frame in an HTTP chunk."""
    from lab.event_source import EventSource
    from lab.http_chunks import encode_chunk

    source = EventSource(epoch="k3x9")
    for n in range(1, 1001):  # an id with as many digits as a run's
        event = source.publish("tick", {"n": n, "pad": "x" * payload_bytes})
    return encode_chunk(event.sse_bytes)


def bare_sender(
    listener: socket.socket,
    streams: int,
    rate: float,
    chunk: bytes,
    commands: multiprocessing.connection.Connection,
) -> None:
    """The floor: in a process of its own on the server's CPU, the same chunk written with
    one plain send() per stream per event, and nothing else. Each window it is asked for
    (its length in seconds; None ends it) is answered with its CPU per send, in us."""
    if can_pin():
        pin_server()
    sockets = [listener.accept()[0] for _ in range(streams)]
    for client in sockets:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the server's
        client.setblocking(False)
    while (window := commands.recv()) is not None:
        before, sends = resource.getrusage(resource.RUSAGE_SELF), 0
        next_tick = time.monotonic()
        end = next_tick + window
        while (now := time.monotonic()) < end:
            if now < next_tick:
                time.sleep(next_tick - now)
                continue
            next_tick += 1 / rate
            for client in sockets:
                try:  # noqa: SIM105 (contextlib.suppress would add an object per send)
                    client.send(chunk)
                except BlockingIOError:
                    pass
            sends += len(sockets)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        commands.send(cpu / sends * 1e6 if sends else float("nan"))


class BareSender:
    """The floor's sender process and its `streams` connections, read by `readers`."""

    def __init__(self, streams: int, rate: float, readers: SSEReaders) -> None:
        self.readers = readers
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4096)
        self.commands, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=bare_sender,
            args=(self.listener, streams, rate, tick_chunk(), theirs),
            daemon=True,
        )
        self.process.start()
        readers.connect(self.listener.getsockname(), streams)

    def window(self, seconds: float) -> float:
        """Send for `seconds` while the readers read; the sender's CPU per send, in us."""
        self.commands.send(seconds)
        deadline = time.monotonic() + seconds + 60
        while not self.commands.poll():
            if time.monotonic() > deadline:
                raise RuntimeError("the floor's sender did not finish its window")
            self.readers.pump(0.1)
        return self.commands.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.commands.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
        self.listener.close()


def measure_send_floor(streams: int, rate: float, window: float, repeats: int) -> list[float]:
    """CPU per send() of one tick's chunk to one of `streams` loopback TCP sockets, read by
    the same reader loop as the SSE streams: what one delivery costs the kernel alone."""
    readers = SSEReaders()
    sender = BareSender(streams, rate, readers)
    try:
        sender.window(window)  # warm up
        figures = [sender.window(window) for _ in range(repeats)]
    finally:
        sender.close()
        readers.close()
    for index, figure in enumerate(figures):
        print(f"   window {index + 1}: {figure:.2f} us per send()", flush=True)
    return figures


# --- polls ---------------------------------------------------------------------------------


class Poller:
    """One keep-alive connection asking `path_for(last_id)` every `interval` seconds."""

    def __init__(self, address: tuple[str, int], last_id: int, interval: float) -> None:
        self.socket = socket.create_connection(address)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.setblocking(False)
        self.last_id = last_id
        self.interval = interval
        self.due = time.monotonic() + random.uniform(0, interval)  # no lock-step start
        self.waiting = False
        self.buffer = b""

    def answer_complete(self) -> bool:
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head = self.buffer[:head_end]
        match = _CONTENT_LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        if len(self.buffer) < head_end + 4 + length:
            return False
        body = self.buffer[head_end + 4 : head_end + 4 + length]
        self.buffer = self.buffer[head_end + 4 + length :]
        if not head.startswith(b"HTTP/1.1 2"):
            raise RuntimeError(f"the server answered {head[:200]!r} {body[:200]!r}")
        found = _LAST_ID.search(body)
        if found:
            self.last_id = int(found.group(1))
        return True


def drive_polls(
    pollers: list[Poller], path_for: Callable[[Poller], str], seconds: float
) -> tuple[int, int]:
    """Run the pollers on their clocks for `seconds`; return (requests sent, late sends)."""
    selector = selectors.DefaultSelector()
    by_fd = {}
    for poller in pollers:
        selector.register(poller.socket, selectors.EVENT_READ)
        by_fd[poller.socket.fileno()] = poller
    sent = late = 0
    deadline = time.monotonic() + seconds
    try:
        while (now := time.monotonic()) < deadline:
            next_due = deadline
            for poller in pollers:
                if poller.waiting:
                    continue
                if poller.due <= now:
                    if now - poller.due > poller.interval:
                        late += 1  # the loop fell behind: the rate is below the one asked
                        poller.due = now
                    poller.socket.send(request_bytes(path_for(poller)))
                    poller.waiting = True
                    poller.due += poller.interval
                    sent += 1
                else:
                    next_due = min(next_due, poller.due)
            for key, _ in selector.select(max(0.0, min(next_due - now, 0.05))):
                poller = by_fd[key.fd]
                try:
                    data = poller.socket.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    raise RuntimeError("the server closed a polling connection")
                poller.buffer += data
                while poller.answer_complete():
                    poller.waiting = False
        # Let the answers in flight arrive, so the next window starts clean.
        settle = time.monotonic() + 5
        while any(p.waiting for p in pollers) and time.monotonic() < settle:
            for key, _ in selector.select(0.05):
                poller = by_fd[key.fd]
                with contextlib.suppress(BlockingIOError):
                    poller.buffer += poller.socket.recv(65536)
                while poller.answer_complete():
                    poller.waiting = False
    finally:
        selector.close()
    return sent, late


def measure_polls(
    url: str,
    address: tuple[str, int],
    transport: str,
    path_for: Callable[[Poller], str],
    connections: int,
    per_second: float,
    window: float,
    repeats: int,
) -> list[float]:
    put_source(url, rate=1, arrivals="fixed", paused=False)
    # At least two events, so that "an older id" exists and no long poll is held.
    wait_until(lambda: snapshot(url)["source"]["last_id"] >= 2, timeout=10, what="2 events")
    last_id = snapshot(url)["source"]["last_id"]
    pollers = [Poller(address, last_id, 1 / per_second) for _ in range(connections)]
    try:
        drive_polls(pollers, path_for, 1.0)  # warm up: every connection open and answered
        figures = []
        for index in range(repeats):
            before = snapshot(url)
            sent, late = drive_polls(pollers, path_for, window)
            after = snapshot(url)
            cpu, user = cpu_split(before, after)
            old, new = before["transports"][transport], after["transports"][transport]
            requests = new["requests"] - old["requests"]
            empty = new["empty_responses"] - old["empty_responses"]
            per = cpu / requests * 1e6 if requests else float("nan")
            figures.append(per)
            print(
                f"   window {index + 1}: {requests:,} requests ({requests / window:,.0f}/s, "
                f"{empty / max(requests, 1):.0%} empty{f', {late} late' if late else ''}), "
                f"{cpu * 1000:.0f} ms CPU ({user:.0%} user), {per:.1f} us per request",
                flush=True,
            )
        put_source(url, paused=True)
        return figures
    finally:
        for poller in pollers:
            poller.socket.close()


def measure_peer_sse(name: str, args: argparse.Namespace, preexec_fn) -> list[float]:
    from lab.lab_process import LabProcess

    peer_args = [name, "--port", "0", "--host", "127.0.0.1"]
    peer_args += ["--rate", str(args.rate), "--arrivals", "fixed"]
    with LabProcess(peer_args, command_name="peer", preexec_fn=preexec_fn, timeout=60) as peer:
        address = ("127.0.0.1", peer.port)
        return measure_sse(
            peer.url,
            address,
            args.streams,
            args.rate,
            args.window,
            args.repeats,
            controls_source=False,
        )


def median_line(label: str, figures: list[float], unit: str) -> str:
    return (
        f"{label}: median {statistics.median(figures):.2f} {unit} "
        f"(windows: {', '.join(f'{f:.2f}' for f in figures)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000, help="SSE streams (default 2000)")
    parser.add_argument("--rate", type=float, default=5.0, help="events/s for SSE (default 5)")
    parser.add_argument("--pollers", type=int, default=200, help="polling connections")
    parser.add_argument(
        "--poll-rate", type=float, default=5.0, help="requests/s per polling connection"
    )
    parser.add_argument("--window", type=float, default=4.0, help="seconds per window")
    parser.add_argument("--repeats", type=int, default=5, help="windows per figure")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["floor", "sse", "poll", "longpoll"]
    )
    parser.add_argument("--source", help="run the server of another checkout (its folder)")
    parser.add_argument(
        "--peers",
        nargs="*",
        default=[],
        metavar="NAME",
        help="peers to measure SSE on as well (lab peer NAME; needs the peers extra)",
    )
    args = parser.parse_args()

    raise_file_limit()
    pinned = can_pin()
    print(f"machine: {machine()}", flush=True)
    print(
        "server pinned to CPU 0, load on the others"
        if pinned
        else "server and load share the CPUs (fewer than 2 cores)",
        flush=True,
    )
    results = []
    if pinned:
        # Before the floor too: a reader that may share the sender's CPU wakes without a
        # cross-CPU interrupt, which made the floor look cheaper than any server's delivery.
        pin_load()
    paired = "floor" not in args.skip and "sse" not in args.skip
    if "floor" not in args.skip and not paired:
        print(
            f"0. the floor: one plain send() per stream per event, {args.streams} streams x "
            f"{args.rate:g} events/s, no server",
            flush=True,
        )
        figures = measure_send_floor(args.streams, args.rate, args.window, args.repeats)
        results.append(median_line("send() alone, CPU per delivery", figures, "us"))
    with run_server(
        "--rate", "0", preexec_fn=pin_server if pinned else None, source_dir=args.source
    ) as server:
        url, address = server.url, address_of(server)
        if "sse" not in args.skip:
            floor: list[float] | None = [] if paired else None
            print(
                f"1. SSE: {args.streams} streams x {args.rate:g} events/s"
                + (", each window after one of the floor's" if paired else ""),
                flush=True,
            )
            figures = measure_sse(
                url, address, args.streams, args.rate, args.window, args.repeats, floor=floor
            )
            if floor:
                results.append(median_line("send() alone, CPU per delivery", floor, "us"))
            results.append(median_line("SSE, server CPU per delivery", figures, "us"))
            if floor:
                over = [lab - bare for lab, bare in zip(figures, floor, strict=True)]
                results.append(median_line("SSE over the floor, pair by pair", over, "us"))
        if "poll" not in args.skip:
            print(
                f"2. GET /poll?since=<last>: {args.pollers} keep-alive connections x "
                f"{args.poll_rate:g} requests/s, 1 event/s",
                flush=True,
            )
            figures = measure_polls(
                url,
                address,
                "short_polling",
                lambda poller: f"/poll?since={poller.last_id}",
                args.pollers,
                args.poll_rate,
                args.window,
                args.repeats,
            )
            results.append(median_line("short poll, server CPU per request", figures, "us"))
        if "longpoll" not in args.skip:
            print(
                f"3. GET /longpoll?since=<an older id> (answered at once): {args.pollers} "
                f"connections x {args.poll_rate:g} requests/s",
                flush=True,
            )
            figures = measure_polls(
                url,
                address,
                "long_polling",
                lambda poller: f"/longpoll?since={max(0, poller.last_id - 1)}",
                args.pollers,
                args.poll_rate,
                args.window,
                args.repeats,
            )
            results.append(median_line("long poll answered at once, per request", figures, "us"))
    for number, name in enumerate(args.peers, start=4):
        print(f"{number}. SSE on the {name} peer: {args.streams} streams x {args.rate:g} events/s")
        figures = measure_peer_sse(name, args, pin_server if pinned else None)
        results.append(median_line(f"SSE on {name}, server CPU per delivery", figures, "us"))
    print()
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
