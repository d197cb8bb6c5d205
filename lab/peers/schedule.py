"""When a peer's ticker publishes, and what: the lab ticker's schedule and event data, so
that a peer's events arrive as the lab's do and weigh the same. Pure: no framework."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

TICK_TYPE = "tick"


def tick_times(rate: float, arrivals: str, start: float | None = None) -> Iterator[float]:
    """Monotonic-clock instants to publish at, `rate` a second on average: evenly spaced
    ("fixed") or as a Poisson process ("poisson"). Each is counted from the schedule's start,
    not from when the previous tick ran, so a late tick does not delay every later one."""
    at = time.monotonic() if start is None else start
    draw = random.Random()
    while True:
        at += draw.expovariate(rate) if arrivals == "poisson" else 1.0 / rate
        yield at


def tick_data(n: int, payload_bytes: int) -> dict:
    """The `data` of the n-th tick, as the lab's ticker writes it."""
    return {"n": n, "pad": "x" * payload_bytes}
