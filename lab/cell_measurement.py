"""One cell's figures, from the files its run left: the clients' raw delivery logs, Locust's
failures, and the server's /metrics at the two ends of the window.

The sweep (lab.sweep) runs the processes and calls `measure_cell` with what they wrote, so
this part can be tested on fixture files without running anything.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lab import theory
from lab.cell_summary import CellSummary
from lab.measurement import Cell, LatencySummary, SequenceCheck, counter_delta, summarize_cell
from lab.names import CHAT, is_sequence_entry

EVENTS_CSV_MAX_ROWS_PER_CELL = 10_000
"""Most deliveries a cell contributes to events.csv; above it every n-th is kept."""


@dataclass
class Deliveries:
    """What the clients logged: inside the window, latencies and sizes; over the whole
    run, lost and repeated ids (a gap that opens before the window still counts)."""

    latencies_ms: list[float] = field(default_factory=list)
    payload_bytes: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    """Inside the window, how many events each read that brought any brought (one client's
    events logged with the same receipt time came off the socket together)."""
    lost: int = 0
    repeated: int = 0

    @property
    def burst_share(self) -> float | None:
        """The share of events that came in the same read as another."""
        total = sum(self.batches)
        return sum(b for b in self.batches if b > 1) / total if total else None

    @property
    def mean_batch(self) -> float | None:
        return sum(self.batches) / len(self.batches) if self.batches else None


def read_deliveries(log_dir: Path, start: float, end: float) -> Deliveries:
    """Read every `deliveries-*.csv` under `log_dir` (one per Locust process).

    A delivery is inside the window when start <= its receipt time <= end (the clients'
    clocks, which are the server's on one host). Each user's ids are checked in the order
    they were logged.
    """
    found = Deliveries()
    sequences: dict[str, SequenceCheck] = {}
    reads: Counter[tuple[str, str]] = Counter()
    for path in sorted(log_dir.glob("deliveries-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                event_id = int(record["event_id"])
                sequences.setdefault(record["user"], SequenceCheck()).see(event_id)
                if start <= float(record["received_at"]) <= end:
                    found.latencies_ms.append(float(record["latency_ms"]))
                    found.payload_bytes.append(int(record["event_bytes"]))
                    found.event_ids.append(event_id)
                    reads[record["user"], record["received_at"]] += 1
    found.batches = list(reads.values())
    found.lost = sum(s.lost for s in sequences.values())
    found.repeated = sum(s.repeated for s in sequences.values())
    return found


def read_stream_bytes(log_dir: Path, start: float, end: float) -> int:
    """Bytes the stream clients read off their sockets inside the window (`reads-*.csv`)."""
    total = 0
    for path in sorted(log_dir.glob("reads-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                if start <= float(record["received_at"]) <= end:
                    total += int(record["bytes"])
    return total


def count_client_errors(failures_csv: Path) -> int:
    """Failed requests Locust saw, apart from the sequence checks (counted as lost/repeated)
    and a proxy's 504s (counted as gateway timeouts, from the proxy's own log)."""
    if not failures_csv.exists():
        return 0
    with open(failures_csv, newline="") as failures:
        return sum(
            int(row["Occurrences"])
            for row in csv.DictReader(failures)
            if not is_sequence_entry(row["Name"]) and not is_gateway_timeout(row["Error"])
        )


GATEWAY_TIMEOUT_TEXT = re.compile(r"code=504\b|\b504 (Server Error|Gateway)")
"""How Locust's clients write a 504 answer: "LocustBadStatusCode(code=504)", or
"504 Server Error: Gateway Time-out ..."."""


def is_gateway_timeout(error: str) -> bool:
    return GATEWAY_TIMEOUT_TEXT.search(error) is not None


STREAMS = ("sse", "websocket")
"""The transports whose every user holds one connection open for the whole run."""

POLL_RATE_SHARE = 0.95
"""Short polling is connected once the polls over one interval reach this share of users ÷
interval: each user polls once per interval on average, but its ±10% jitter moves a single
interval's count by a few percent either way (100 users: 95 to 105)."""


def users_connected(
    cell: Cell, earlier: Mapping, later: Mapping, interval_s: float, first: Mapping | None = None
) -> tuple[bool, float]:
    """Whether a cell's users are all connected, judged from /metrics snapshots (`first`:
    when the ramp-up was over; `earlier`, `later`: at least an interval apart, both after
    it); and how many the server sees.

    SSE, WebSocket and long polling: every user holds a stream, a socket or a poll open.
    Across a network round trip or a proxy some long polls are always on their way back, so
    there two requests per user since `first` count too. Short polling: polls arrive at
    users ÷ interval a second. Chat: every user has asked a question.
    """
    if cell.workload == CHAT:
        # Chat users come and go between answers: connected once each has asked.
        asked = later[CHAT]["answers_started"] - (first or earlier)[CHAT]["answers_started"]
        return asked >= cell.users, float(min(asked, cell.users))
    counters = later["transports"][cell.transport]
    if cell.transport == "short_polling":
        interval = cell.interval_s or interval_s
        seconds = later["time"] - earlier["time"]
        if seconds < interval:
            return False, 0.0
        requests = counters["requests"] - earlier["transports"][cell.transport]["requests"]
        seen = requests / seconds * interval
        return seen >= POLL_RATE_SHARE * cell.users, seen
    seen = float(counters["open"])
    if seen >= cell.users:
        return True, seen
    indirect = cell.rtt_ms > 0 or cell.via != "direct"
    if cell.transport == "long_polling" and indirect and first is not None:
        asked = counters["requests"] - first["transports"][cell.transport]["requests"]
        return asked >= 2 * cell.users, seen
    return False, seen


def read_opens(log_dir: Path, until: float) -> list[float]:
    """How long each connection the users opened before `until` took to open, in ms
    (`opens-*.csv`; the ones that failed are left out: they are errors, not openings)."""
    found = []
    for path in sorted(log_dir.glob("opens-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                if record["ok"] == "1" and float(record["started_at"]) <= until:
                    found.append(float(record["open_ms"]))
    return found


def users_answered(log_dir: Path) -> int:
    """How many users opened a connection that worked (`opens-*.csv`)."""
    users: set[str] = set()
    for path in sorted(log_dir.glob("opens-*.csv")):
        with open(path, newline="") as log:
            users.update(r["user"] for r in csv.DictReader(log) if r["ok"] == "1")
    return len(users)


@dataclass(frozen=True)
class Connecting:
    """How a cell's users connected, before its window (or until the deadline passed)."""

    users: int
    """How many the server saw: the cell's users once every one was connected."""
    seconds: float
    """From starting the load generator until then."""
    open_ms: Sequence[float] = ()
    """Each opening before then, in ms (lab.measurement.OPEN_LOG_COLUMNS)."""

    def applied_to(self, summary: CellSummary) -> CellSummary:
        """The summary with its connecting columns filled in."""
        opens = LatencySummary.of(self.open_ms)
        return replace(
            summary,
            users_connected=self.users,
            connect_s=round(self.seconds, 2),
            connect_p50_ms=opens.p50,
            connect_p99_ms=opens.p99,
        )


@dataclass
class CellResult:
    cell: Cell
    summary: CellSummary
    problems: list[str]
    events_rows: list[tuple]
    """This cell's rows of events.csv (every `sample_every`-th delivery in the window)."""
    sample_every: int
    frame_arithmetic: float | None = None
    """SSE and WebSocket: the mean overhead the frame arithmetic predicts for the delivered
    events."""


def measure_cell(
    cell: Cell,
    before: Mapping,
    after: Mapping,
    deliveries: Deliveries,
    client_cpu_percent: float,
    client_errors: int,
    interval_s: float,
    timeout_s: float,
    *,
    client_bytes: int | None = None,
    gateway_timeouts: int | None = None,
) -> CellResult:
    """The cell's summary over the window between two /metrics snapshots.

    The window is bounded by the server's own clock at its two snapshots, so deliveries,
    publishes and bytes are all counted over the same interval. `client_bytes`: what reached
    the clients in the window, when known; `gateway_timeouts`: a proxy's 504s in it.
    """
    window_s = after["time"] - before["time"]
    payloads = deliveries.payload_bytes
    predicted = None
    if payloads:
        predicted = theory.predict(
            cell.transport,
            users=cell.users,
            rate=cell.rate,
            arrivals=cell.arrivals,
            interval_s=cell.interval_s or interval_s,
            timeout_s=cell.timeout_s or timeout_s,
            event_json_bytes=sum(payloads) / len(payloads),
            network_rtt_s=cell.rtt_ms / 1000,
        )
    summary = summarize_cell(
        cell,
        window_s,
        deliveries.latencies_ms,
        payloads,
        deliveries.lost,
        deliveries.repeated,
        counter_delta(before, after, cell.transport),
        client_cpu_percent,
        client_errors,
        predicted,
    )
    summary = replace(
        summary,
        burst_share=deliveries.burst_share,
        mean_batch=deliveries.mean_batch,
        client_bytes_per_event=(
            client_bytes / len(payloads) if client_bytes is not None and payloads else None
        ),
        reconnects=summary.requests if cell.transport in STREAMS else None,
        gateway_timeouts=gateway_timeouts,
    )
    ids, latencies = deliveries.event_ids, deliveries.latencies_ms
    sample_every = max(1, math.ceil(len(ids) / EVENTS_CSV_MAX_ROWS_PER_CELL))
    events_rows = [
        (cell.name, cell.transport, cell.users, event_id, latency)
        for event_id, latency in list(zip(ids, latencies, strict=True))[::sample_every]
    ]
    frame_arithmetic = None
    if cell.transport == "sse" and ids:
        frame_arithmetic = sum(
            theory.sse_frame_overhead(event_id, "tick", size)
            for event_id, size in zip(ids, payloads, strict=True)
        ) / len(ids)
    elif cell.transport == "websocket" and ids:
        frame_arithmetic = sum(theory.websocket_frame_overhead(size) for size in payloads) / len(
            ids
        )
    return CellResult(
        cell, summary, summary.verdict.problems(), events_rows, sample_every, frame_arithmetic
    )


def with_connecting(result: CellResult, connecting: Connecting) -> CellResult:
    """The result with how its users connected; when they did not all connect, its only
    problem is that it was not measured (an empty window says nothing more)."""
    summary = connecting.applied_to(result.summary)
    problems = summary.verdict.problems()
    if not summary.verdict.not_connected:
        problems += [p for p in result.problems if p not in problems]
    return replace(result, summary=summary, problems=problems)


def with_memory_per_user(result: CellResult, idle: dict, after: dict) -> CellResult:
    """The result with the server's memory per user: its RSS at the window's end less its
    RSS before the first user came."""
    grown = after["process"]["rss_bytes"] - idle["process"]["rss_bytes"]
    kb = grown / 1024 / result.cell.users
    return replace(result, summary=replace(result.summary, server_rss_per_user_kb=kb))
