"""A sweep cell's wait for its users to connect: the measured window starts only once the
server sees every one of them, or the cell is marked as not measured when a deadline passes
first. The condition itself is lab.cell_measurement.users_connected."""

from __future__ import annotations

import math
import subprocess
import time

from lab.cell_measurement import users_connected
from lab.lab_process import fetch_metrics
from lab.measurement import Cell
from lab.names import CHAT
from lab.progress import Progress
from lab.sweep_plan import BenchConfig


class CellFailed(RuntimeError):
    """A cell could not be measured; the message says why."""


CONNECT_DEADLINE_S = 60.0
"""How long past its planned ramp-up a cell waits for its users to connect before it gives
up and is marked as not measured."""
METRICS_TIMEOUT_S = 5.0
"""How long one /metrics read may take while the users connect."""
SILENCE_S = 10.0
"""A server that leaves /metrics unanswered this long while the users connect is taken to
hold all it can: a sync WSGI server whose every worker holds a stream answers nothing more
until one ends (and gunicorn ends them at its 30 s worker timeout, which would muddle the
count)."""
CHECK_EVERY_S = 0.25
"""How often the server's /metrics are read while the users connect."""


def wait_for_users(
    url: str,
    cell: Cell,
    config: BenchConfig,
    locust: subprocess.Popen,
    progress: Progress,
    started: float,
) -> tuple[dict, dict, int]:
    """Wait until the server sees all the cell's users, or until the deadline; return the
    first /metrics snapshot (before any user), the last, and how many users it saw (all of
    them, unless the deadline passed first).

    A server that stops answering /metrics while the users connect (a sync WSGI server
    whose every worker holds a stream) counts as not letting them connect.

    Short polling is judged by its request rate over one interval that begins once the
    ramp-up is over (counted from the first request the server saw): during the ramp each
    new user's first request comes on top of the others' polls, and the rate would reach
    users ÷ interval before every user had started.
    """
    ramp_s = cell.users / config.spawn_rate_for(cell.users)
    deadline = started + ramp_s + CONNECT_DEADLINE_S
    interval = cell.interval_s or config.interval_s
    snapshots = [fetch_metrics(url)]
    seen_so_far = 0
    silent_since: float | None = None
    ramp_end: float | None = None
    while True:
        progress.wait_until(time.monotonic() + CHECK_EVERY_S, "connecting", locust)
        if locust.poll() is not None:
            raise CellFailed(
                f"Locust exited (code {locust.returncode}) before its users "
                "were connected; its log says why"
            )
        try:
            latest = fetch_metrics(url, timeout=METRICS_TIMEOUT_S)
        except OSError:  # a timeout, or a refusal: the server takes no one more for now
            silent_since = silent_since or time.monotonic()
            if time.monotonic() > min(deadline, silent_since + SILENCE_S):
                return snapshots[0], snapshots[-1], seen_so_far
            continue
        silent_since = None
        snapshots.append(latest)
        if ramp_end is None and _anyone_came(cell, snapshots[0], latest):
            ramp_end = latest["time"] + ramp_s
        after_ramp = [s for s in snapshots if ramp_end is not None and s["time"] >= ramp_end]
        earlier = next(
            (s for s in reversed(after_ramp) if latest["time"] - s["time"] >= interval), latest
        )
        first = after_ramp[0] if after_ramp else latest
        if cell.workload == CHAT:
            first = snapshots[0]  # a chat user has connected once it has asked
        ok, seen = users_connected(cell, earlier, latest, config.interval_s, first)
        seen_so_far = min(cell.users - 1, math.floor(seen))
        if ok:
            return snapshots[0], latest, cell.users
        if time.monotonic() > deadline:
            return snapshots[0], latest, seen_so_far


def _anyone_came(cell: Cell, first: dict, latest: dict) -> bool:
    """Whether the server has seen the cell's first user (the ramp-up has begun)."""
    if cell.workload == CHAT:
        return latest[CHAT]["answers_started"] > first[CHAT]["answers_started"]
    counters = latest["transports"]
    # A poller's first request (learning its cursor) is a short poll, whatever its transport.
    return any(
        counters[t]["requests"] > first["transports"][t]["requests"]
        for t in ("short_polling", cell.transport)
    )
