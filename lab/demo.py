"""`lab demo`: the lab server with classroom defaults, and the classroom page opened for you.

The page at `/` shows the same events arriving by short polling, long polling and SSE side
by side. This command runs exactly what `lab serve` runs (gevent's patching first, then
`lab.server.serve`); only some defaults differ, and `--open` starts a browser.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from lab.relay_cli import rtt_problem
from lab.server_options import add_server_options, patch_for_gevent, settings_from
from lab.settings import Settings

# What suits a class (see DESCRIPTION). Each can still be changed by its option or LAB_<NAME>.
CLASSROOM_DEFAULTS = {
    # One event a second: every id can be read out as it arrives, and short polling at its
    # default 1 s interval visibly lags by up to a second.
    "rate": 1.0,
    # Events at random moments (a Poisson process with the same mean rate): evenly spaced
    # ticks against a poller with the same period make short polling's lag one fixed value,
    # set by where the page happened to start; random arrivals show the spread, around T/2.
    "arrivals": "poisson",
    # A stream that is quiet for 15 s gets a comment line, so proxies and school networks
    # that close idle connections leave the SSE panel alone.
    "heartbeat": 15.0,
    # After "drop all connections" the browser's EventSource waits this long before it
    # reconnects: long enough for the class to see "reconnecting…", short enough to wait.
    "retry_ms": 1500,
}

DESCRIPTION = """\
Run the lab server for a class and show its classroom page: one event source, served by
short polling, long polling and Server-Sent Events side by side, with live counters and
latency charts. Open the printed address in a browser (full screen with F11) and project it.

The defaults suit a class:

- one event a second (--rate 1), so every id can be read out as it arrives and short
  polling's 1 s interval visibly lags;
- events at random moments with that mean rate (--arrivals poisson), as messages and
  notifications really come. Evenly spaced ticks and a poller with the same period lock
  together: every poll finds its event about equally old, so the page would show one lag,
  set by the moment it loaded (its poller starts at a random phase and varies each interval
  by 10%, which spreads that only slowly), instead of lags spread around half the interval.
  At 1 event/s and 1 s about 37% of polls then find nothing (e^-1), as the page's theory
  says;
- an SSE heartbeat after 15 s of silence (--heartbeat 15), so school networks do not close a
  quiet stream;
- a 1.5 s reconnection delay announced to SSE clients (--retry-ms 1500; `lab serve`
  announces 2 s), so after "drop all connections" the class sees "reconnecting…" briefly
  before the stream resumes.

With --rtt MS the page goes through a simulated network: the server listens on a free
loopback port, and a relay at the address you asked for holds every byte back by half the
round trip in each direction, so long polling's extra trip per event and SSE's single one
show in the latencies (e.g. --rtt 200, a distant server).

For students on their own laptops, listen on the network with --host 0.0.0.0: the server then
prints the students' address (read-only page) and the teacher's address with the token that
enables the controls. The page hides the token from the address bar once it has read it.
"""


def has_display() -> bool:
    """True when a graphical browser can be started (never a text browser in the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def local_page_url(settings: Settings, port: int) -> str:
    """The address this machine's browser should open: loopback, with the token if needed."""
    host = settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}/"
    return url if settings.on_loopback else f"{url}#token={settings.token}"


def announce_page(settings: Settings, port: int, open_browser: bool, out: TextIO) -> None:
    """Print the page's address for this machine, and open it in a browser when asked."""
    url = local_page_url(settings, port)
    if settings.on_loopback:
        print(f"Classroom page: {url} (only this machine can reach it)", file=out, flush=True)
    if not open_browser:
        return
    if not has_display():
        print(f"--open: no display found; open {url} in a browser yourself", file=out, flush=True)
        return
    import threading
    import webbrowser

    # Started beside the server (a greenlet, after gevent's patching) so a slow browser
    # start does not hold back the server, which is already listening.
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def run_demo(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    problem = rtt_problem(args.rtt)
    if problem:
        sys.exit(f"lab demo: {problem}")
    patch_for_gevent()
    from lab.server import serve

    try:
        serve(
            settings,
            access_log=args.access_log,
            on_listening=lambda port: announce_page(settings, port, args.open, sys.stdout),
            network_rtt_ms=args.rtt,
        )
    except OSError as error:
        sys.exit(f"lab: cannot listen on {settings.host}:{settings.port}: {error.strerror}")
    return 0


def register(commands) -> None:
    """Add `lab demo` to the `lab` command's subparsers."""
    demo = commands.add_parser(
        "demo",
        help="run the server with classroom defaults and show the classroom page",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_server_options(demo)
    demo.set_defaults(
        run=run_demo,
        **{
            name: value
            for name, value in CLASSROOM_DEFAULTS.items()
            if f"LAB_{name.upper()}" not in os.environ
        },
    )
    demo.add_argument(
        "--open",
        action="store_true",
        help="open the page in this machine's web browser once the server listens "
        "(only when there is a display)",
    )
    demo.add_argument(
        "--rtt",
        type=float,
        default=0.0,
        metavar="MS",
        help="simulate a network between the browsers and the server: a round trip of MS "
        "milliseconds, through a relay at the page's address (default 0: none)",
    )
