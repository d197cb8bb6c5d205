"""What a sweep runs: its settings, their defaults, and the cells they make.

Pure. The defaults here are also the Locust scenarios' defaults (a scenario run by hand
behaves as it does in a sweep).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from lab.chat.measurement import LOAD_QUESTION
from lab.measurement import Cell
from lab.names import CHAT, CHAT_TRANSPORTS, LAB_SERVER, TRANSPORTS
from lab.peers.peer_metrics import PEER_TRANSPORTS
from lab.proxy.profiles import DIRECT, VIA_PREFIX, parse_via
from lab.settings import LONGPOLL_TIMEOUT_S, PRIVATE_BROKER
from lab.sweep_checks import parse_cpus, plan_problems

POLL_INTERVAL_S = 1.0
"""Seconds between a short-polling client's polls."""
USERS = (100,)
RATES = (0.2, 1.0, 5.0)
"""Events per second. Against a 1 s poll interval these make λT = 0.2, 1 and 5 events per
interval: short polling's cost per event falls as 1/(λT) while long polling's stays near one
request per event, which a single rate cannot show."""
QUICK_USERS, QUICK_RATES, QUICK_DURATION_S = (20,), (2.0,), 5.0
"""A smoke run: one small cell per transport, in under a minute."""

MIN_WINDOW_S = 10.0
EVENTS_PER_WINDOW = 5.0
POLLS_PER_WINDOW = 10.0
DROPS_PER_WINDOW = 4
CHAT_WINDOW_S = 30.0
"""How long a cell is measured when no --duration is given: long enough for what it must
show, and no longer, so that the default sweep's 15 cells fit in a few minutes.

- At least EVENTS_PER_WINDOW events expected: the window is 5 ÷ rate (25 s at 0.2 events/s).
  A Poisson source then publishes nothing in the whole window with a chance of e^-5 < 1%,
  and the transports' differences are whole-number facts that a few events already show:
  long polling makes one request per event, SSE and WebSocket none, short polling keeps
  asking users ÷ interval times a second, so at 0.2 events/s about 5 requests per event
  and 80% of its polls empty. Per-event ratios of one cell still spread with the count of
  events (±1/√5, about 45%, at 0.2 events/s), which is what --repeat and --duration are for.
- At least POLLS_PER_WINDOW poll intervals (short polling): each user's random phase and
  jitter even out in the request count, and an event waits its whole range, 0 to T.
- At least MIN_WINDOW_S: ten intervals of the default 1 s poll; at 1 event/s ten events,
  at 5 events/s fifty, a thousand or more deliveries at 100 users for the percentiles.
- A drop cell holds DROPS_PER_WINDOW drops and the reconnection after the last: a client
  that does not resume loses the events of about one second per drop, and at 1 event/s
  four drops leave a chance of e^-4, under 2%, that it loses none and hides the difference.
- Chat answers take a few seconds each with the user's pause: CHAT_WINDOW_S holds several
  answers per user.
"""
QUICK_CHAT_USERS = (10,)

CHAT_USERS = (1, 10, 100)
"""Users asking questions at once in a chat sweep: alone, a class, a small service."""

BUFFERED_WINDOW_S = 40.0
"""The least window of an SSE cell through nginx:buffered. nginx passes a stream on when a
4 KB buffer has filled: about 30 small events, 15 s at 2 events/s. A shorter window would
show nothing arriving at all rather than events arriving late and together."""
DROP_EVERY_S = 5.0
"""The drop cells: POST /drop this often while they are measured..."""
RECONNECT_AFTER_S = 1.0
"""...and each client reconnects this long after its connection ended (a browser's
EventSource waits its `retry:`; a WebSocket client waits what its author chose)."""
IDLE_PERIOD_S = 15.0
"""Through nginx:short-timeout, the idle-timeout cells publish one event every 15 s (evenly,
so that every gap is the same): longer than the proxy's 10 s read timeout, shorter than two
of them, so each quiet gap meets the timeout exactly once."""
IDLE_WINDOW_S = 30.0
IDLE_HEARTBEATS_S = (15.0, 5.0)
"""An SSE heartbeat after 15 s of silence comes too late for a 10 s timeout; one after 5 s
keeps the stream busy."""
IDLE_HOLDS_S = (LONGPOLL_TIMEOUT_S, 5.0)
"""A long poll held 25 s outlasts the 10 s timeout; one held 5 s is answered (204) first."""


@dataclass
class BenchConfig:
    transports: tuple[str, ...] = TRANSPORTS
    users: tuple[int, ...] = USERS
    rates: tuple[float, ...] = RATES
    arrivals: str = "poisson"
    interval_s: float = POLL_INTERVAL_S
    timeout_s: float = LONGPOLL_TIMEOUT_S
    payload_bytes: int = 16
    duration_s: float | None = None
    """Seconds measured per cell; None sizes each cell's window (`sized_window`)."""
    spawn_rate: float | None = None
    interval_sweep: tuple[float, ...] = ()
    interval_sweep_users: int = 100
    rtts_ms: tuple[float, ...] = (0.0,)
    vias: tuple[str, ...] = (DIRECT,)
    """What the clients go through: `direct`, or `nginx:<profile>` (lab.proxy.profiles)."""
    repeat: int = 1
    workers: tuple[int, ...] = (1,)
    """Server processes per cell (`lab serve --workers`): each count is a cell of its own."""
    broker: str = ""
    """'redis' puts Redis in the path even for one worker (to price it); several workers
    always share their events through a private redis-server."""
    servers: tuple[str, ...] = (LAB_SERVER,)
    """The servers each cell runs against: the lab's own, and peers (`lab peer NAME`,
    lab.peers) for the transports they serve (short and long polling, SSE)."""
    server_cpus: str = "auto"
    """The CPUs every cell's server is pinned to, as "0" or "0,1" (Locust gets the others);
    "auto" pins only when several servers are compared and the machine has two cores or more
    (the server gets the first, Locust the rest); "none" never pins."""
    expect_workers: int = 0
    """Locust workers on other machines each cell waits for (`lab locust-worker`); 0 runs
    the load here alone."""
    server_host: str = "127.0.0.1"
    """Where each cell's server listens: an address the load machines reach, with
    `expect_workers`."""
    chat: bool = False
    """Chat answers instead of the ticker: each transport at each user count, every user
    asking, reading the answer to its end and asking again (scenarios/chat.py)."""
    preset: str = ""
    """A named plan instead of the product of the settings above (see PRESETS)."""
    processes: str = "auto"
    out: Path = Path("results")
    run_id: str = ""
    quick: bool = False
    report: bool = True

    def make_quick(self) -> None:
        """A smoke run: few users, one rate, short windows, no sweeps."""
        self.users = QUICK_CHAT_USERS if self.chat else QUICK_USERS
        self.rates = QUICK_RATES
        self.duration_s = QUICK_DURATION_S
        self.interval_sweep, self.quick = (), True

    def problems(self) -> list[str]:
        """Why these settings cannot be run (empty when they can)."""
        return plan_problems(self)

    @property
    def load_vias(self) -> tuple[str, ...]:
        """The vias the load generator runs through: its clients speak HTTP/1.1 only."""
        return tuple(v for v in self.vias if not _is_http2(v))

    @property
    def browser_vias(self) -> tuple[str, ...]:
        """The vias a browser compares when HTTP/2 was asked for: direct, and HTTP/2."""
        http2 = [v for v in self.vias if _is_http2(v)]
        return (DIRECT, *http2) if http2 else ()

    @property
    def main_rate(self) -> float:
        """The rate the interval sweep runs at: the middle of the rates."""
        ordered = sorted(self.rates)
        return ordered[(len(ordered) - 1) // 2]

    def plan(self) -> list[Cell]:
        """Every transport at every user count, rate and round trip; then the interval
        sweep (short polling at one user count and the main rate); each `repeat` times.
        A preset replaces all of this with its own cells."""
        if self.preset:
            from lab.sweep_presets import PRESETS  # the presets are plans built from this one

            return PRESETS[self.preset](self)
        if self.chat:
            return self.chat_cells()
        points = [
            (transport, users, rate, self.interval_s, rtt)
            for rtt in self.rtts_ms
            for transport in self.transports
            for users in self.users
            for rate in self.rates
        ]
        if "short_polling" in self.transports:
            points += [
                ("short_polling", self.interval_sweep_users, self.main_rate, interval, 0.0)
                for interval in self.interval_sweep
                if interval != self.interval_s
            ]
        cells = [
            replace(
                self.cell(transport, users, rate, interval, rtt, repeat, via),
                workers=workers,
                broker=self.broker_for(workers),
                server=server,
            )
            for repeat in range(1, self.repeat + 1)
            for server in self.servers
            for workers in self.workers
            if server == LAB_SERVER or workers == 1
            for via in self.load_vias
            for transport, users, rate, interval, rtt in points
            if server == LAB_SERVER or transport in PEER_TRANSPORTS
        ]
        if LAB_SERVER not in self.servers:
            return cells
        if VIA_PREFIX + "short-timeout" in self.vias:
            cells += self.idle_timeout_cells()
        if "websocket" in self.transports and (self.duration_s or math.inf) >= 2 * DROP_EVERY_S:
            cells += self.drop_cells()
        return cells

    def broker_for(self, workers: int) -> str:
        return self.broker or (PRIVATE_BROKER if workers > 1 else "")

    def drop_cells(self) -> list[Cell]:
        """The streams through repeated drops, at the middle user count and rate: SSE and
        WebSocket resuming from their last id, and WebSocket without resume. Only when the
        window holds at least two drops (not in a --quick run)."""
        users = sorted(self.users)[(len(self.users) - 1) // 2]
        rate = self.main_rate
        kinds = [("websocket", True), ("websocket", False)]
        if "sse" in self.transports:
            kinds.insert(0, ("sse", True))
        return [
            replace(
                self.cell(transport, users, rate, self.interval_s),
                drop_every_s=DROP_EVERY_S,
                resumes=resumes,
            )
            for transport, resumes in kinds
        ]

    def chat_cells(self) -> list[Cell]:
        """Each chat transport answering questions at each user count, each `repeat` times
        (short polling at the run's interval)."""
        return [
            Cell(
                transport=transport,
                users=users,
                rate=LOAD_QUESTION.tokens_per_s,
                interval_s=self.interval_s if transport == "short_polling" else None,
                payload_pad_bytes=0,
                repeat=repeat,
                workload=CHAT,
            )
            for repeat in range(1, self.repeat + 1)
            for transport in self.transports
            if transport in CHAT_TRANSPORTS
            for users in self.users
        ]

    def idle_timeout_cells(self) -> list[Cell]:
        """Through nginx:short-timeout, a quiet source: SSE with a late and an early
        heartbeat, long polls held longer and shorter than the proxy's timeout."""
        via = VIA_PREFIX + "short-timeout"
        users = sorted(self.users)[(len(self.users) - 1) // 2]

        def quiet(transport: str, heartbeat: float | None, hold: float | None) -> Cell:
            return replace(
                self.cell(transport, users, 1 / IDLE_PERIOD_S, 0, via=via),
                arrivals="fixed",
                window_s=IDLE_WINDOW_S,
                heartbeat_s=heartbeat,
                timeout_s=hold,
            )

        cells = []
        if "sse" in self.transports:
            cells += [quiet("sse", beat, None) for beat in IDLE_HEARTBEATS_S]
        if "long_polling" in self.transports:
            cells += [quiet("long_polling", None, hold) for hold in IDLE_HOLDS_S]
        return cells

    def cell(
        self,
        transport: str,
        users: int,
        rate: float,
        interval: float,
        rtt: float = 0.0,
        repeat: int = 1,
        via: str = DIRECT,
    ) -> Cell:
        profile = parse_via(via)
        window = None
        if transport == "sse" and profile is not None and profile.buffers_streams:
            window = max(self.duration_s or 0, BUFFERED_WINDOW_S)
        return Cell(
            transport=transport,
            users=users,
            rate=rate,
            arrivals=self.arrivals,
            interval_s=interval if transport == "short_polling" else None,
            timeout_s=self.timeout_s if transport == "long_polling" else None,
            payload_pad_bytes=self.payload_bytes,
            rtt_ms=rtt,
            repeat=repeat,
            via=via,
            window_s=window,
        )

    def pinned_cpus(self, servers: Collection[str]) -> tuple[set[int], set[int]] | None:
        """(the servers' CPUs, the load generator's CPUs) for a plan comparing `servers`, or
        None when nothing is pinned."""
        available = sorted(os.sched_getaffinity(0))
        if self.server_cpus == "none":
            return None
        if self.server_cpus == "auto":
            if len(set(servers)) < 2 or len(available) < 2:
                return None
            return {available[0]}, set(available[1:])
        chosen = parse_cpus(self.server_cpus)
        return chosen, set(available) - chosen

    def spawn_rate_for(self, users: int) -> float:
        # Two seconds of ramp at any size: long enough not to storm the server with connects,
        # short enough to keep a sweep's overhead down.
        return self.spawn_rate or max(10.0, users / 2)

    def processes_for(self, cell: Cell) -> int:
        if self.processes != "auto":
            return int(self.processes)
        # One Python process saturates a core near 1,000 busy users; Locust's own
        # --processes then forks workers so the load generator can use both cores.
        return 2 if cell.users >= 500 and (os.cpu_count() or 1) >= 2 else 1

    def cell_seconds(self, cell: Cell) -> float:
        """Planned wall time of one cell: start-up, ramp-up, window and stop (short polling
        is judged connected over one interval after its ramp-up)."""
        ramp = cell.users / self.spawn_rate_for(cell.users)
        judged = (cell.interval_s or self.interval_s) if cell.transport == "short_polling" else 0
        return CELL_OVERHEAD_S + ramp + judged + self.window_for(cell)

    def window_for(self, cell: Cell) -> float:
        """How long the cell is measured: the cell's own window, else the run's, else one
        sized for the cell."""
        return (
            cell.window_s
            or self.duration_s
            or PRESET_WINDOWS.get(self.preset)
            or sized_window(cell, self.interval_s)
        )


CELL_OVERHEAD_S = 0.5
"""A cell's wall time beyond its ramp-up and window, about: Locust's start-up and stop, and
summarizing; the next cell's server starts while Locust stops (measured on a 2-core
machine: 100 users connect within the planned 2 s ramp-up)."""


def sized_window(cell: Cell, interval_s: float = POLL_INTERVAL_S) -> float:
    """The window a cell needs when the run sets none (see MIN_WINDOW_S)."""
    if cell.workload == CHAT:
        return CHAT_WINDOW_S
    if cell.drop_every_s is not None:
        return (DROPS_PER_WINDOW + 1) * cell.drop_every_s
    window = max(MIN_WINDOW_S, EVENTS_PER_WINDOW / cell.rate)
    if cell.transport == "short_polling":
        window = max(window, POLLS_PER_WINDOW * (cell.interval_s or interval_s))
    return window


def _is_http2(via: str) -> bool:
    try:
        profile = parse_via(via)
    except ValueError:
        return False
    return profile is not None and profile.http2


REFERENCE_WINDOW_S = 30.0
"""The reference run's window, every cell alike (as the committed one was measured)."""


PRESET_WINDOWS = {"reference": REFERENCE_WINDOW_S}
"""A preset's window for every cell, unless --duration says otherwise."""
