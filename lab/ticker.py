"""The ticker: publishes events at a set rate, evenly spaced or as a Poisson process."""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
import gevent.event

from lab.event_source import EventSource
from lab.settings import MAX_PAYLOAD_BYTES, ticker_problems

TICK_TYPE = "tick"


class TickerSettingsError(ValueError):
    """A requested ticker setting is not allowed; the message says why."""


class Ticker:
    """Publishes `tick` events into a source from one greenlet.

    Changing a setting wakes the greenlet so the new rate applies at once. Ticks are scheduled
    on absolute times, so a slow wake-up does not make the rate drift.
    """

    def __init__(
        self,
        source: EventSource,
        rate: float = 1.0,
        arrivals: str = "fixed",
        payload_bytes: int = 16,
        paused: bool = False,
        rng: random.Random | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        max_bytes_per_s: float | None = None,
    ) -> None:
        self.source = source
        self.rate = 1.0
        self.arrivals = "fixed"
        self.payload_bytes = 16
        self.paused = False
        self.ticks = 0
        self._limits = (max_payload_bytes, max_bytes_per_s)
        self._rng = rng or random.Random()
        self._changed = gevent.event.Event()
        self._greenlet: gevent.Greenlet | None = None
        self.apply(rate=rate, arrivals=arrivals, payload_bytes=payload_bytes, paused=paused)

    def settings(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "arrivals": self.arrivals,
            "payload_bytes": self.payload_bytes,
            "paused": self.paused,
        }

    def update(self, **changes: Any) -> dict[str, Any]:
        """Change settings (`PUT /source`); raise TickerSettingsError, changing nothing."""
        return self.apply(**changes)

    def apply(self, **changes: Any) -> dict[str, Any]:
        """Validate every change first, then apply them all here; raise TickerSettingsError."""
        unknown = sorted(set(changes) - {"rate", "arrivals", "payload_bytes", "paused"})
        if unknown:
            shown = ", ".join(repr(name[:40]) for name in unknown[:5])
            raise TickerSettingsError(
                f"unknown setting {shown}{' ...' if len(unknown) > 5 else ''}: "
                "the ticker has rate, arrivals, payload_bytes and paused"
            )
        new = self.settings() | changes
        rate, arrivals, payload, paused = (
            new["rate"],
            new["arrivals"],
            new["payload_bytes"],
            new["paused"],
        )
        problems = list(ticker_problems(rate, arrivals, payload, paused, *self._limits))
        if problems:
            raise TickerSettingsError("; ".join(problems))
        self.rate, self.arrivals, self.payload_bytes, self.paused = (
            float(rate),
            arrivals,
            payload,
            paused,
        )
        self._changed.set()
        return self.settings()

    @property
    def running(self) -> bool:
        return not self.paused and self.rate > 0

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def tick(self) -> None:
        self.ticks += 1
        self.source.publish(TICK_TYPE, {"n": self.ticks, "pad": "x" * self.payload_bytes})

    def _gap(self) -> float:
        if self.arrivals == "poisson":
            return self._rng.expovariate(self.rate)
        return 1.0 / self.rate

    def _run(self) -> None:
        next_at: float | None = None
        while True:
            self._changed.clear()
            if not self.running:
                next_at = None
                self._changed.wait()
                continue
            now = time.monotonic()
            if next_at is None:
                next_at = now + self._gap()
            if now < next_at:
                # Woken early by a change: start a fresh schedule under the new settings.
                if self._changed.wait(next_at - now):
                    next_at = None
                continue
            self.tick()
            next_at += self._gap()
            if next_at < now - 1.0:
                # Far behind (the process was starved): skip ahead instead of bursting.
                next_at = now
            if next_at <= time.monotonic():
                # Behind schedule: catch up, but let the server answer its clients in between.
                gevent.sleep(0)
