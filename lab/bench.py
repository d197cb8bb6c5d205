"""`lab bench`: the sweep. Every chosen transport x user count, each on a fresh server.

For each cell: start `lab serve` on a free port, run the transport's Locust file headless
(a subprocess, exactly the command a person would type), wait for the ramp-up to finish,
snapshot the server's /metrics and the load generator's CPU, measure for `duration` seconds,
snapshot again, let Locust finish, stop the server. The window between the two snapshots is
what summary.csv describes; Locust's own CSVs (ramp-up left out by --reset-stats) sit beside it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lab import theory
from lab.measurement import (
    EVENTS_CSV_COLUMNS,
    SUMMARY_COLUMNS,
    Cell,
    SequenceCheck,
    counter_delta,
    problems_of,
    summarize_cell,
)

TRANSPORTS = ("short_polling", "long_polling", "sse")
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
EVENTS_CSV_MAX_ROWS_PER_CELL = 10_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class BenchConfig:
    transports: tuple[str, ...] = TRANSPORTS
    users: tuple[int, ...] = (10, 100, 1000)
    rate: float = 1.0
    arrivals: str = "fixed"
    interval_s: float = 1.0
    timeout_s: float = 25.0
    payload_bytes: int = 16
    duration_s: float = 30.0
    settle_s: float = 3.0
    spawn_rate: float | None = None
    interval_sweep: tuple[float, ...] = (0.5, 2.0, 5.0)
    interval_sweep_users: int = 100
    processes: str = "auto"
    out: Path = Path("results")
    run_id: str = ""
    quick: bool = False
    report: bool = True

    def plan(self) -> list[Cell]:
        cells = []
        for transport in self.transports:
            for users in self.users:
                cells.append(self.cell(transport, users, self.interval_s))
        if "short_polling" in self.transports:
            for interval in self.interval_sweep:
                if interval != self.interval_s:
                    cells.append(self.cell("short_polling", self.interval_sweep_users, interval))
        return cells

    def cell(self, transport: str, users: int, interval: float) -> Cell:
        return Cell(
            transport=transport,
            users=users,
            rate=self.rate,
            arrivals=self.arrivals,
            interval_s=interval if transport == "short_polling" else None,
            timeout_s=self.timeout_s if transport == "long_polling" else None,
            payload_pad_bytes=self.payload_bytes,
        )

    def spawn_rate_for(self, users: int) -> float:
        return self.spawn_rate or max(10.0, users / 5)

    def processes_for(self, cell: Cell) -> int:
        if self.processes != "auto":
            return int(self.processes)
        # One Python process saturates a core near 1,000 busy users; Locust's own
        # --processes then forks workers so the load generator can use both cores.
        return 2 if cell.users >= 500 and (os.cpu_count() or 1) >= 2 else 1

    def cell_seconds(self, cell: Cell) -> float:
        """Planned wall time of one cell (start-up, ramp, settle, window, tail)."""
        ramp = cell.users / self.spawn_rate_for(cell.users)
        return 6 + ramp + self.settle_s + self.duration_s


# ---------------------------------------------------------------- processes and snapshots


@contextmanager
def lab_server(cell: Cell, config: BenchConfig, log_path: Path) -> Iterator[str]:
    """A fresh `lab serve` for one cell; yields its URL and stops it afterwards."""
    command = [
        sys.executable, "-m", "lab", "serve", "--host", "127.0.0.1", "--port", "0",
        "--rate", f"{cell.rate:g}", "--arrivals", cell.arrivals,
        "--payload-bytes", str(cell.payload_pad_bytes),
        "--max-streams", str(max(20_000, cell.users * 2)),
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            first = process.stdout.readline()
            if not first.startswith("listening on "):
                raise RuntimeError(f"the lab server did not start (see {log_path})")
            url = first.removeprefix("listening on ").strip().rstrip("/")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def fetch_metrics(url: str) -> dict:
    import urllib.request  # not at the top: `lab serve` builds this parser before patching

    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        return json.load(response)


def process_tree_cpu(root_pid: int) -> dict[int, float]:
    """CPU seconds used so far by a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children[int(fields[1])].append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in cpu:
            tree[pid] = cpu[pid]
        todo.extend(children.get(pid, []))
    return tree


def busiest_process_percent(before: dict[int, float], after: dict[int, float], seconds: float):
    """The highest share of one core any load-generator process used over the window."""
    shares = [(after[pid] - before.get(pid, 0.0)) / seconds * 100 for pid in after]
    return max(shares, default=0.0)


# ---------------------------------------------------------------------------- one cell


@dataclass
class CellResult:
    cell: Cell
    row: dict | None
    problems: list[str]
    events_rows: list[tuple]
    sample_every: int = 1
    frame_arithmetic: float | None = None
    """SSE only: the mean overhead the frame arithmetic predicts for the delivered events."""


def locust_command(cell: Cell, config: BenchConfig, url: str, prefix: Path, log_dir: Path,
                   run_time: float) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(SCENARIOS / f"{cell.transport}.py"),
        "--headless", "--host", url,
        "-u", str(cell.users), "-r", f"{config.spawn_rate_for(cell.users):g}",
        "--run-time", f"{math.ceil(run_time)}s", "--stop-timeout", "2",
        "--csv", str(prefix), "--csv-full-history", "--reset-stats", "--only-summary",
        "--loglevel", "WARNING", "--events-log", str(log_dir),
        "--poll-interval", f"{cell.interval_s or config.interval_s:g}",
        "--longpoll-timeout", f"{cell.timeout_s or config.timeout_s:g}",
    ]
    processes = config.processes_for(cell)
    if processes > 1:
        command += ["--processes", str(processes)]
    return command


def run_cell(cell: Cell, config: BenchConfig, run_dir: Path, progress: Progress) -> CellResult:
    work = run_dir / "raw" / cell.name
    log_dir = work / "deliveries"
    shutil.rmtree(work, ignore_errors=True)
    log_dir.mkdir(parents=True)
    ramp_s = cell.users / config.spawn_rate_for(cell.users)
    run_time = ramp_s + config.settle_s + config.duration_s + 1

    with lab_server(cell, config, work / "server.log") as url:
        command = locust_command(cell, config, url, run_dir / cell.name, log_dir, run_time)
        (work / "locust-command.txt").write_text(" ".join(command) + "\n")
        with open(work / "locust.log", "w") as locust_log:
            locust = subprocess.Popen(command, stdout=locust_log, stderr=subprocess.STDOUT,
                                      cwd=run_dir)
            started = time.monotonic()
            progress.wait_until(started + ramp_s + config.settle_s, "ramping up", locust)
            cpu_before, cpu_started = process_tree_cpu(locust.pid), time.monotonic()
            before = fetch_metrics(url)
            progress.wait_until(time.monotonic() + config.duration_s, "measuring", locust)
            after = fetch_metrics(url)
            cpu_after, cpu_window_s = process_tree_cpu(locust.pid), time.monotonic() - cpu_started
            progress.wait_until(None, "finishing", locust, deadline=run_time + 60)
            exit_code = locust.poll()

    problems = []
    if exit_code is None:
        locust.kill()
        problems.append("Locust did not stop by itself and was killed")
    elif exit_code not in (0, 1):  # 1 = "some requests failed", reported from the data
        problems.append(f"Locust exited with code {exit_code} (see {work / 'locust.log'})")

    # The window is bounded by the server's own clock at its two snapshots, so deliveries,
    # publishes and bytes are all counted over the same interval.
    window_s = after["time"] - before["time"]
    (run_dir / f"{cell.name}_metrics.json").write_text(
        json.dumps({"before": before, "after": after}, indent=1) + "\n"
    )
    latencies, payloads, lost, duplicated, window_rows = read_deliveries(
        log_dir, before["time"], after["time"]
    )
    client_errors = count_client_errors(run_dir / f"{cell.name}_failures.csv")
    predicted = theory.predict(
        cell.transport, users=cell.users, rate=cell.rate, arrivals=cell.arrivals,
        interval_s=cell.interval_s or config.interval_s,
        timeout_s=cell.timeout_s or config.timeout_s,
        event_json_bytes=(sum(payloads) / len(payloads)) if payloads else None,
    ) if payloads else None
    row = summarize_cell(
        cell, window_s, latencies, payloads, lost, duplicated,
        counter_delta(before, after, cell.transport),
        busiest_process_percent(cpu_before, cpu_after, cpu_window_s),
        client_errors, predicted,
    )
    problems += problems_of(row)
    sample_every = max(1, math.ceil(len(window_rows) / EVENTS_CSV_MAX_ROWS_PER_CELL))
    events_rows = [
        (cell.name, cell.transport, cell.users, event_id, latency)
        for event_id, latency in window_rows[::sample_every]
    ]
    frame_arithmetic = None
    if cell.transport == "sse" and window_rows:
        frame_arithmetic = sum(
            theory.sse_frame_overhead(event_id, "tick", size)
            for (event_id, _), size in zip(window_rows, payloads, strict=True)
        ) / len(window_rows)
    return CellResult(cell, row, problems, events_rows, sample_every, frame_arithmetic)


def read_deliveries(log_dir: Path, start: float, end: float):
    """Latencies and payload sizes inside the window; lost/repeated ids over the whole run."""
    latencies, payloads, window_rows = [], [], []
    sequences: dict[str, SequenceCheck] = {}
    for path in sorted(log_dir.glob("deliveries-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                event_id = int(record["event_id"])
                sequences.setdefault(record["user"], SequenceCheck()).see(event_id)
                if start <= float(record["received_at"]) <= end:
                    latency = float(record["latency_ms"])
                    latencies.append(latency)
                    payloads.append(int(record["event_bytes"]))
                    window_rows.append((event_id, latency))
    lost = sum(s.lost for s in sequences.values())
    duplicated = sum(s.duplicated for s in sequences.values())
    return latencies, payloads, lost, duplicated, window_rows


def count_client_errors(failures_csv: Path) -> int:
    """Failed requests Locust saw, apart from the sequence checks (counted as lost/repeated)."""
    if not failures_csv.exists():
        return 0
    with open(failures_csv, newline="") as failures:
        return sum(
            int(row["Occurrences"]) for row in csv.DictReader(failures)
            if not row["Name"].endswith(" sequence")
        )


# ---------------------------------------------------------------------------- progress


class Progress:
    """Says which cell runs, how long it has run and about how long the sweep has left."""

    def __init__(self, planned: list[float], out=sys.stdout) -> None:
        self.planned = planned
        self.out = out
        self.started = time.monotonic()
        self.index = 0
        self.label = ""
        self.interactive = out.isatty()

    def begin(self, index: int, label: str) -> None:
        self.index, self.label = index, label
        self.cell_started = time.monotonic()
        self._say("starting", force=True)

    def left_s(self) -> float:
        in_cell = time.monotonic() - self.cell_started
        remaining_here = max(0.0, self.planned[self.index] - in_cell)
        return remaining_here + sum(self.planned[self.index + 1:])

    def _say(self, phase: str, force: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        line = (
            f"[{self.index + 1}/{len(self.planned)}] {self.label}: {phase:<11} "
            f"elapsed {clock(elapsed)}, about {clock(self.left_s())} left"
        )
        if self.interactive:
            print("\r" + line.ljust(100), end="\n" if force else "", file=self.out, flush=True)
        elif force:
            print(line, file=self.out, flush=True)

    def wait_until(self, until: float | None, phase: str, process, deadline: float = 0) -> None:
        """Sleep until `until` (or until `process` exits when None), reporting as it goes."""
        self._say(phase, force=not self.interactive)
        limit = time.monotonic() + deadline if until is None else until
        while time.monotonic() < limit:
            if process.poll() is not None:
                return
            self._say(phase)
            time.sleep(min(1.0, max(0.0, limit - time.monotonic())))

    def done(self) -> None:
        if self.interactive:
            print(file=self.out)


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


# ------------------------------------------------------------------------------ the run


def versions() -> dict:
    from importlib import metadata  # imports socket (through email): not before patching

    found = {"python": platform.python_version()}
    for package in ("push-transport-lab", "locust", "gevent", "flask", "matplotlib"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def machine() -> dict:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (line.split(":", 1)[1].strip()
                 for line in cpuinfo if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "system": platform.platform()}


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)


def format_value(value) -> object:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else value


def point_latest(out: Path, run_id: str) -> None:
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_id, target_is_directory=True)


def run_bench(config: BenchConfig, out=sys.stdout) -> Path:
    cells = config.plan()
    run_id = config.run_id or datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
    run_dir = (config.out / run_id).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "run_id": run_id,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {k: (list(v) if isinstance(v, tuple) else v)
                       for k, v in asdict(config).items() if k != "out"},
        "cells": [],
        "versions": versions(),
        "commit": git_commit(),
        "machine": machine(),
        "events_csv": "deliveries inside each cell's window; 'sample_every' > 1 means every "
        "n-th delivery was kept",
    }
    planned = [config.cell_seconds(c) for c in cells]
    print(f"Sweep {run_id}: {len(cells)} cells, about {clock(sum(planned))} "
          f"(writing {run_dir})", file=out, flush=True)
    progress = Progress(planned, out)
    rows, problems, all_events, arithmetic = [], {}, [], {}
    for index, cell in enumerate(cells):
        progress.begin(index, f"{cell.transport} x {cell.users} users"
                       + (f", every {cell.interval_s:g} s" if cell.interval_s else ""))
        try:
            result = run_cell(cell, config, run_dir, progress)
        except Exception as error:  # one broken cell must not lose the others
            problems[cell.name] = [f"the cell failed: {error}"]
            manifest["cells"].append({"cell": cell.name, "status": "failed", "error": str(error)})
            continue
        rows.append(result.row)
        all_events.extend(result.events_rows)
        if result.frame_arithmetic is not None:
            arithmetic[cell.name] = result.frame_arithmetic
        if result.problems:
            problems[cell.name] = result.problems
        manifest["cells"].append({
            "cell": cell.name, "status": "problems" if result.problems else "ok",
            "problems": result.problems, "sample_every": result.sample_every,
            "sse_frame_arithmetic_bytes": result.frame_arithmetic,
        })
    progress.done()
    write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS,
              [[format_value(row[c]) for c in SUMMARY_COLUMNS] for row in rows])
    write_csv(run_dir / "events.csv", EVENTS_CSV_COLUMNS,
              [[format_value(v) for v in row] for row in all_events])
    manifest["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    point_latest(config.out, run_id)
    print_summary(rows, problems, out)
    for name, predicted in arithmetic.items():
        row = next(r for r in rows if r["cell"] == name)
        print(f"{name}: SSE overhead per event measured {row['overhead_bytes_per_event']:.2f} "
              f"bytes; frame arithmetic (id, event and data lines, blank line, chunk framing) "
              f"{predicted:.2f} bytes", file=out)
    if config.report:
        write_report(run_dir, out)
    return run_dir


def write_report(run_dir: Path, out) -> None:
    try:
        from lab import report
    except ImportError:
        return
    path = report.write_report(run_dir)
    print(f"Report: {path}", file=out, flush=True)


def print_summary(rows: list[dict], problems: dict[str, list[str]], out) -> None:
    header = (f"{'cell':<34} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'B/event':>8} "
              f"{'CPU us/ev':>9}")
    print("\n" + header, file=out)
    for row in rows:
        print(
            f"{row['cell']:<34} {row['latency_p50_ms']:>8.1f} {row['latency_p99_ms']:>8.1f} "
            f"{row['requests_per_s']:>8.1f} {row['bytes_per_event']:>8.0f} "
            f"{row['server_cpu_us_per_event']:>9.0f}",
            file=out,
        )
    if problems:
        print("\nPROBLEMS: these cells cannot be taken at face value:", file=out)
        for name, found in problems.items():
            for problem in found:
                print(f"  {name}: {problem}", file=out)
    else:
        print("\nNo cell lost or repeated an event, hit an error or saturated its client.",
              file=out)


# ------------------------------------------------------------------------------- the CLI


def register(commands) -> None:
    parser = commands.add_parser(
        "bench",
        help="run the sweep: every transport x user count, then charts and report",
        description="Run every chosen transport at every user count, each on a fresh "
        "server, with Locust headless; write results/<run-id>/ (Locust CSVs, events.csv, "
        "summary.csv, manifest.json, charts, report.md) and point results/latest at it.",
    )
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    parser.add_argument("--users", nargs="+", type=int, default=[10, 100, 1000],
                        help="user counts (default: 10 100 1000)")
    parser.add_argument("--rate", type=float, default=1.0, help="events per second (default 1)")
    parser.add_argument("--arrivals", choices=("fixed", "poisson"), default="fixed",
                        help="how the ticker spaces events (default fixed)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="short-polling interval in seconds (default 1)")
    parser.add_argument("--interval-sweep", nargs="*", type=float, default=[0.5, 2.0, 5.0],
                        help="extra short-polling intervals, run at --interval-sweep-users "
                        "(default: 0.5 2 5; give none to skip)")
    parser.add_argument("--interval-sweep-users", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=25.0,
                        help="long-poll timeout in seconds (default 25)")
    parser.add_argument("--payload-bytes", type=int, default=16,
                        help="padding bytes in each event (default 16)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds measured per cell after ramp-up (default 30)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds waited after ramp-up before measuring (default 3)")
    parser.add_argument("--spawn-rate", type=float, default=None,
                        help="users started per second (default: users/5, at least 10)")
    parser.add_argument("--processes", default="auto",
                        help="Locust processes per cell: a number, or 'auto' (2 from 500 "
                        "users up on a machine with 2+ cores)")
    parser.add_argument("--out", type=Path, default=Path("results"),
                        help="folder for run folders (default results)")
    parser.add_argument("--run-id", default="", help="name of the run folder (default: time)")
    parser.add_argument("--quick", action="store_true",
                        help="a one-minute smoke run: 5 and 50 users, 5 s windows, "
                        "no interval sweep")
    parser.add_argument("--no-report", action="store_true",
                        help="skip the charts and report at the end")
    parser.set_defaults(run=run_from_args)


def run_from_args(args: argparse.Namespace) -> int:
    config = BenchConfig(
        transports=tuple(args.transports), users=tuple(args.users), rate=args.rate,
        arrivals=args.arrivals, interval_s=args.interval, timeout_s=args.timeout,
        payload_bytes=args.payload_bytes, duration_s=args.duration, settle_s=args.settle,
        spawn_rate=args.spawn_rate, interval_sweep=tuple(args.interval_sweep),
        interval_sweep_users=args.interval_sweep_users, processes=args.processes,
        out=args.out, run_id=args.run_id, report=not args.no_report,
    )
    if args.quick:
        config.users, config.duration_s, config.settle_s = (5, 50), 5.0, 1.0
        config.interval_sweep, config.quick = (), True
        config.spawn_rate = config.spawn_rate or 50.0
    problems = [p for p in (
        args.rate <= 0 and "--rate must be above 0",
        any(u < 1 for u in args.users) and "--users must all be 1 or more",
        args.duration <= 0 and "--duration must be above 0",
        args.interval <= 0 and "--interval must be above 0",
        not 0 < args.timeout <= 120 and "--timeout must be above 0 and at most 120",
    ) if p]
    if problems:
        sys.exit("lab bench: " + "; ".join(problems))
    if not _module_available("locust"):  # each cell runs `python -m locust`
        sys.exit("lab bench: Locust is not installed; pip install -e . installs it")
    run_bench(config)
    return 0


def _module_available(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None
