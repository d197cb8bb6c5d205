"""One cell's figures (a row of summary.csv) and whether they can be taken at face value.

`CellSummary` is the row, typed: its fields are summary.csv's columns in order. Its
`verdict` is the one place that decides whether a cell is clean, or why not.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from lab.names import TICKER

CLIENT_BOUND_PERCENT = 90.0
"""A load-generator process averaging this much of one core measures itself, not the server."""


@dataclass(frozen=True)
class CellVerdict:
    """Whether a cell's figures can be taken at face value, and if not, why."""

    lost: int = 0
    repeated: int = 0
    errors: int = 0
    client_cpu_percent: float = 0.0
    nothing_delivered: bool = False
    users: int = 0
    users_connected: int | None = None
    """How many of the `users` were connected when the deadline passed; None when they all
    were (or the run did not say)."""

    @property
    def client_bound(self) -> bool:
        return self.client_cpu_percent >= CLIENT_BOUND_PERCENT

    @property
    def not_connected(self) -> bool:
        """Not every user connected before the deadline: the cell was not measured."""
        return self.users_connected is not None and self.users_connected < self.users

    @property
    def lossy(self) -> bool:
        """Events lost or repeated, errors, nothing delivered, or users that never connected:
        the figures are incomplete."""
        return (
            bool(self.lost or self.repeated or self.errors or self.nothing_delivered)
            or self.not_connected
        )

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
        if self.not_connected:
            found.append(
                f"only {self.users_connected:,} of {self.users:,} users were connected when "
                "the deadline passed: not measured, so it has no latency or cost figures"
            )
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
        if self.nothing_delivered and not self.not_connected:
            found.append("no event was delivered in the measured window")
        return found

    def short(self) -> str:
        """The reasons in a few words, for a chart or a table ('' for a clean cell)."""
        parts = []
        if self.not_connected:
            parts.append(f"{self.users_connected:,} of {self.users:,} connected, not measured")
        if self.lost:
            parts.append(f"{self.lost:,} lost")
        if self.repeated:
            parts.append(f"{self.repeated:,} repeated")
        if self.errors:
            parts.append(f"{self.errors:,} errors")
        if self.client_bound:
            parts.append("client-bound")
        if self.nothing_delivered and not self.not_connected:
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
    rtt_ms: float
    """The round trip added between clients and server (0: loopback only)."""
    repeat: int
    """Which run of the same cell this is (1, 2, ...)."""
    via: str
    """What stood between the clients and the server: `direct`, or `nginx:<profile>`."""
    heartbeat_s: float | None
    """The server's SSE heartbeat setting, when the cell set one (empty: the default)."""
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
    bytes_in: int | None
    """Bytes the server read, counted at its socket (empty for a peer, which cannot)."""
    bytes_out: int | None
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
    burst_share: float | None = None
    """The share of the events received in the window that reached their client in the
    same read as another event (0: each came alone; near 1: they came in bursts)."""
    mean_batch: float | None = None
    """Events per read that brought any: 1.0 when each came alone."""
    client_bytes_per_event: float | None = None
    """Bytes that reached the clients per event they received (after any proxy)."""
    reconnects: int | None = None
    """SSE: streams opened in the window, every user having been connected before it (each
    is a stream that was cut and reopened)."""
    gateway_timeouts: int | None = None
    """Responses the proxy answered 504 (Gateway Timeout) in the window; None when direct."""
    users_connected: int | None = None
    """How many users the server saw connected before the window: `users` once every one
    was (the window then began), fewer when the deadline passed first; the cell is then not
    measured and its figures are empty. Empty in runs from before this column."""
    connect_s: float | None = None
    """Seconds from starting the load generator until the server saw every user (or until
    the deadline): its start-up, the ramp-up and the connect storm."""
    connect_p50_ms: float | None = None
    """Opening one connection before the window: a stream's time to its response head, a
    WebSocket's to its 101 answer, a poller's first request (which learns its cursor)."""
    connect_p99_ms: float | None = None
    drop_every_s: float | None = None
    """The drop cells: POST /drop this often in the window (empty: never)."""
    client_resumes: bool | None = None
    """The drop cells: whether the clients resumed from their last id (False: the events
    published while they reconnected are lost by design, and measured, not flagged)."""
    workers: int = 1
    """Server processes sharing the port (1: the single process)."""
    broker: str = ""
    """'redis' when the events went through Redis (every worker's and the redis-server's
    CPU are the server's), empty for the in-process source."""
    server: str = "lab"
    """The server measured: 'lab' (the lab's own) or a peer's name (`lab peer NAME`)."""
    server_rss_per_user_kb: float | None = None
    """The server's resident memory at the end of the window less its memory before the
    first user came, per user, in KB: what one open stream or poller costs in memory."""
    workload: str = TICKER
    """'ticker' (the event source's events) or 'chat' (answers streamed token by token).
    In a chat row an event is a token: `rate` is the model's tokens per second, `latency_*`
    each token's delay (its receipt minus the server's stamp on it) and the costs are per
    token; the columns below are the chat's own."""
    answers: int | None = None
    """Chat: answers that ended in the window."""
    model_first_token_ms: float | None = None
    """Chat: the model's own delay before its first token."""
    ttft_p50_ms: float | None = None
    """Chat: time to first token, from asking to the first token in hand."""
    ttft_p90_ms: float | None = None
    ttft_p99_ms: float | None = None
    gap_p50_ms: float | None = None
    """Chat: the time between two tokens of one answer reaching their client (0: in one read)."""
    gap_p90_ms: float | None = None
    gap_p99_ms: float | None = None
    requests_per_answer: float | None = None
    theory_ttft_ms: float | None = None
    theory_requests_per_answer: float | None = None

    @property
    def verdict(self) -> CellVerdict:
        return CellVerdict(
            lost=0 if self.client_resumes is False else self.events_lost,
            repeated=self.events_repeated,
            errors=self.errors,
            client_cpu_percent=self.client_cpu_percent,
            nothing_delivered=not self.events_received,
            users=self.users,
            users_connected=self.users_connected,
        )

    def get(self, name: str) -> Any:
        """A column by name (for code that picks columns from a table of names)."""
        return getattr(self, name)


SUMMARY_COLUMNS = tuple(field.name for field in fields(CellSummary))
