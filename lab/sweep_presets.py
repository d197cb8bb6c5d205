"""The named plans of `lab bench --preset`: cells chosen for one purpose, instead of the
product of the options. Each takes the run's settings (a lab.sweep_plan.BenchConfig, whose
class attributes are the defaults) and returns its cells."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lab.measurement import Cell
from lab.names import LAB_SERVER, TRANSPORTS
from lab.peers.peer_metrics import PEER_TRANSPORTS


def reference_plan(config: Any) -> list[Cell]:
    """The reference run: the default sweep three times over, then users, the poll interval
    and a network round trip, each varied from the default's middle cell. With the four
    transports (the committed results/reference ran the first three, 42 cells):

    - 4 transports x 100 users x 0.2, 1 and 5 events/s, 3 repeats (36 cells): the spread;
    - 4 transports x 10 and 1,000 users at 1 event/s (8 cells): the scale;
    - short polling at 100 users, 1 event/s, every 0.5, 2 and 5 s (3 cells): the interval;
    - 4 transports at 100 users, 1 event/s, with 50 and 200 ms of round trip (8 cells).
    """
    base = replace(config, preset="")
    cells = [
        base.cell(t, 100, rate, base.interval_s, 0.0, repeat)
        for repeat in (1, 2, 3)
        for t in base.transports
        for rate in type(config).rates
    ]
    cells += [
        base.cell(t, users, 1.0, base.interval_s) for t in base.transports for users in (10, 1000)
    ]
    cells += [base.cell("short_polling", 100, 1.0, interval) for interval in (0.5, 2.0, 5.0)]
    cells += [
        base.cell(t, 100, 1.0, base.interval_s, rtt)
        for rtt in (50.0, 200.0)
        for t in base.transports
    ]
    return cells


PEERS_USERS = (4, 100, 1000, 2000, 10000)
PEERS_RATE = 2.0
"""The peers preset: SSE on every server at 2 events/s, from 4 users (below django-wsgi's
5 sync workers on a 2-core machine) to 10,000 (the size the notes' servers were first
compared at). On one core of load generator, 2,000 users are the most whose latency still
measures the server: at 10,000 each of its processes reads 5,000 sockets in turn after
every event, which adds hundreds of milliseconds to the p99; their CPU and memory per
stream remain the server's own."""


def peers_plan(config: Any) -> list[Cell]:
    """The peers run: SSE on the lab's server and on every peer (lab.peers) at each of
    PEERS_USERS, at PEERS_RATE, unless --servers, --transports or --users narrowed it."""
    from lab.peers import SERVERS

    base = replace(config, preset="")
    servers = config.servers if config.servers != (LAB_SERVER,) else SERVERS
    transports = config.transports if config.transports != TRANSPORTS else ("sse",)
    users = config.users if config.users != type(config).users else PEERS_USERS
    return [
        replace(
            base.cell(transport, count, PEERS_RATE, base.interval_s, repeat=repeat), server=server
        )
        for repeat in range(1, config.repeat + 1)
        for server in servers
        for transport in transports
        if server == LAB_SERVER or transport in PEER_TRANSPORTS
        for count in users
    ]


PRESETS = {"reference": reference_plan, "peers": peers_plan}
