"""The `lab` command: `lab serve` runs the server, `lab bench` the sweep.

Nothing here imports sockets before a command has patched them with gevent, so the patching
that `serve` does first reaches every module loaded after it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from lab import __version__
from lab.settings import ARRIVALS, Settings

_DEFAULTS = {f.name: f.default for f in fields(Settings) if f.name != "token"}


def _env(name: str, convert: Callable[[str], Any]) -> Any:
    """The default for a setting: LAB_<NAME> from the environment, else the lab's default."""
    raw = os.environ.get(f"LAB_{name.upper()}")
    if raw is None:
        return _DEFAULTS[name]
    try:
        return convert(raw)
    except ValueError:
        sys.exit(f"lab: the environment variable LAB_{name.upper()}={raw!r} is not valid")


def _on_off(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that starts a server."""
    group = parser.add_argument_group(
        "server settings", "each can also be set as an environment variable LAB_<NAME>, "
        "e.g. LAB_PORT=9000"
    )
    group.add_argument("--host", default=_env("host", str),
                       help="address to listen on (default %(default)s: this machine only; "
                       "any other address makes the changing endpoints require a token)")
    group.add_argument("--port", type=int, default=_env("port", int),
                       help="TCP port (default %(default)s; 0 picks a free one)")
    group.add_argument("--rate", type=float, default=_env("rate", float),
                       help="events per second the ticker publishes (default %(default)s; "
                       "0 starts with the ticker paused)")
    group.add_argument("--arrivals", choices=ARRIVALS, default=_env("arrivals", str),
                       help="'fixed' spaces ticks evenly, 'poisson' at random with the same mean "
                       "rate (default %(default)s)")
    group.add_argument("--paused", action="store_true", default=_env_flag("LAB_PAUSED"),
                       help="start with the ticker paused (resume with PUT /source)")
    group.add_argument("--payload-bytes", type=int, default=_env("payload_bytes", int),
                       help="bytes of padding in each tick's data (default %(default)s)")
    group.add_argument("--history", type=int, default=_env("history", int),
                       help="events kept so clients can resume (default %(default)s)")
    group.add_argument("--max-batch", type=int, default=_env("max_batch", int),
                       help="most events in one poll or long-poll answer (default %(default)s)")
    group.add_argument("--heartbeat", type=float, default=_env("heartbeat", float),
                       help="seconds of silence before an SSE stream gets a ': ping' comment "
                       "(default %(default)s; 0 turns heartbeats off)")
    group.add_argument("--retry-ms", type=int, default=_env("retry_ms", int),
                       help="reconnection delay announced to SSE clients (default %(default)s)")
    group.add_argument("--max-streams", type=int, default=_env("max_streams", int),
                       help="most SSE streams plus held long polls at once; more get 503 "
                       "(default %(default)s)")
    group.add_argument("--max-body-bytes", type=int, default=_env("max_body_bytes", int),
                       help="largest request body accepted by /publish and /source "
                       "(default %(default)s)")
    group.add_argument("--longpoll-timeout", type=float,
                       default=_env("longpoll_timeout", float),
                       help="seconds a long poll is held when the client names no timeout "
                       "(default %(default)s)")
    group.add_argument("--longpoll-max-timeout", type=float,
                       default=_env("longpoll_max_timeout", float),
                       help="longest timeout a client may ask for (default %(default)s)")
    group.add_argument("--token", default=os.environ.get("LAB_TOKEN"),
                       help="the token for changing endpoints when not on loopback "
                       "(default: a new random one, printed at start)")
    group.add_argument("--access-log", action="store_true",
                       default=_env_flag("LAB_ACCESS_LOG"),
                       help="print one line per request to stderr (slows heavy loads)")


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name)
    try:
        return _on_off(raw) if raw is not None else False
    except ValueError:
        sys.exit(f"lab: the environment variable {name}={raw!r} should be 1/0, true/false")


def settings_from(args: argparse.Namespace) -> Settings:
    values = {name: getattr(args, name) for name in _DEFAULTS}
    if values["rate"] == 0:
        values["paused"] = True
    if args.token:
        values["token"] = args.token
    try:
        return Settings(**values)
    except ValueError as error:
        sys.exit(f"lab: {error}")


def patch_for_gevent() -> None:
    """Make the standard library cooperative; must run before anything imports socket."""
    from gevent import monkey

    monkey.patch_all()


def run_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    patch_for_gevent()
    from lab.server import serve

    try:
        serve(settings, access_log=args.access_log)
    except OSError as error:
        sys.exit(f"lab: cannot listen on {settings.host}:{settings.port}: {error.strerror}")
    return 0


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

    from lab import bench

    bench.register(commands)
    report = commands.add_parser(
        "report",
        help="write a run's report.md and charts",
        description="Draw the charts of a sweep run and write its report.md: parameters, "
        "problem cells, the summary table, the charts and the claims checked.",
    )
    report.add_argument("run_dir", metavar="RUN", nargs="?", type=Path,
                        default=Path("results") / "latest",
                        help="the run folder (default results/latest)")
    report.set_defaults(run=run_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
