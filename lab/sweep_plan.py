"""What a sweep runs: its settings, their defaults, and the cells they make.

Pure. The defaults here are also the Locust scenarios' defaults (a scenario run by hand
behaves as it does in a sweep).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lab.measurement import Cell
from lab.names import TRANSPORTS
from lab.settings import LONGPOLL_TIMEOUT_S

POLL_INTERVAL_S = 1.0
"""Seconds between a short-polling client's polls."""
USERS = (10, 100, 1000)
INTERVAL_SWEEP_S = (0.5, 2.0, 5.0)
QUICK_USERS = (5, 50)


@dataclass
class BenchConfig:
    transports: tuple[str, ...] = TRANSPORTS
    users: tuple[int, ...] = USERS
    rate: float = 1.0
    arrivals: str = "fixed"
    interval_s: float = POLL_INTERVAL_S
    timeout_s: float = LONGPOLL_TIMEOUT_S
    payload_bytes: int = 16
    duration_s: float = 30.0
    settle_s: float = 3.0
    spawn_rate: float | None = None
    interval_sweep: tuple[float, ...] = INTERVAL_SWEEP_S
    interval_sweep_users: int = 100
    processes: str = "auto"
    out: Path = Path("results")
    run_id: str = ""
    quick: bool = False
    report: bool = True

    def make_quick(self) -> None:
        """A smoke run: few users, short windows, no interval sweep."""
        self.users, self.duration_s, self.settle_s = QUICK_USERS, 5.0, 1.0
        self.interval_sweep, self.quick = (), True
        self.spawn_rate = self.spawn_rate or 50.0

    def problems(self) -> list[str]:
        """Why these settings cannot be run (empty when they can)."""
        checks = (
            (self.rate <= 0, "--rate must be above 0"),
            (any(u < 1 for u in self.users), "--users must all be 1 or more"),
            (self.duration_s <= 0, "--duration must be above 0"),
            (self.interval_s <= 0, "--interval must be above 0"),
            (not 0 < self.timeout_s <= 120, "--timeout must be above 0 and at most 120"),
            (any(i <= 0 for i in self.interval_sweep), "--interval-sweep must be above 0"),
        )
        return [message for failed, message in checks if failed]

    def plan(self) -> list[Cell]:
        cells = []
        for transport in self.transports:
            for users in self.users:
                cells.append(self.cell(transport, users, self.interval_s))
        if "short_polling" in self.transports:
            for interval in self.interval_sweep:
                if interval != self.interval_s:
                    cells.append(self.cell("short_polling", self.interval_sweep_users, interval))
        return cells

    def cell(self, transport: str, users: int, interval: float) -> Cell:
        return Cell(
            transport=transport,
            users=users,
            rate=self.rate,
            arrivals=self.arrivals,
            interval_s=interval if transport == "short_polling" else None,
            timeout_s=self.timeout_s if transport == "long_polling" else None,
            payload_pad_bytes=self.payload_bytes,
        )

    def spawn_rate_for(self, users: int) -> float:
        return self.spawn_rate or max(10.0, users / 5)

    def processes_for(self, cell: Cell) -> int:
        if self.processes != "auto":
            return int(self.processes)
        # One Python process saturates a core near 1,000 busy users; Locust's own
        # --processes then forks workers so the load generator can use both cores.
        return 2 if cell.users >= 500 and (os.cpu_count() or 1) >= 2 else 1

    def cell_seconds(self, cell: Cell) -> float:
        """Planned wall time of one cell (start-up, ramp, settle, window, tail)."""
        ramp = cell.users / self.spawn_rate_for(cell.users)
        return 6 + ramp + self.settle_s + self.duration_s
