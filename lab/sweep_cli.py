"""`lab bench` on the command line: its options, checked, turned into a BenchConfig."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.names import ARRIVALS, TRANSPORTS
from lab.peers import PEERS, SERVERS
from lab.proxy.profiles import DIRECT, PROFILES
from lab.settings import PRIVATE_BROKER
from lab.sweep_plan import (
    CHAT_USERS,
    EVENTS_PER_WINDOW,
    MIN_WINDOW_S,
    POLLS_PER_WINDOW,
    REFERENCE_WINDOW_S,
    BenchConfig,
)


def _values(values: tuple) -> str:
    return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) or "none"


def register(commands: argparse._SubParsersAction) -> None:
    defaults = BenchConfig()
    parser = commands.add_parser(
        "bench",
        help="run the sweep: every transport x user count x event rate, then charts and report",
        description="Run every chosen transport at every user count, event rate and round "
        "trip, each cell on a fresh server, with Locust headless; write results/<run-id>/ "
        "(Locust CSVs, events.csv, summary.csv, manifest.json, charts, report.md) and point "
        "results/latest at it.",
    )
    add = parser.add_argument
    add("--transports", nargs="+", choices=TRANSPORTS, default=list(defaults.transports))
    add(
        "--users",
        nargs="+",
        type=int,
        default=None,
        help=f"user counts (default: {_values(defaults.users)}; with --chat, "
        f"{_values(CHAT_USERS)})",
    )
    add(
        "--rate",
        dest="rates",
        nargs="+",
        type=float,
        default=list(defaults.rates),
        help=f"events per second, one or more (default: {_values(defaults.rates)})",
    )
    add(
        "--arrivals",
        choices=ARRIVALS,
        default=defaults.arrivals,
        help="how the ticker spaces events (default %(default)s: at random, so that no "
        "poller's schedule lines up with the events)",
    )
    add(
        "--interval",
        type=float,
        default=defaults.interval_s,
        help="short-polling interval in seconds (default %(default)s)",
    )
    add(
        "--interval-sweep",
        nargs="*",
        type=float,
        default=list(defaults.interval_sweep),
        help="extra short-polling intervals, run at --interval-sweep-users and the middle "
        "rate (default: none)",
    )
    add("--interval-sweep-users", type=int, default=defaults.interval_sweep_users)
    add(
        "--timeout",
        type=float,
        default=defaults.timeout_s,
        help="long-poll timeout in seconds (default %(default)s)",
    )
    add(
        "--rtt",
        dest="rtts_ms",
        nargs="+",
        type=float,
        default=list(defaults.rtts_ms),
        help="round trips to add between clients and server, in ms, one or more (default "
        "0: loopback only); each non-zero one runs through `lab relay`",
    )
    add(
        "--via",
        dest="vias",
        nargs="+",
        action="extend",
        metavar="VIA",
        default=None,
        help="what the clients go through, one or more: 'direct' (no proxy) or "
        "'nginx:PROFILE' with PROFILE one of " + ", ".join(PROFILES) + " (default: direct); "
        "nginx is started by the lab, in front of each cell's server",
    )
    add(
        "--workers",
        nargs="+",
        type=int,
        default=list(defaults.workers),
        help="server processes per cell, one or more counts, each a cell of its own "
        "(default 1); above 1 they share their events through a private redis-server",
    )
    add(
        "--broker",
        choices=[PRIVATE_BROKER],
        default=defaults.broker,
        help="'redis': Redis in the path even for one worker, to price it against the "
        "in-process source (default: only when there are several workers)",
    )
    add(
        "--servers",
        nargs="+",
        choices=SERVERS,
        default=list(defaults.servers),
        metavar="SERVER",
        help="the servers to measure, one or more, each with the same cells: 'lab' (this "
        "lab's server) and the notes' own as peers: " + ", ".join(PEERS) + " (default lab); "
        "peers serve short polling, long polling and SSE, and need pip install -e '.[peers]'",
    )
    add(
        "--server-cpus",
        default=defaults.server_cpus,
        metavar="CPUS",
        help="pin every cell's server to these CPUs, e.g. 0 or 0,1, and Locust to the others; "
        "'auto' (default) pins the server to the first CPU when several servers are "
        "compared on a machine with 2 or more, 'none' never pins",
    )
    add(
        "--expect-workers",
        type=int,
        default=defaults.expect_workers,
        help="run each cell's Locust as a master that waits for this many workers, "
        "started with `lab locust-worker` here or on other machines (default 0: the "
        "load runs here alone, in --processes)",
    )
    add(
        "--server-host",
        default=defaults.server_host,
        help="the address each cell's server listens on: one the load machines reach, with "
        "--expect-workers (default %(default)s)",
    )
    add(
        "--repeat",
        type=int,
        default=defaults.repeat,
        help="run every cell this many times; summary.csv keeps each (default %(default)s)",
    )
    add(
        "--payload-bytes",
        type=int,
        default=defaults.payload_bytes,
        help="padding bytes in each event (default %(default)s)",
    )
    add(
        "--duration",
        type=float,
        default=defaults.duration_s,
        help="seconds measured per cell once every user is connected (default: sized for "
        f"each cell: {MIN_WINDOW_S:g} s or more, long enough for {EVENTS_PER_WINDOW:g} "
        f"events and {POLLS_PER_WINDOW:g} poll intervals; {REFERENCE_WINDOW_S:g} s with "
        "--preset reference)",
    )
    add(
        "--spawn-rate",
        type=float,
        default=None,
        help="users started per second (default: users/2, at least 10)",
    )
    add(
        "--processes",
        default=defaults.processes,
        help="Locust processes per cell: a number, or 'auto' (2 from 500 users up on a "
        "machine with 2+ cores)",
    )
    add(
        "--out",
        type=Path,
        default=defaults.out,
        help="folder for run folders (default %(default)s)",
    )
    add("--run-id", default="", help="name of the run folder (default: time)")
    add(
        "--preset",
        choices=["reference", "peers"],
        default="",
        help="a named plan instead of the product of the options: 'reference' runs the "
        "reference run's 55 cells (about 35 minutes; the committed one ran the first three "
        "transports' 42); 'peers' runs SSE on the lab's server and every peer at 4, 100, "
        "1,000, 2,000 and 10,000 users, 2 events/s (about 9 minutes; --servers, --transports "
        "and --users narrow it)",
    )
    add(
        "--chat",
        action="store_true",
        help="compare the transports on chat answers instead of the ticker: every user asks "
        "a question, reads the answer token by token to its end and asks again; each "
        f"transport at {_values(CHAT_USERS)} users unless --users says otherwise",
    )
    add(
        "--quick",
        action="store_true",
        help="a smoke run in under a minute: 20 users, 2 events/s, 5 s windows",
    )
    add("--no-report", action="store_true", help="skip the charts and report at the end")
    parser.set_defaults(run=run_from_args)


def run_from_args(args: argparse.Namespace) -> int:
    config = BenchConfig(
        transports=tuple(args.transports),
        users=tuple(args.users or (CHAT_USERS if args.chat else BenchConfig.users)),
        chat=args.chat,
        rates=tuple(args.rates),
        arrivals=args.arrivals,
        interval_s=args.interval,
        timeout_s=args.timeout,
        payload_bytes=args.payload_bytes,
        duration_s=args.duration,
        spawn_rate=args.spawn_rate,
        interval_sweep=tuple(args.interval_sweep),
        interval_sweep_users=args.interval_sweep_users,
        rtts_ms=tuple(args.rtts_ms),
        vias=tuple(dict.fromkeys(args.vias or [DIRECT])),
        repeat=args.repeat,
        workers=tuple(dict.fromkeys(args.workers)),
        broker=args.broker,
        expect_workers=args.expect_workers,
        servers=tuple(dict.fromkeys(args.servers)),
        server_cpus=args.server_cpus,
        server_host=args.server_host,
        preset=args.preset,
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
    if any(via != DIRECT for via in config.vias):
        from lab.proxy.nginx import NginxMissing, find_nginx

        try:
            find_nginx()
        except NginxMissing as error:
            sys.exit(f"lab bench: {error}")
    if config.browser_vias:
        from lab.browser_check import BrowserMissing, find_chromium

        try:
            find_chromium()
        except BrowserMissing as error:
            sys.exit(
                f"lab bench: --via nginx:http2 is measured in a browser (the load generator "
                f"speaks HTTP/1.1 only), and {error}"
            )
    from lab.peers import PeerMissing, check_installed

    try:
        check_installed(config.servers)
    except PeerMissing as error:
        sys.exit(f"lab bench: {error}")
    from lab import run_folder
    from lab.sweep import run_bench

    run_dir = run_bench(config)
    failed = [
        c["cell"]
        for c in run_folder.read_run(run_dir).manifest.get("cells", [])
        if c.get("status") == "failed"
    ]
    return 1 if failed else 0
