"""`lab bench` on the command line: its options, checked, turned into a BenchConfig."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.names import ARRIVALS, TRANSPORTS
from lab.sweep_plan import BenchConfig


def register(commands: argparse._SubParsersAction) -> None:
    defaults = BenchConfig()
    parser = commands.add_parser(
        "bench",
        help="run the sweep: every transport x user count, then charts and report",
        description="Run every chosen transport at every user count, each on a fresh "
        "server, with Locust headless; write results/<run-id>/ (Locust CSVs, events.csv, "
        "summary.csv, manifest.json, charts, report.md) and point results/latest at it.",
    )
    parser.add_argument(
        "--transports", nargs="+", choices=TRANSPORTS, default=list(defaults.transports)
    )
    parser.add_argument(
        "--users",
        nargs="+",
        type=int,
        default=list(defaults.users),
        help="user counts (default: %(default)s)",
    )
    parser.add_argument(
        "--rate", type=float, default=defaults.rate, help="events per second (default %(default)s)"
    )
    parser.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default=defaults.arrivals,
        help="how the ticker spaces events (default %(default)s)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=defaults.interval_s,
        help="short-polling interval in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--interval-sweep",
        nargs="*",
        type=float,
        default=list(defaults.interval_sweep),
        help="extra short-polling intervals, run at --interval-sweep-users "
        "(default: %(default)s; give none to skip)",
    )
    parser.add_argument("--interval-sweep-users", type=int, default=defaults.interval_sweep_users)
    parser.add_argument(
        "--timeout",
        type=float,
        default=defaults.timeout_s,
        help="long-poll timeout in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--payload-bytes",
        type=int,
        default=defaults.payload_bytes,
        help="padding bytes in each event (default %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration_s,
        help="seconds measured per cell after ramp-up (default %(default)s)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=defaults.settle_s,
        help="seconds waited after ramp-up before measuring (default %(default)s)",
    )
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=None,
        help="users started per second (default: users/5, at least 10)",
    )
    parser.add_argument(
        "--processes",
        default=defaults.processes,
        help="Locust processes per cell: a number, or 'auto' (2 from 500 "
        "users up on a machine with 2+ cores)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=defaults.out,
        help="folder for run folders (default %(default)s)",
    )
    parser.add_argument("--run-id", default="", help="name of the run folder (default: time)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a one-minute smoke run: 5 and 50 users, 5 s windows, no interval sweep",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="skip the charts and report at the end"
    )
    parser.set_defaults(run=run_from_args)


def run_from_args(args: argparse.Namespace) -> int:
    config = BenchConfig(
        transports=tuple(args.transports),
        users=tuple(args.users),
        rate=args.rate,
        arrivals=args.arrivals,
        interval_s=args.interval,
        timeout_s=args.timeout,
        payload_bytes=args.payload_bytes,
        duration_s=args.duration,
        settle_s=args.settle,
        spawn_rate=args.spawn_rate,
        interval_sweep=tuple(args.interval_sweep),
        interval_sweep_users=args.interval_sweep_users,
        processes=args.processes,
        out=args.out,
        run_id=args.run_id,
        report=not args.no_report,
    )
    if args.quick:
        config.make_quick()
    problems = config.problems()
    if problems:
        sys.exit("lab bench: " + "; ".join(problems))
    from importlib.util import find_spec

    if find_spec("locust") is None:  # each cell runs `python -m locust`
        sys.exit("lab bench: Locust is not installed; pip install -e . installs it")
    from lab import run_folder
    from lab.sweep import run_bench

    run_dir = run_bench(config)
    failed = [
        c["cell"]
        for c in run_folder.read_run(run_dir).manifest.get("cells", [])
        if c.get("status") == "failed"
    ]
    return 1 if failed else 0
