"""What the lab measures, defined once: used by the scenarios, the sweep, the charts and the report.

- Delivery latency of one event at one client = the client's clock on receipt - the event's
  `ts` (the server's clock at publish). Valid on one host or NTP-synced hosts.
- Lost and repeated events: each client expects ids to continue by exactly 1.
- Requests, empty responses, bytes and CPU come from the server's counters (`/metrics`),
  counted at the socket, diffed over the measured window.
- Per event means per *delivery*: one event reaching one client. Costs per delivery divide
  the server's counters by the deliveries the server counted over the same window.

A cell's figures are one `CellSummary` (a row of summary.csv), and its `verdict` says whether
they can be taken at face value. Pure: no I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

EVENT_LOG_COLUMNS = ("received_at", "user", "event_id", "latency_ms", "event_bytes")
"""One row per delivery in a client's raw log (`received_at`: client wall clock, seconds)."""

CLIENT_BOUND_PERCENT = 90.0
"""A load-generator process averaging this much of one core measures itself, not the server."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile must be between 0 and 100, not {q}")
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    mean: float | None

    @classmethod
    def of(cls, latencies: Iterable[float]) -> LatencySummary:
        ordered = sorted(latencies)
        if not ordered:
            return cls(0, None, None, None, None, None)
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            max=ordered[-1],
            mean=math.fsum(ordered) / len(ordered),
        )


def latency_ms(received_at: float, published_at: float) -> float:
    """Delivery latency in milliseconds from two wall-clock readings in seconds."""
    return (received_at - published_at) * 1000.0


class SequenceCheck:
    """Checks that one client's event ids continue by exactly 1: counts gaps and repeats.

    `after` is the cursor the client started from, when it knows it (the polls do); an SSE
    client that starts live learns its first id from the first event.
    """

    def __init__(self, after: int | None = None) -> None:
        self.last = after
        self.received = 0
        self.lost = 0
        self.repeated = 0

    def see(self, event_id: int) -> tuple[int, int]:
        """Record one received id; return (newly lost, newly repeated) for this id."""
        self.received += 1
        if self.last is None:
            self.last = event_id
            return 0, 0
        if event_id <= self.last:
            self.repeated += 1
            return 0, 1
        missing = event_id - self.last - 1
        self.lost += missing
        self.last = event_id
        return missing, 0


def counter_delta(before: Mapping, after: Mapping, transport: str) -> dict:
    """Growth of one transport's server counters between two /metrics snapshots."""
    b, a = before["transports"][transport], after["transports"][transport]
    statuses = set(a["responses"]) | set(b["responses"])
    return {
        "requests": a["requests"] - b["requests"],
        "bytes_in": a["bytes_in"] - b["bytes_in"],
        "bytes_out": a["bytes_out"] - b["bytes_out"],
        "events_sent": a["events_sent"] - b["events_sent"],
        "empty_responses": a.get("empty_responses", 0) - b.get("empty_responses", 0),
        "responses": {
            s: a["responses"].get(s, 0) - b["responses"].get(s, 0) for s in sorted(statuses)
        },
        "cpu_s": after["process"]["cpu_s"] - before["process"]["cpu_s"],
        "published": after["source"]["last_id"] - before["source"]["last_id"],
    }


def error_responses(responses: Mapping[str, int]) -> int:
    """Responses that were errors: 4xx/5xx, and 0 for answers cut short."""
    return sum(n for status, n in responses.items() if status == "0" or int(status) >= 400)


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None (no value) when the denominator is 0."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Cell:
    """One point of a sweep: a transport at a user count, with the source's settings."""

    transport: str
    users: int
    rate: float
    arrivals: str = "fixed"
    interval_s: float | None = None
    timeout_s: float | None = None
    payload_pad_bytes: int = 16

    @property
    def name(self) -> str:
        name = f"{self.transport}-u{self.users}-r{self.rate:g}"
        if self.interval_s is not None:
            name += f"-i{self.interval_s:g}"
        return name


@dataclass(frozen=True)
class CellVerdict:
    """Whether a cell's figures can be taken at face value, and if not, why."""

    lost: int = 0
    repeated: int = 0
    errors: int = 0
    client_cpu_percent: float = 0.0
    nothing_delivered: bool = False

    @property
    def client_bound(self) -> bool:
        return self.client_cpu_percent >= CLIENT_BOUND_PERCENT

    @property
    def lossy(self) -> bool:
        """Events lost or repeated, errors, or nothing delivered: the figures are incomplete."""
        return bool(self.lost or self.repeated or self.errors or self.nothing_delivered)

    @property
    def ok(self) -> bool:
        return not (self.lossy or self.client_bound)

    @property
    def flag(self) -> str | None:
        """'lost' (incomplete figures), 'client_bound', or None for a clean cell."""
        if self.lossy:
            return "lost"
        if self.client_bound:
            return "client_bound"
        return None

    def problems(self) -> list[str]:
        """Each reason, as a sentence."""
        found = []
        if self.lost:
            found.append(f"{self.lost:,} events lost")
        if self.repeated:
            found.append(f"{self.repeated:,} events repeated")
        if self.errors:
            found.append(f"{self.errors:,} errors")
        if self.client_bound:
            found.append(
                f"load generator at {self.client_cpu_percent:.0f}% of a core: its latencies "
                "measure the client, not the transport"
            )
        if self.nothing_delivered:
            found.append("no event was delivered in the measured window")
        return found

    def short(self) -> str:
        """The reasons in a few words, for a chart or a table ('' for a clean cell)."""
        parts = []
        if self.lost:
            parts.append(f"{self.lost:,} lost")
        if self.repeated:
            parts.append(f"{self.repeated:,} repeated")
        if self.errors:
            parts.append(f"{self.errors:,} errors")
        if self.client_bound:
            parts.append("client-bound")
        if self.nothing_delivered:
            parts.append("nothing delivered")
        return ", ".join(parts)


@dataclass(frozen=True)
class CellSummary:
    """One cell's figures over its measured window: one row of summary.csv.

    Its fields are summary.csv's columns, in order, with their types; None means "no value"
    (an empty cell in the CSV).
    """

    cell: str
    transport: str
    users: int
    rate: float
    arrivals: str
    interval_s: float | None
    timeout_s: float | None
    payload_pad_bytes: int
    duration_s: float
    events_published: int
    events_expected: int
    events_received: int
    events_lost: int
    events_repeated: int
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    latency_mean_ms: float | None
    requests: int
    requests_per_s: float | None
    requests_per_event: float | None
    empty_responses: int | None
    empty_share: float | None
    bytes_in: int
    bytes_out: int
    bytes_per_event: float | None
    payload_bytes_per_event: float | None
    overhead_bytes_per_event: float | None
    server_cpu_s: float
    server_cpu_us_per_event: float | None
    client_cpu_percent: float
    client_bound: bool
    errors: int
    theory_latency_mean_ms: float | None = None
    theory_requests_per_s: float | None = None
    theory_bytes_per_event: float | None = None
    theory_empty_share: float | None = None

    @property
    def verdict(self) -> CellVerdict:
        return CellVerdict(
            lost=self.events_lost,
            repeated=self.events_repeated,
            errors=self.errors,
            client_cpu_percent=self.client_cpu_percent,
            nothing_delivered=not self.events_received,
        )

    def get(self, name: str) -> Any:
        """A column by name (for code that picks columns from a table of names)."""
        return getattr(self, name)


SUMMARY_COLUMNS = tuple(field.name for field in fields(CellSummary))


def summarize_cell(
    cell: Cell,
    duration_s: float,
    latencies_ms: Sequence[float],
    payload_bytes: Sequence[int],
    lost: int,
    repeated: int,
    server: Mapping,
    client_cpu_percent: float,
    client_errors: int,
    theory: object | None = None,
) -> CellSummary:
    """One cell's summary from its window.

    `latencies_ms`/`payload_bytes`: every delivery received inside the window;
    `server`: `counter_delta` over the same window; `lost`/`repeated`: from the clients'
    sequence checks; `theory`: a lab.theory.Prediction for the same parameters.
    """
    latency = LatencySummary.of(latencies_ms)
    # Per-event costs divide the server's counters by the deliveries the server itself
    # counted (events_sent): the same code counts both, so a window edge that falls in the
    # middle of a fan-out shifts them together. The clients' count gives latency and loss.
    delivered = server["events_sent"]
    bytes_per_event = ratio(server["bytes_in"] + server["bytes_out"], delivered)
    payload = ratio(math.fsum(payload_bytes), len(payload_bytes))
    polling = cell.transport != "sse"
    overhead = None
    if bytes_per_event is not None and payload is not None:
        overhead = bytes_per_event - payload
    return CellSummary(
        cell=cell.name,
        transport=cell.transport,
        users=cell.users,
        rate=cell.rate,
        arrivals=cell.arrivals,
        interval_s=cell.interval_s,
        timeout_s=cell.timeout_s,
        payload_pad_bytes=cell.payload_pad_bytes,
        duration_s=round(duration_s, 3),
        events_published=server["published"],
        events_expected=server["published"] * cell.users,
        events_received=latency.count,
        events_lost=lost,
        events_repeated=repeated,
        latency_p50_ms=latency.p50,
        latency_p90_ms=latency.p90,
        latency_p99_ms=latency.p99,
        latency_max_ms=latency.max,
        latency_mean_ms=latency.mean,
        requests=server["requests"],
        requests_per_s=ratio(server["requests"], duration_s),
        requests_per_event=ratio(server["requests"], delivered),
        empty_responses=server["empty_responses"] if polling else None,
        empty_share=ratio(server["empty_responses"], server["requests"]) if polling else None,
        bytes_in=server["bytes_in"],
        bytes_out=server["bytes_out"],
        bytes_per_event=bytes_per_event,
        payload_bytes_per_event=payload,
        overhead_bytes_per_event=overhead,
        server_cpu_s=server["cpu_s"],
        server_cpu_us_per_event=ratio(server["cpu_s"] * 1e6, delivered),
        client_cpu_percent=client_cpu_percent,
        client_bound=client_cpu_percent >= CLIENT_BOUND_PERCENT,
        errors=error_responses(server["responses"]) + client_errors,
        theory_latency_mean_ms=getattr(theory, "latency_mean_ms", None),
        theory_requests_per_s=getattr(theory, "requests_per_s", None),
        theory_bytes_per_event=getattr(theory, "bytes_per_event", None),
        theory_empty_share=getattr(theory, "empty_share", None),
    )
