"""The server's settings on the command line: one option per `Settings` field.

Shared by `lab serve` and `lab demo`. Every option can also be set as an environment variable
LAB_<NAME> (e.g. LAB_PORT=9000). Nothing here imports sockets, so that a command can patch
them with gevent after reading its options.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from lab.names import ARRIVALS
from lab.settings import Settings

_DEFAULTS = {f.name: f.default for f in fields(Settings) if f.name not in ("token", "worker_index")}

# name: (type, help). The order is the order of `lab serve --help`.
_OPTIONS: dict[str, tuple[Callable[[str], Any], str]] = {
    "host": (
        str,
        "address to listen on (default %(default)s: this machine only; any other "
        "address makes the changing endpoints require a token)",
    ),
    "port": (int, "TCP port (default %(default)s; 0 picks a free one)"),
    "rate": (
        float,
        "events per second the ticker publishes (default %(default)s; 0 starts "
        "with the ticker paused)",
    ),
    "arrivals": (
        str,
        "'fixed' spaces ticks evenly, 'poisson' at random with the same mean "
        "rate (default %(default)s)",
    ),
    "payload_bytes": (int, "bytes of padding in each tick's data (default %(default)s)"),
    "history": (int, "events kept so clients can resume (default %(default)s)"),
    "history_bytes": (
        int,
        "most bytes of events the history keeps; the oldest leave first "
        "(default %(default)s, 64 MiB)",
    ),
    "max_batch": (int, "most events in one poll or long-poll answer (default %(default)s)"),
    "max_batch_bytes": (
        int,
        "most bytes of events in one poll or long-poll answer, always at "
        "least one event (default %(default)s, 1 MiB)",
    ),
    "max_source_bytes_per_s": (
        int,
        "most bytes of padding per second the ticker may publish, "
        "rate x payload (default %(default)s, 16 MiB)",
    ),
    "heartbeat": (
        float,
        "seconds of silence before an SSE stream gets a ': ping' comment "
        "(default %(default)s; 0 turns heartbeats off)",
    ),
    "retry_ms": (int, "reconnection delay announced to SSE clients (default %(default)s)"),
    "max_streams": (
        int,
        "most SSE streams plus held long polls at once; more get 503 (default %(default)s)",
    ),
    "max_chat_answers": (
        int,
        "most chat answers (POST /chat, /chat/jobs) generated at once; more get 503 "
        "(default %(default)s)",
    ),
    "max_connections": (
        int,
        "most open client connections; at the limit the oldest idle one "
        "is closed, or a newcomer gets 503 (default: the open-file limit less "
        "100)",
    ),
    "max_body_bytes": (
        int,
        "largest request body accepted by /publish and /source (default %(default)s)",
    ),
    "header_timeout": (
        float,
        "seconds a client has to send a request's head, and then its body (default %(default)s)",
    ),
    "idle_timeout": (
        float,
        "seconds a kept-alive connection may wait for its next request (default %(default)s)",
    ),
    "write_timeout": (
        float,
        "seconds a response may wait for a client that reads nothing "
        "before its connection is closed (default %(default)s)",
    ),
    "longpoll_timeout": (
        float,
        "seconds a long poll is held when the client names no timeout (default %(default)s)",
    ),
    "longpoll_max_timeout": (float, "longest timeout a client may ask for (default %(default)s)"),
    "workers": (
        int,
        "server processes sharing the port and one event source through Redis; above 1 "
        "it needs a broker, and 'redis' is used unless --broker names one "
        "(default %(default)s)",
    ),
    "broker": (
        str,
        "where the workers share their events: 'redis' starts a private redis-server, "
        "redis://HOST:PORT/DB uses a running one (default: none, the in-process source)",
    ),
}
assert set(_OPTIONS) | {"paused"} == set(_DEFAULTS), "every setting needs an option"


def _env(name: str, convert: Callable[[str], Any]) -> Any:
    """The default for a setting: LAB_<NAME> from the environment, else the lab's default."""
    raw = os.environ.get(f"LAB_{name.upper()}")
    if raw is None:
        return _DEFAULTS[name]
    try:
        return convert(raw)
    except ValueError:
        sys.exit(f"lab: the environment variable LAB_{name.upper()}={raw!r} is not valid")


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return False
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    sys.exit(f"lab: the environment variable {name}={raw!r} should be 1/0, true/false")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that starts a server."""
    group = parser.add_argument_group(
        "server settings",
        "each can also be set as an environment variable LAB_<NAME>, e.g. LAB_PORT=9000",
    )
    for name, (convert, help_text) in _OPTIONS.items():
        option = "--" + name.replace("_", "-")
        extra: dict[str, Any] = {"choices": ARRIVALS} if name == "arrivals" else {}
        group.add_argument(
            option, type=convert, default=_env(name, convert), help=help_text, **extra
        )
        if name == "arrivals":
            group.add_argument(
                "--paused",
                action="store_true",
                default=_env_flag("LAB_PAUSED"),
                help="start with the ticker paused (resume with PUT /source)",
            )
    group.add_argument(
        "--token",
        default=os.environ.get("LAB_TOKEN"),
        help="the token for changing endpoints when not on loopback "
        "(default: a new random one, printed at start)",
    )
    # Set by `lab serve --workers N` for each worker it starts; not for people.
    group.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    group.add_argument(
        "--access-log",
        action="store_true",
        default=_env_flag("LAB_ACCESS_LOG"),
        help="print one line per request to stderr (slows heavy loads)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the options name, or exit with a sentence saying what is wrong."""
    values = {name: getattr(args, name) for name in _DEFAULTS}
    if values["rate"] == 0:
        values["paused"] = True
    if args.token:
        values["token"] = args.token
    values["worker_index"] = args.worker_index or 0
    try:
        return Settings(**values)
    except ValueError as error:
        sys.exit(f"lab: {error}")


def patch_for_gevent() -> None:
    """Make the standard library cooperative; must run before anything imports socket."""
    from gevent import monkey

    monkey.patch_all()
