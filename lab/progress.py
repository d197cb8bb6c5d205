"""Telling a person how a long run is going: which step, how long it has run, how long is
left. Written for a terminal (one line rewritten in place) or a log (a line per phase)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TextIO


class Progress:
    """Says which cell runs, how long it has run and about how long the sweep has left."""

    def __init__(self, planned: list[float], out: TextIO = sys.stdout) -> None:
        self.planned = planned
        self.out = out
        self.started = self.cell_started = time.monotonic()
        self.index = 0
        self.label = ""
        self.phase = ""
        self.interactive = out.isatty()

    def begin(self, index: int, label: str) -> None:
        self.index, self.label = index, label
        self.cell_started = time.monotonic()
        self._say("starting", force=True)

    def left_s(self) -> float:
        in_cell = time.monotonic() - self.cell_started
        remaining_here = max(0.0, self.planned[self.index] - in_cell)
        return remaining_here + sum(self.planned[self.index + 1 :])

    def _say(self, phase: str, force: bool = False) -> None:
        self.phase = phase
        elapsed = time.monotonic() - self.started
        line = (
            f"[{self.index + 1}/{len(self.planned)}] {self.label}: {phase:<11} "
            f"elapsed {clock(elapsed)}, about {clock(self.left_s())} left"
        )
        if self.interactive:
            print("\r" + line.ljust(100), end="\n" if force else "", file=self.out, flush=True)
        elif force:
            print(line, file=self.out, flush=True)

    def wait_until(
        self, until: float | None, phase: str, process: subprocess.Popen, deadline: float = 0
    ) -> None:
        """Wait until `until` (or, when None, for at most `deadline` seconds), returning as
        soon as `process` exits; report as it goes."""
        # A log gets a line per phase, not one per wait (a phase can be many short waits).
        self._say(phase, force=not self.interactive and phase != self.phase)
        limit = time.monotonic() + deadline if until is None else until
        while (left := limit - time.monotonic()) > 0:
            try:
                # Returns the moment the process exits, not at the next whole second.
                process.wait(timeout=min(1.0, left))
            except subprocess.TimeoutExpired:
                self._say(phase)
            else:
                return

    def done(self) -> None:
        if self.interactive:
            print(file=self.out)


def clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"
