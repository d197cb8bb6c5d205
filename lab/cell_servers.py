"""The lab servers a sweep's cells run against: one fresh `lab serve` per cell, the next
started in the background while the current cell winds down."""

from __future__ import annotations

import os
import secrets
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from lab.lab_process import LabProcess
from lab.measurement import Cell
from lab.names import LAB_SERVER
from lab.settings import PRIVATE_BROKER


def server_args(cell: Cell, host: str = "127.0.0.1", token: str = "") -> list[str]:
    """The arguments of `lab serve`, or of `lab peer NAME` for a peer's cell."""
    if cell.server != LAB_SERVER:
        return [
            cell.server,
            f"--host={host}",
            "--port=0",
            f"--rate={cell.rate:g}",
            f"--arrivals={cell.arrivals}",
            f"--payload-bytes={cell.payload_pad_bytes}",
        ]
    options = {
        "--host": host,
        "--port": "0",
        "--rate": f"{cell.rate:g}",
        "--arrivals": cell.arrivals,
        "--payload-bytes": str(cell.payload_pad_bytes),
        "--max-streams": str(max(20_000, cell.users * 2)),
    }
    if cell.heartbeat_s is not None:
        options["--heartbeat"] = f"{cell.heartbeat_s:g}"
    if cell.workers > 1 or cell.broker:
        options["--workers"] = str(cell.workers)
        options["--broker"] = cell.broker or PRIVATE_BROKER
    args = [part for option in options.items() for part in option]
    if token:  # one word: a token may begin with '-', which argparse would take for an option
        args.append(f"--token={token}")
    return args


class Servers:
    """Each cell's `lab serve`, the next one started in the background while the current
    cell winds down (a server takes a few tenths of a second to start, every cell)."""

    def __init__(
        self,
        run_dir: Path,
        host: str = "127.0.0.1",
        pinned: tuple[set[int], set[int]] | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.host = host
        self.cpus: set[int] | None = pinned[0] if pinned else None
        self.load_cpus: set[int] | None = pinned[1] if pinned else None
        """The CPUs every server is pinned to, and the load generator's (None: wherever the
        kernel puts them)."""
        # A server off loopback asks for a token before /drop; one for the whole sweep.
        self.token = "" if host == "127.0.0.1" else secrets.token_urlsafe(16)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="next-server")
        self._next: tuple[Cell, Future[LabProcess]] | None = None

    def start(self, cell: Cell) -> LabProcess:
        """`cell`'s server, started now (`lab serve`, or `lab peer NAME`)."""
        log = self.work_folder(cell) / "server.log"
        command = "serve" if cell.server == LAB_SERVER else "peer"
        args = server_args(cell, self.host, self.token)
        return LabProcess(args, log=log, command_name=command, preexec_fn=self._pin)

    def _pin(self) -> None:
        # Runs in the child before it starts: the server and everything it starts (workers,
        # a redis-server, gunicorn's workers) inherit the set.
        if self.cpus is not None:
            os.sched_setaffinity(0, self.cpus)

    def work_folder(self, cell: Cell) -> Path:
        """The cell's raw folder, emptied."""
        work = self.run_dir / "raw" / cell.name
        shutil.rmtree(work, ignore_errors=True)
        (work / "deliveries").mkdir(parents=True)
        return work

    def prepare(self, cell: Cell | None) -> None:
        """Start `cell`'s server now, for when it runs."""
        if cell is None or self._next is not None:
            return
        self._next = (cell, self._pool.submit(self.start, cell))

    def take(self, cell: Cell) -> LabProcess:
        """`cell`'s server: the one started for it, or one started now."""
        if self._next is not None and self._next[0] == cell:
            _, future = self._next
            self._next = None
            return future.result()
        self.close()
        return self.start(cell)

    def close(self) -> None:
        """Stop a server started for a cell that will not run."""
        if self._next is not None:
            _, future = self._next
            self._next = None
            with suppress(Exception):  # one that failed to start has nothing to stop
                future.result().stop()

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._pool.shutdown()
