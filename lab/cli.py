"""The `lab` command: `lab serve` runs the server, `lab bench` the sweep.

Nothing here imports sockets before a command has patched them with gevent, so the patching
that `serve` does first reaches every module loaded after it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lab import __version__
from lab.server_options import add_server_options, patch_for_gevent, settings_from
from lab.settings import PRIVATE_BROKER, Settings


def run_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.worker_index is None and (settings.workers > 1 or settings.broker == PRIVATE_BROKER):
        return run_workers(args, settings)
    patch_for_gevent()
    from lab.server import serve
    from lab.workers import BrokerUnreachable

    try:
        serve(settings, access_log=args.access_log)
    except BrokerUnreachable as error:
        sys.exit(f"lab: {error}")
    except OSError as error:
        sys.exit(f"lab: cannot listen on {settings.host}:{settings.port}: {error.strerror}")
    return 0


def run_workers(args: argparse.Namespace, settings: Settings) -> int:
    from lab.redis_server import RedisDidNotStart, RedisMissing
    from lab.worker_pool import WorkerDidNotStart, serve_workers

    try:
        return serve_workers(settings, args.argv)
    except (RedisMissing, RedisDidNotStart, WorkerDidNotStart) as error:
        sys.exit(f"lab: {error}")
    except OSError as error:
        sys.exit(f"lab: cannot listen on {settings.host}:{settings.port}: {error.strerror}")


def run_report(args: argparse.Namespace) -> int:
    # Imported here: the report draws charts with matplotlib, which no other command needs.
    from lab.report import run_from_args

    return run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lab",
        description="A lab that measures short polling, long polling and Server-Sent Events "
        "serving the same events.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the lab server",
        description="Run the lab server: one event source served at /poll (short polling), "
        "/longpoll (long polling) and /sse (Server-Sent Events), with /metrics, /source, "
        "/publish and /drop. It listens on 127.0.0.1 unless told otherwise.",
    )
    add_server_options(serve)
    serve.set_defaults(run=run_serve)

    from lab import demo

    demo.register(commands)

    from lab import locust_worker, peers, relay_cli, sweep_cli

    sweep_cli.register(commands)
    locust_worker.register(commands)
    relay_cli.register(commands)
    peers.register(commands)
    report = commands.add_parser(
        "report",
        help="write a run's report.md and charts",
        description="Draw the charts of a sweep run and write its report.md: parameters, "
        "problem cells, the summary table, the charts and the claims checked.",
    )
    report.add_argument(
        "run_dir",
        metavar="RUN",
        nargs="?",
        type=Path,
        default=Path("results") / "latest",
        help="the run folder (default results/latest)",
    )
    report.set_defaults(run=run_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # `lab serve --workers N` starts each worker with the same options
    return args.run(args)
