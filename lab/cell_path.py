"""What stands between a cell's clients and its server, and what reached the clients.

A cell's clients talk to the server directly, through a real nginx in a profile
(lab.proxy), through a relay that adds a round trip (lab.rtt_relay), or through both, the
relay in front. After the window, `what_reached_the_clients` counts the bytes the clients
received and the proxy's 504s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.cell_measurement import read_stream_bytes
from lab.lab_process import LabProcess
from lab.measurement import Cell, counter_delta
from lab.names import TRANSPORT_PATHS
from lab.proxy.access_log import responses_between
from lab.proxy.nginx import Nginx
from lab.proxy.profiles import DIRECT, parse_via


@contextmanager
def proxied(server_url: str, via: str, folder: Path) -> Iterator[Nginx | None]:
    """nginx in the cell's profile in front of the server (its config and logs kept in
    `folder`), or nothing for `direct`."""
    profile = parse_via(via)
    if profile is None:
        yield None
        return
    with Nginx(profile, server_url, folder=folder) as nginx:
        yield nginx


@contextmanager
def relayed(server_url: str, rtt_ms: float, log: Path) -> Iterator[str]:
    """The address clients use: the server's, or a `lab relay` adding `rtt_ms` before it."""
    if not rtt_ms:
        yield server_url
        return
    args = ["--upstream", server_url, "--rtt", f"{rtt_ms:g}"]
    with LabProcess(args, log=log, command_name="relay") as relay:
        yield relay.url


def what_reached_the_clients(
    cell: Cell, work: Path, before: dict, after: dict
) -> tuple[int, int | None]:
    """Bytes that reached the clients in the window, and a proxy's 504s in it (None direct).

    A stream's bytes are counted by its clients as they read them. A poll's answer is
    counted whole: by nginx's access log when it went through nginx, else by the server's
    socket counters (nothing changes it on the way).
    """
    start, end = before["time"], after["time"]
    log = work / "nginx" / "access.log"
    path = TRANSPORT_PATHS[cell.transport]
    responses = responses_between(log, start, end, path) if cell.via != DIRECT else []
    timeouts = sum(r.status == 504 for r in responses) if cell.via != DIRECT else None
    if cell.transport == "sse":
        return read_stream_bytes(work / "deliveries", start, end), timeouts
    if cell.via != DIRECT:
        return sum(r.bytes_sent for r in responses), timeouts
    sent = counter_delta(before, after, cell.transport)["bytes_out"]
    return sent, timeouts
