"""Peer servers: the seed notes' own ways of streaming events (FastAPI's StreamingResponse,
Django's StreamingHttpResponse, Flask on Werkzeug's threaded server), each serving the lab's
contract for /poll, /longpoll, /sse, /publish and /metrics from its own ticker, so that the
same scenarios measure them next to the lab's server.

Each peer is one small module written the way the notes write it. What the lab adds around
them (counters, the listening line, the ticker's schedule) stays outside the streaming code.
The frameworks are an optional extra: `pip install -e '.[peers]'`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from lab.names import LAB_SERVER

PEERS = {
    "fastapi": "lab.peers.fastapi_streaming",
    "fastapi-three-yields": "lab.peers.fastapi_three_yields",
    "django-asgi": "lab.peers.django_asgi",
    "django-wsgi": "lab.peers.django_wsgi",
    "flask-threaded": "lab.peers.flask_threaded",
}
"""Every peer by the name `lab peer NAME` and `lab bench --servers` take, and its module.
Each module has `serve(options: PeerOptions) -> None`."""

PEER_DESCRIPTIONS = {
    "fastapi": "FastAPI's StreamingResponse on uvicorn, one yield per event",
    "fastapi-three-yields": "FastAPI's StreamingResponse on uvicorn, one yield per line "
    "(id:, event:, data:), as the notes write it",
    "django-asgi": "Django's StreamingHttpResponse with an async iterator, on uvicorn",
    "django-wsgi": "Django's StreamingHttpResponse with a sync generator, under gunicorn's "
    "sync workers: each open stream holds a worker",
    "flask-threaded": "Flask on Werkzeug's threaded server: one thread per connection",
}

SERVERS = (LAB_SERVER, *PEERS)
"""Every server a sweep can measure."""

FRAMEWORKS = {
    "fastapi": ("fastapi", "uvicorn"),
    "fastapi-three-yields": ("fastapi", "uvicorn"),
    "django-asgi": ("django", "uvicorn"),
    "django-wsgi": ("django", "gunicorn"),
    "flask-threaded": ("flask", "werkzeug"),
}
"""The packages each peer imports: a missing one is one sentence, not a traceback."""


@dataclass(frozen=True)
class PeerOptions:
    """What every peer is started with (the lab server's options of the same names)."""

    name: str
    host: str = "127.0.0.1"
    port: int = 8000
    rate: float = 1.0
    arrivals: str = "fixed"
    payload_bytes: int = 0
    history: int = 10_000
    max_batch: int = 1_000
    longpoll_timeout: float = 25.0
    longpoll_max_timeout: float = 120.0
    workers: int = 0
    """django-wsgi's gunicorn sync workers (0: gunicorn's advice, 2 × cores + 1)."""


class PeerMissing(RuntimeError):
    """A peer's framework is not installed; the message says how to install it."""


def missing_frameworks(name: str) -> list[str]:
    return [package for package in FRAMEWORKS[name] if importlib.util.find_spec(package) is None]


def check_installed(servers: Sequence[str]) -> None:
    """Raise PeerMissing, with a sentence, when a peer among `servers` lacks its framework."""
    for name in servers:
        missing = missing_frameworks(name) if name in PEERS else []
        if missing:
            raise PeerMissing(
                f"the {name} peer needs {' and '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed; "
                "install the peers with: pip install -e '.[peers]'"
            )


def serve_peer(options: PeerOptions) -> None:
    """Run the peer `options.name` until SIGTERM or SIGINT. It prints
    "listening on http://HOST:PORT/" once it accepts connections."""
    check_installed([options.name])
    allow_many_connections()
    module = importlib.import_module(PEERS[options.name])
    module.serve(options)


def allow_many_connections() -> None:
    """Raise this process's limit on open files to the most allowed, as `lab serve` does,
    so that a peer is measured holding as many streams as the lab's server may."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run_peer(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK:
        sys.exit(
            f"lab: a peer listens on loopback only, not {args.host}: it is the notes' code, "
            "with none of the lab server's protections (a token for /publish, limits on "
            "streams, bodies and slow clients)"
        )
    options = PeerOptions(
        name=args.name,
        host=args.host,
        port=args.port,
        rate=args.rate,
        arrivals=args.arrivals,
        payload_bytes=args.payload_bytes,
        history=args.history,
        workers=args.peer_workers,
    )
    try:
        serve_peer(options)
    except PeerMissing as error:
        sys.exit(f"lab: {error}")
    except OSError as error:
        # The bare reason ("Address already in use"): some servers append the address.
        reason = os.strerror(error.errno) if error.errno else str(error)
        sys.exit(f"lab: cannot listen on {options.host}:{options.port}: {reason}")
    return 0


def register(commands) -> None:
    """Add `lab peer NAME` to the `lab` command."""
    from lab.names import ARRIVALS

    listing = "; ".join(f"{name}: {text}" for name, text in PEER_DESCRIPTIONS.items())
    peer = commands.add_parser(
        "peer",
        help="run one of the notes' own servers (FastAPI, Django, Flask) on the lab's contract",
        description="Run a peer server: the seed notes' way of streaming events in another "
        "framework, serving /poll, /longpoll, /sse, /publish and /metrics from its own "
        f"ticker, with the lab's event format. The peers: {listing}.",
    )
    peer.add_argument("name", metavar="NAME", choices=sorted(PEERS), help="the peer to run")
    peer.add_argument("--host", default="127.0.0.1", help="address to listen on")
    peer.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    peer.add_argument("--rate", type=_positive_float, default=1.0, help="ticker events per second")
    peer.add_argument(
        "--arrivals", choices=ARRIVALS, default="fixed", help="how the ticker spaces events"
    )
    peer.add_argument(
        "--payload-bytes", type=_count, default=0, help="bytes of padding in each event's data"
    )
    peer.add_argument(
        "--history", type=_positive_int, default=10_000, help="events the source keeps"
    )
    peer.add_argument(
        "--workers",
        dest="peer_workers",
        type=_count,
        default=0,
        help="django-wsgi only: gunicorn sync workers (default 2 × cores + 1)",
    )
    peer.set_defaults(run=run_peer)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value
