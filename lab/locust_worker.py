"""`lab locust-worker`: lend this machine's cores to a sweep run on another machine.

`lab bench --expect-workers N` runs each cell's Locust as a master that waits for N
workers. This command is one of them: a Locust worker that loads every scenario of the lab
(the master tells it which users to run), connects to the master, runs its share of the
cell's users, and sends what they measured back to the master. A master ends with its
cell, and its workers with it, so this command starts a new worker each time one ends,
until Ctrl+C: one command serves a whole sweep.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from importlib import resources

from lab.names import CHAT, TRANSPORTS

FORWARD_LOGS = "LAB_FORWARD_LOGS"
"""Read by the scenarios (scenarios/client_measurement.py): send the raw logs to the
master, whose machine the sweep reads them on."""
LOCUST_MASTER_PORT = 5557
RESTART_PAUSE_S = 1.0
"""Between two cells' masters: a worker started too early retries until one appears."""


def scenario_files() -> str:
    """Every scenario, comma-separated for Locust's -f: the master picks the users."""
    folder = resources.files("lab.scenarios")
    return ",".join(str(folder / f"{name}.py") for name in (*TRANSPORTS, CHAT))


def worker_command(master_host: str, master_port: int, processes: int) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "--worker",
        "-f", scenario_files(),
        "--master-host", master_host,
        "--master-port", str(master_port),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    if processes > 1:
        command += ["--processes", str(processes)]
    return command


def run_from_args(args: argparse.Namespace) -> int:
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    command = worker_command(args.master_host, args.master_port, args.processes)
    print(
        f"Lending {args.processes} process(es) to the sweep whose Locust master is at "
        f"{args.master_host}:{args.master_port}; Ctrl+C stops.",
        flush=True,
    )
    cells = 0
    while not stopping and (args.cells == 0 or cells < args.cells):
        worker = subprocess.Popen(command, env=os.environ | {FORWARD_LOGS: "1"})
        while worker.poll() is None:
            if stopping:
                worker.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=0.5)
        cells += 1
        if not stopping:
            time.sleep(RESTART_PAUSE_S)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "locust-worker",
        help="lend this machine to a sweep's Locust master (lab bench --expect-workers)",
        description="Run Locust workers for a sweep started elsewhere with `lab bench "
        "--expect-workers N`, one after another, one per cell, until Ctrl+C.",
    )
    parser.add_argument(
        "--master-host",
        default="127.0.0.1",
        help="the machine running `lab bench` (default %(default)s)",
    )
    parser.add_argument(
        "--master-port",
        type=int,
        default=LOCUST_MASTER_PORT,
        help="its Locust master port (default %(default)s, Locust's own)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="Locust processes on this machine, each one worker (default %(default)s)",
    )
    parser.add_argument(
        "--cells", type=int, default=0, help="stop after this many cells (default 0: until Ctrl+C)"
    )
    parser.set_defaults(run=run_from_args)
