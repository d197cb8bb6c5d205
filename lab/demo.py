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

from lab.proxy.profiles import DIRECT, VIA_CHOICES, Profile, parse_via
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

With --via nginx:PROFILE the page goes through a real nginx (installed separately) in one of
the lab's profiles: the server listens on a free loopback port, and nginx listens at the
address you asked for and forwards to it. Try --via nginx:buffered to see SSE events held in
a proxy's buffer, or --via nginx:http2 for HTTP/2 over TLS (a self-signed certificate, which
the browser asks once to trust): there "open 7 streams" opens all seven at once over one
connection, where plain HTTP/1.1 (--via direct, the default) makes the streams beyond the
browser's 6 connections per server wait. With --rtt as well, the relay stands in front of
nginx.

For students on their own laptops, listen on the network with --host 0.0.0.0: the server then
prints the students' address (read-only page) and the teacher's address with the token that
enables the controls. The page hides the token from the address bar once it has read it.
"""


def has_display() -> bool:
    """True when a graphical browser can be started (never a text browser in the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def local_page_url(settings: Settings, port: int, scheme: str = "http") -> str:
    """The address this machine's browser should open: loopback, with the token if needed."""
    host = settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    url = f"{scheme}://{host}:{port}/"
    return url if settings.on_loopback else f"{url}#token={settings.token}"


def announce_page(
    settings: Settings, port: int, open_browser: bool, out: TextIO, proxy: Profile | None = None
) -> None:
    """Print the page's address for this machine, and open it in a browser when asked."""
    http2 = proxy is not None and proxy.http2
    url = local_page_url(settings, port, "https" if http2 else "http")
    if settings.on_loopback:
        print(f"Classroom page: {url} (only this machine can reach it)", file=out, flush=True)
    if http2:
        print(
            "The certificate is self-signed, made for this run: the browser asks once "
            "whether to trust it (choose Advanced, then proceed).",
            file=out,
            flush=True,
        )
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
    if settings.workers > 1 or settings.broker:
        sys.exit(
            "lab demo: the demo runs one process; for several workers, start `lab serve "
            "--workers N` and open the address it prints"
        )
    problem = rtt_problem(args.rtt)
    if problem:
        sys.exit(f"lab demo: {problem}")
    try:
        proxy = parse_via(args.via)
    except ValueError as error:
        sys.exit(f"lab demo: {error}")
    patch_for_gevent()
    from lab.proxy.nginx import NginxDidNotStart, NginxMissing, find_nginx
    from lab.proxy.tls import CertificateFailed
    from lab.server import serve

    try:
        if proxy is not None:
            find_nginx()  # before the server starts, so that a missing nginx is all it says
        serve(
            settings,
            access_log=args.access_log,
            on_listening=lambda port: announce_page(settings, port, args.open, sys.stdout, proxy),
            network_rtt_ms=args.rtt,
            proxy=proxy,
        )
    except OSError as error:
        sys.exit(f"lab: cannot listen on {settings.host}:{settings.port}: {error.strerror}")
    except (NginxMissing, NginxDidNotStart, CertificateFailed) as error:
        sys.exit(f"lab demo: {error}")
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
    demo.add_argument(
        "--via",
        default=DIRECT,
        metavar="VIA",
        help="what stands between the browsers and the server: 'direct' (default) or a real "
        f"nginx in one of the lab's profiles, {', '.join(VIA_CHOICES[1:])}",
    )
