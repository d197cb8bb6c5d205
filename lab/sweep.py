"""`lab bench`: the sweep. Every chosen transport x user count, each on a fresh server.

For each cell: start `lab serve` on a free port, run the transport's Locust file headless
(a subprocess, exactly the command a person would type), wait until the server sees every
user connected (lab.connecting), snapshot the server's /metrics and the load generator's
CPU, measure for the cell's window, snapshot again, stop Locust and the server; the next
cell's server starts meanwhile (lab.cell_servers). The window between the two snapshots is
what summary.csv describes (lab.cell_measurement works it out); Locust's own CSVs (ramp-up
left out by --reset-stats) sit beside it. Where each cell's time went is in the manifest.

This module drives processes and writes the run folder; it measures nothing itself.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from lab import run_folder
from lab.cell_measurement import (
    CellResult,
    Connecting,
    count_client_errors,
    measure_cell,
    read_deliveries,
    read_opens,
    users_answered,
    with_connecting,
    with_memory_per_user,
)
from lab.cell_path import proxied, relayed, what_reached_the_clients
from lab.cell_servers import Servers
from lab.chat.measurement import measure_chat_cell
from lab.connecting import CONNECT_DEADLINE_S, wait_for_users
from lab.delivery_recorder import FORWARD_EVERY_S
from lab.lab_process import fetch_metrics
from lab.locust_worker import LOCUST_MASTER_PORT
from lab.measurement import Cell
from lab.names import CHAT, LAB_SERVER
from lab.process_cpu import busiest_process_percent, process_tree_cpu
from lab.progress import Progress, clock
from lab.provenance import git_commit, machine, versions
from lab.publish_cost import publish_comparison
from lab.sweep_output import print_frame_checks, print_summary
from lab.sweep_plan import RECONNECT_AFTER_S, BenchConfig


@contextmanager
def scenario_file(cell: Cell) -> Iterator[Path]:
    """The cell's Locust file (its transport's, or the chat's), from the installed package
    (editable or not)."""
    name = CHAT if cell.workload == CHAT else cell.transport
    with resources.as_file(resources.files("lab.scenarios") / f"{name}.py") as path:
        yield path


WORKERS_MAX_WAIT_S = 120.0
"""How long a cell's Locust master waits for its workers before it gives up."""


def locust_command(
    cell: Cell,
    config: BenchConfig,
    scenario: Path,
    url: str,
    prefix: Path,
    log_dir: Path,
    run_time: float,
) -> list[str]:
    options = {
        "--host": url,
        "-u": str(cell.users),
        "-r": f"{config.spawn_rate_for(cell.users):g}",
        "--run-time": f"{math.ceil(run_time)}s",
        # Stopped only once its window is over: its users are cut at once (each closes its
        # socket in `finally`) rather than waited for, which a held stream never ends.
        "--stop-timeout": "0",
        "--csv": str(prefix),
        "--loglevel": "WARNING",
        "--events-log": str(log_dir),
        "--poll-interval": f"{cell.interval_s or config.interval_s:g}",
        "--longpoll-timeout": f"{cell.timeout_s or config.timeout_s:g}",
    }
    if cell.workload == CHAT:
        options["--chat-transport"] = cell.transport
    if cell.drop_every_s is not None:
        options["--reconnect-after"] = f"{RECONNECT_AFTER_S:g}"
    processes = config.processes_for(cell)
    flags = ["--headless", "--csv-full-history", "--reset-stats", "--only-summary"]
    if config.expect_workers:
        # The users run in `lab locust-worker` processes, here or on other machines.
        flags.append("--master")
        options["--expect-workers"] = str(config.expect_workers)
        options["--expect-workers-max-wait"] = f"{WORKERS_MAX_WAIT_S:g}"
        options["--master-bind-port"] = str(LOCUST_MASTER_PORT)
    elif processes > 1:
        options["--processes"] = str(processes)
    if not cell.resumes:
        flags.append("--no-resume")
    pairs = [part for option in options.items() for part in option]
    return [sys.executable, "-m", "locust", "-f", str(scenario), *flags, *pairs]


def measure(
    url: str,
    cell: Cell,
    window_s: float,
    locust: subprocess.Popen,
    progress: Progress,
    token: str = "",
) -> None:
    """Wait out the measured window; in a drop cell, POST /drop at each of its intervals."""
    end = time.monotonic() + window_s
    every = cell.drop_every_s
    while every is not None and time.monotonic() + every < end:
        progress.wait_until(time.monotonic() + every, "measuring", locust)
        post_drop(url, token)
    progress.wait_until(end, "measuring", locust)


def post_drop(url: str, token: str = "") -> None:
    import urllib.request  # not at the top: `lab serve` builds its parser before patching

    drop = urllib.request.Request(url + "/drop", method="POST", data=b"{}")
    drop.add_header("Content-Type", "application/json")
    if token:  # a server off loopback asks for it
        drop.add_header("X-Lab-Token", token)
    with urllib.request.urlopen(drop, timeout=30) as response:
        response.read()


class Timings:
    """Where one cell's wall time went, phase by phase (seconds), for the manifest."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.monotonic()

    def lap(self, phase: str) -> None:
        """The phase that has just ended."""
        now = time.monotonic()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._since, 2)
        self._since = now


def run_cell(
    cell: Cell,
    config: BenchConfig,
    run_dir: Path,
    progress: Progress,
    servers: Servers,
    upcoming: Cell | None = None,
) -> tuple[CellResult, dict[str, float]]:
    """Run one cell; return its result and where its time went. `upcoming`: the next
    cell, whose server starts as soon as this one's window is over."""
    timings = Timings()
    ramp_s = cell.users / config.spawn_rate_for(cell.users)
    window_s = config.window_for(cell)
    # Locust is stopped when the window ends; its own run time is only a backstop.
    run_time = ramp_s + CONNECT_DEADLINE_S + window_s + 10
    work = run_dir / "raw" / cell.name
    log_dir = work / "deliveries"

    with (
        servers.take(cell) as server,
        proxied(server.url, cell.via, work / "nginx") as nginx,
        relayed(nginx.url if nginx else server.url, cell.rtt_ms, work / "relay.log") as clients_url,
        scenario_file(cell) as scenario,
    ):
        timings.lap("server")
        command = locust_command(
            cell, config, scenario, clients_url, run_dir / cell.name, log_dir, run_time
        )
        (work / "locust-command.txt").write_text(" ".join(command) + "\n")
        with open(work / "locust.log", "w") as locust_log:
            load_cpus = servers.load_cpus
            locust = subprocess.Popen(
                command,
                stdout=locust_log,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                preexec_fn=(lambda: os.sched_setaffinity(0, load_cpus)) if load_cpus else None,
            )
            started = time.monotonic()
            try:
                idle, before, connected = wait_for_users(
                    server.url, cell, config, locust, progress, started
                )
                connect_s = time.monotonic() - started
                timings.lap("connect")
                after = before
                if connected == cell.users:
                    cpu_before, cpu_started = process_tree_cpu(locust.pid), time.monotonic()
                    before = fetch_metrics(server.url)
                    measure(server.url, cell, window_s, locust, progress, servers.token)
                    after = fetch_metrics(server.url)
                    cpu_after = process_tree_cpu(locust.pid)
                    cpu_window_s = time.monotonic() - cpu_started
                    timings.lap("window")
                stopped_early = locust.poll() is not None
            finally:
                if config.expect_workers and locust.poll() is None:
                    # Workers elsewhere send their raw logs in batches: let the last arrive.
                    progress.wait_until(time.monotonic() + 2 * FORWARD_EVERY_S, "gathering", locust)
                if locust.poll() is None:
                    locust.send_signal(signal.SIGTERM)  # the window is over: Locust writes its CSVs
                servers.prepare(upcoming)
                progress.wait_until(None, "finishing", locust, deadline=60)
            exit_code = locust.poll()
    timings.lap("stop")

    (run_dir / f"{cell.name}_metrics.json").write_text(
        json.dumps({"before": before, "after": after}, indent=1) + "\n"
    )
    client_errors = count_client_errors(run_dir / f"{cell.name}_failures.csv")
    client_cpu = 0.0
    if connected == cell.users:
        client_cpu = busiest_process_percent(cpu_before, cpu_after, cpu_window_s)
    if cell.workload == CHAT:
        result = measure_chat_cell(cell, before, after, log_dir, client_cpu, client_errors)
    else:
        result = measure_ticker_cell(
            cell, config, work, before, after, log_dir, client_cpu, client_errors
        )
    opens = read_opens(log_dir, before["time"])
    if connected < cell.users:
        # A server that stopped answering /metrics saw no more users, but its clients know
        # which of them got a stream or an answer.
        connected = min(cell.users - 1, max(connected, users_answered(log_dir)))
    result = with_connecting(result, Connecting(connected, connect_s, opens))
    if connected == cell.users:
        result = with_memory_per_user(result, idle, after)
    if stopped_early:
        result.problems.insert(0, "Locust stopped before the window ended")
    if exit_code is None:
        locust.kill()
        result.problems.insert(0, "Locust did not stop when asked and was killed")
    elif exit_code not in (0, 1):  # 1 = "some requests failed", reported from the data
        result.problems.insert(
            0, f"Locust exited with code {exit_code} (see {work / 'locust.log'})"
        )
    timings.lap("summary")
    return result, timings.seconds


def measure_ticker_cell(
    cell: Cell,
    config: BenchConfig,
    work: Path,
    before: dict,
    after: dict,
    log_dir: Path,
    client_cpu: float,
    client_errors: int,
) -> CellResult:
    window = (before["time"], after["time"])
    client_bytes, gateway_timeouts = what_reached_the_clients(cell, work, before, after)
    return measure_cell(
        cell,
        before,
        after,
        read_deliveries(log_dir, *window),
        client_cpu,
        client_errors,
        config.interval_s,
        config.timeout_s,
        client_bytes=client_bytes,
        gateway_timeouts=gateway_timeouts,
    )


def run_bench(config: BenchConfig, out: TextIO = sys.stdout) -> Path:
    """Run the sweep and write its run folder; return the folder."""
    cells = config.plan()
    run_id = config.run_id or datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
    run_dir = (config.out / run_id).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "run_id": run_id,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(config).items()
            if k != "out"
        },
        "cells": [],
        "versions": versions(),
        "commit": git_commit(),
        "machine": machine(),
        "events_csv": "deliveries inside each cell's window; 'sample_every' > 1 means every "
        "n-th delivery was kept",
    }
    planned = [config.cell_seconds(c) for c in cells]
    print(
        f"Sweep {run_id}: {len(cells)} cells, about {clock(sum(planned))} (writing {run_dir})",
        file=out,
        flush=True,
    )
    progress = Progress(planned, out)
    results: list[CellResult] = []
    failed: dict[str, list[str]] = {}
    if config.expect_workers:
        print(
            f"Each cell's Locust waits for {config.expect_workers} workers: on each load "
            f"machine, run `lab locust-worker --master-host <this machine's address>` (it "
            f"serves every cell; Locust's port {LOCUST_MASTER_PORT} must be reachable).",
            file=out,
        )
    pinned = config.pinned_cpus({cell.server for cell in cells})
    if pinned is not None:
        manifest["server_cpus"], manifest["load_cpus"] = sorted(pinned[0]), sorted(pinned[1])
    refused: dict[tuple, int] = {}
    """The fewest users a server did not let connect, per server and cell settings."""
    with Servers(run_dir, config.server_host, pinned) as servers:
        for index, cell in enumerate(cells):
            progress.begin(
                index,
                ("chat over " if cell.workload == CHAT else "")
                + f"{cell.transport} x {cell.users} users"
                + (f", every {cell.interval_s:g} s" if cell.interval_s else "")
                + (f", {cell.workers} workers" if cell.workers > 1 else "")
                + (f", through {cell.broker}" if cell.broker else "")
                + (f", on {cell.server}" if cell.server != LAB_SERVER else ""),
            )
            upcoming = cells[index + 1] if index + 1 < len(cells) else None
            fewest = refused.get(cell.same_but_users())
            if fewest is not None and cell.users > fewest:
                # A server that left some of fewer users unanswered will not take more.
                reason = f"{cell.server} did not let all of {fewest} users connect"
                manifest["cells"].append({"cell": cell.name, "status": "skipped", "error": reason})
                print(f"  skipped {cell.name}: {reason}", file=out, flush=True)
                continue
            try:
                result, seconds = run_cell(cell, config, run_dir, progress, servers, upcoming)
            except Exception as error:  # one broken cell must not lose the others
                failed[cell.name] = [f"the cell failed: {error}"]
                manifest["cells"].append(
                    {"cell": cell.name, "status": "failed", "error": str(error)}
                )
                continue
            results.append(result)
            if result.summary.verdict.not_connected:
                key = cell.same_but_users()
                refused[key] = min(refused.get(key, cell.users), cell.users)
            manifest["cells"].append(
                {
                    "cell": cell.name,
                    "status": "problems" if result.problems else "ok",
                    "problems": result.problems,
                    "sample_every": result.sample_every,
                    "sse_frame_arithmetic_bytes": result.frame_arithmetic,
                    "connect_s": result.summary.connect_s,
                    "seconds": seconds,
                }
            )
    progress.done()
    if any(c.transport == "websocket" for c in cells) and not (config.quick or config.chat):
        manifest["publish_cost"] = publish_comparison(run_dir, out)
    if config.browser_vias:
        from lab.browser_check import run_checks  # drives Chromium, which only this needs

        manifest["browser_checks"] = run_checks(config.browser_vias, out)
    run_folder.write_summary(run_dir, [r.summary for r in results])
    run_folder.write_events(run_dir, [row for r in results for row in r.events_rows])
    manifest["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    run_folder.write_manifest(run_dir, manifest)
    run_folder.point_latest(config.out, run_id)
    problems = {r.cell.name: r.problems for r in results if r.problems} | failed
    print_summary([r.summary for r in results], problems, out)
    print_frame_checks(results, out)
    cells_s = time.monotonic() - progress.started
    if config.report:
        from lab import report  # draws with matplotlib, which only the report needs

        print(f"Report: {report.write_report(run_dir)}", file=out, flush=True)
    took = time.monotonic() - progress.started
    print(
        f"Finished in {clock(took)}: the sweep {clock(cells_s)}, the report "
        f"{clock(took - cells_s)}.",
        file=out,
        flush=True,
    )
    return run_dir
