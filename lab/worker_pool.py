"""`lab serve --workers N`: N server processes on one port, sharing one event source.

Each worker is the lab's own server, exactly as one process runs it (its socket counters,
its deadlines, its SSE fan-out), bound to the same port with SO_REUSEPORT: the kernel
spreads new connections across the workers. gunicorn's gevent workers would have replaced
the lab's counting connection handler with gunicorn's own, so a worker would no longer
measure what the single process measures. The workers share their events through Redis
(lab.redis_source), so ids are the same on every worker and a client may resume on any.

This process only starts the workers (and, for `--broker redis`, a private redis-server),
restarts a worker that dies, and stops them all on Ctrl+C or SIGTERM. It never imports
gevent's server, so it needs no monkey patching.
"""

from __future__ import annotations

import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TextIO

from lab.page_address import page_urls, print_addresses
from lab.settings import PRIVATE_BROKER, Settings
from lab.started_programs import stop_with_parent

START_TIMEOUT_S = 30.0
"""How long a worker may take to say where it listens (it loads the shared history first)."""
RESTARTS_PER_MINUTE = 5
"""A worker that dies more often than this is failing at start, not crashing by chance:
the server stops and says so rather than restarting it forever."""


class WorkerDidNotStart(RuntimeError):
    """A worker exited or stayed silent at start; the message quotes what it said."""


def reserve_port(host: str, port: int) -> socket.socket:
    """Hold the port the workers will share (bound, not listening, so it takes no
    connections): a port of 0 is chosen once here, and a worker restarted later finds it
    still free for the lab."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError:
        holder.close()
        raise
    return holder


def read_line_within(process: subprocess.Popen, timeout: float) -> str:
    """The first line a worker prints, or '' if it printed none in time."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


def discard_output(process: subprocess.Popen) -> None:
    """Read what a worker prints after its first line, so that its pipe never fills."""
    assert process.stdout is not None
    for _line in process.stdout:
        pass


class WorkerPool:
    """The workers, started with the same options as this command plus their own."""

    def __init__(self, argv: Sequence[str], settings: Settings, port: int, broker: str) -> None:
        self.argv = list(argv)
        self.settings = settings
        self.port = port
        self.broker = broker
        self.processes: list[subprocess.Popen] = []
        self.restarts: list[float] = []

    def command(self, index: int) -> list[str]:
        # Later options win in argparse: these override whatever the person wrote. Each is
        # one `--name=value` word: a token may begin with '-', which argparse would read as
        # an option of its own.
        return [
            sys.executable, "-m", "lab", *self.argv,
            f"--port={self.port}",
            f"--broker={self.broker}",
            f"--token={self.settings.token}",
            f"--worker-index={index}",
        ]  # fmt: skip

    def start_worker(self, index: int) -> subprocess.Popen:
        process = subprocess.Popen(
            self.command(index),
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=stop_with_parent,
        )
        line = read_line_within(process, START_TIMEOUT_S)
        if not line.startswith("listening on "):
            process.kill()
            process.wait()
            said = f"it printed {line.strip()!r}" if line else "it printed nothing"
            raise WorkerDidNotStart(
                f"worker {index} did not start (exit code {process.returncode}); {said}, and "
                "its errors are above"
            )
        threading.Thread(target=discard_output, args=(process,), daemon=True).start()
        return process

    def start(self) -> None:
        for index in range(self.settings.workers):
            self.processes.append(self.start_worker(index))

    def restart_ended(self, err: TextIO) -> None:
        """Start again every worker that has ended; raise WorkerDidNotStart if they keep dying."""
        for index, process in enumerate(self.processes):
            if process.poll() is None:
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > RESTARTS_PER_MINUTE:
                raise WorkerDidNotStart(
                    f"workers ended {len(self.restarts)} times within a minute; the last, "
                    f"worker {index}, with exit code {process.returncode}: stopping"
                )
            print(
                f"lab: worker {index} (pid {process.pid}) ended with exit code "
                f"{process.returncode}; starting it again",
                file=err,
                flush=True,
            )
            self.processes[index] = self.start_worker(index)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve_workers(
    settings: Settings, argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run `settings.workers` workers until SIGINT or SIGTERM; return the exit code."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with ExitStack() as stack:
        broker = settings.broker or PRIVATE_BROKER
        where = f"the Redis at {broker}"
        if broker == PRIVATE_BROKER:
            from lab.redis_server import RedisServer

            broker = stack.enter_context(RedisServer()).url
            where = f"a private redis-server at {broker}"
        holder = stack.enter_context(reserve_port(settings.host, settings.port))
        port = holder.getsockname()[1]
        pool = WorkerPool(argv, settings, port, broker)
        stack.callback(pool.stop)
        pool.start()
        url, teacher_url = page_urls(settings, port)
        print(f"listening on http://{settings.host}:{port}/", file=out, flush=True)
        pids = ", ".join(str(process.pid) for process in pool.processes)
        if settings.workers == 1:
            said = f"One worker (pid {pids}) serves, its event source kept in {where}."
        else:
            said = (
                f"{settings.workers} workers (pids {pids}) share the port and one event "
                f"source through {where}."
            )
        print(said, file=out, flush=True)
        print_addresses(url, teacher_url, out)
        print("Ctrl+C stops the server.", file=out, flush=True)
        while not stopping.wait(0.2):
            pool.restart_ended(err)
    print("stopped", file=out, flush=True)
    return 0
