"""`lab relay`: a round trip of network delay in front of a lab server (lab.rtt_relay)."""

from __future__ import annotations

import argparse
import signal
import sys
from urllib.parse import urlsplit

from lab.server_options import patch_for_gevent

MAX_RTT_MS = 5000.0
"""The longest round trip the relay simulates: beyond it, no page or client is usable."""


def rtt_problem(rtt_ms: float) -> str | None:
    """Why a round trip cannot be simulated (None when it can)."""
    if not 0 <= rtt_ms <= MAX_RTT_MS:  # NaN fails both comparisons
        return f"--rtt must be a round trip of 0 to {MAX_RTT_MS:g} ms, not {rtt_ms:g}"
    return None


def upstream_of(url: str) -> tuple[str, int]:
    """(host, port) of an http:// address; SystemExit with a sentence when it is not one."""
    parts = urlsplit(url if "//" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        sys.exit(
            f"lab relay: --upstream must be an address like http://127.0.0.1:8000, not {url!r}"
        )
    return parts.hostname, parts.port


def run_from_args(args: argparse.Namespace) -> int:
    problem = rtt_problem(args.rtt)
    if problem:
        sys.exit(f"lab relay: {problem}")
    upstream = upstream_of(args.upstream)
    patch_for_gevent()
    import gevent
    import gevent.event

    from lab.rtt_relay import run_relay

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    try:
        run_relay(upstream, args.rtt, host=args.host, port=args.port, stop=stop)
    except OSError as error:
        sys.exit(f"lab relay: cannot listen on {args.host}:{args.port}: {error.strerror}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "relay",
        help="put a network round trip in front of a lab server",
        description="Accept connections and relay them to a lab server, holding each "
        "direction back by half the round trip: what a network adds, on one machine.",
    )
    parser.add_argument(
        "--upstream", required=True, help="the lab server to relay to, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument(
        "--rtt",
        type=float,
        default=100.0,
        help="round trip to add, in milliseconds (default %(default)s)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.set_defaults(run=run_from_args)
