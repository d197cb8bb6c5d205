"""What the lab measures, defined once: used by the scenarios, the sweep, the charts and the report.

- Delivery latency of one event at one client = the client's clock on receipt - the event's
  `ts` (the server's clock at publish). Valid on one host or NTP-synced hosts.
- Lost and repeated events: each client expects ids to continue by exactly 1.
- Requests, empty responses, bytes and CPU come from the server's counters (`/metrics`),
  counted at the socket, diffed over the measured window.
- Per event means per *delivery*: one event reaching one client. Costs per delivery divide
  the server's counters by the deliveries the server counted over the same window.

A cell's figures are one `CellSummary` (lab.cell_summary), made by `summarize_cell`. Pure:
no I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lab.cell_summary import CLIENT_BOUND_PERCENT, CellSummary
from lab.names import CHAT, LAB_SERVER, TICKER
from lab.settings import LONGPOLL_TIMEOUT_S

EVENT_LOG_COLUMNS = ("received_at", "user", "event_id", "latency_ms", "event_bytes")
"""One row per delivery in a client's raw log (`received_at`: client wall clock, seconds)."""
READ_LOG_COLUMNS = ("received_at", "user", "bytes")
"""One row per read off a stream's socket (its bytes as on the wire)."""
OPEN_LOG_COLUMNS = ("started_at", "user", "open_ms", "ok")
"""One row per connection a user opened: when it started (client wall clock, seconds), how
long opening took, and whether it worked (1) or not (0)."""


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


def server_cpu_s(snapshot: Mapping) -> float:
    """The server's CPU seconds in a /metrics snapshot: every worker's and, with Redis in
    the path, the redis-server's, which does part of the work for every event."""
    return snapshot["process"]["cpu_s"] + snapshot.get("broker", {}).get("cpu_s", 0.0)


def counter_delta(before: Mapping, after: Mapping, transport: str) -> dict:
    """Growth of one transport's server counters between two /metrics snapshots."""
    b, a = before["transports"][transport], after["transports"][transport]
    statuses = set(a["responses"]) | set(b["responses"])
    # A peer cannot count its socket (its framework writes the heads and chunk framing):
    # its bytes are unknown, and the clients' count stands in (client_bytes_per_event).
    counted = after.get("socket_bytes", True)
    return {
        "requests": a["requests"] - b["requests"],
        "bytes_in": a["bytes_in"] - b["bytes_in"] if counted else None,
        "bytes_out": a["bytes_out"] - b["bytes_out"] if counted else None,
        "events_sent": a["events_sent"] - b["events_sent"],
        "empty_responses": a.get("empty_responses", 0) - b.get("empty_responses", 0),
        "responses": {
            s: a["responses"].get(s, 0) - b["responses"].get(s, 0) for s in sorted(statuses)
        },
        "cpu_s": server_cpu_s(after) - server_cpu_s(before),
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
    """One point of a sweep: a transport at a user count, with the source's settings, the
    network's round trip, and which repeat of the same point it is."""

    transport: str
    users: int
    rate: float
    arrivals: str = "fixed"
    interval_s: float | None = None
    timeout_s: float | None = None
    payload_pad_bytes: int = 16
    rtt_ms: float = 0.0
    repeat: int = 1
    via: str = "direct"
    """What stands between the clients and the server: `direct`, or `nginx:<profile>`."""
    heartbeat_s: float | None = None
    """The server's SSE heartbeat after this much silence (None: the server's default)."""
    window_s: float | None = None
    """This cell's measured window, when it needs a longer one than the run's."""
    workload: str = TICKER
    """What the clients receive: the ticker's events, or chat answers (`rate` is then the
    model's tokens per second)."""
    drop_every_s: float | None = None
    """POST /drop this often in the window, each client reconnecting a second later."""
    resumes: bool = True
    """Whether the clients resume from their last id when they reconnect."""
    workers: int = 1
    """Server processes sharing the port (`lab serve --workers`)."""
    broker: str = ""
    """Where the workers share their events: '' (the in-process source) or 'redis'."""
    server: str = LAB_SERVER
    """Which server answers: the lab's own, or a peer (`lab peer NAME`, lab.peers)."""

    def same_but_users(self) -> tuple:
        """The cell's settings apart from its user count and repeat."""
        return tuple(v for k, v in vars(self).items() if k not in ("users", "repeat"))

    @property
    def name(self) -> str:
        if self.workload == CHAT:
            name = f"chat-{self.transport}-u{self.users}"
            if self.interval_s is not None:
                name += f"-i{self.interval_s:g}"
            return name + (f"-n{self.repeat}" if self.repeat > 1 else "")
        name = f"{self.transport}-u{self.users}-r{self.rate:g}"
        if self.interval_s is not None:
            name += f"-i{self.interval_s:g}"
        if self.timeout_s is not None and self.timeout_s != LONGPOLL_TIMEOUT_S:
            name += f"-t{self.timeout_s:g}"
        if self.heartbeat_s is not None:
            name += f"-hb{self.heartbeat_s:g}"
        if self.rtt_ms:
            name += f"-rtt{self.rtt_ms:g}"
        if self.drop_every_s is not None:
            name += f"-drop{self.drop_every_s:g}" + ("" if self.resumes else "-noresume")
        if self.via != "direct":
            name += "-" + self.via.replace(":", "-")
        if self.workers > 1 or self.broker:
            name += f"-w{self.workers}" + (f"-{self.broker}" if self.broker else "")
        if self.server != LAB_SERVER:
            name += f"-{self.server}"
        if self.repeat > 1:
            name += f"-n{self.repeat}"
        return name


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
    bytes_per_event = None
    if server["bytes_in"] is not None and server["bytes_out"] is not None:
        bytes_per_event = ratio(server["bytes_in"] + server["bytes_out"], delivered)
    payload = ratio(math.fsum(payload_bytes), len(payload_bytes))
    polling = cell.transport in ("short_polling", "long_polling")
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
        rtt_ms=cell.rtt_ms,
        repeat=cell.repeat,
        via=cell.via,
        workers=cell.workers,
        broker=cell.broker,
        server=cell.server,
        heartbeat_s=cell.heartbeat_s,
        drop_every_s=cell.drop_every_s,
        client_resumes=None if cell.drop_every_s is None else cell.resumes,
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
