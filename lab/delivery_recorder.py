"""One simulated user's view of the events it receives: latency, id continuity and bytes.

Every delivered event is reported to Locust as a request entry (type "EVENT", name = the
transport) whose response time is its delivery latency, so Locust's UI and CSVs show it.
Gaps and repeats in the ids are reported as failures under "<transport> sequence", apart
from the latency entry. Locust's histogram rounds to two significant digits, so each
delivery is also written to a raw log (one CSV per process) from which the sweep takes
exact percentiles.

Pure of Locust itself: the scenarios hand in Locust's `events.request.fire`, so this can be
tested without starting a load generator.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lab.json_bytes import to_json_bytes
from lab.measurement import (
    EVENT_LOG_COLUMNS,
    OPEN_LOG_COLUMNS,
    READ_LOG_COLUMNS,
    SequenceCheck,
    latency_ms,
)
from lab.names import EVENT_ENTRY, sequence_entry


class EventsLost(Exception):
    pass


class EventsRepeated(Exception):
    pass


class RawLog:
    """A process's raw log (`<kind>-<pid>.csv`); opened lazily, so that each forked worker
    has its own."""

    def __init__(self, kind: str = "deliveries", columns: tuple[str, ...] = EVENT_LOG_COLUMNS):
        self.kind, self.columns = kind, columns
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._pid: int | None = None
        self._closed_in: int | None = None
        self._forward: Callable[[str, list], None] | None = None
        self._unsent: list[tuple] = []
        self.name = f"{kind}-{{pid}}.csv"

    def forward_to(self, send: Callable[[str, list], None]) -> None:
        """Hand the rows to `send(kind, rows)` instead of a file: a Locust worker on another
        machine sends them to its master, which writes them where the sweep reads them."""
        self._forward = send

    def flush(self) -> None:
        """Send the rows kept for forwarding (they go in batches, not one message each)."""
        if self._forward is not None and self._unsent:
            rows, self._unsent = self._unsent, []
            self._forward(self.kind, rows)

    def write(self, folder: str, row: tuple) -> None:
        if not folder or self._closed_in == os.getpid():
            return  # Locust is quitting: users still running deliver after the window
        if self._forward is not None:
            self._unsent.append(row)
            if len(self._unsent) >= FORWARD_BATCH:
                self.flush()
            return
        if self._pid != os.getpid():
            Path(folder).mkdir(parents=True, exist_ok=True)
            path = Path(folder) / self.name.format(pid=os.getpid())
            self._file = open(path, "w", newline="")  # noqa: SIM115 (kept open for the run)
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.columns)
            self._pid = os.getpid()
        self._writer.writerow(row)

    def close(self) -> None:
        self.flush()
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
            self._file = None
            self._pid = None
        self._closed_in = os.getpid()


FORWARD_BATCH = 500
"""Rows a forwarding log sends at once (and at least every FORWARD_EVERY_S)."""
FORWARD_EVERY_S = 0.25

RAW_LOG = RawLog()
READ_LOG = RawLog("reads", READ_LOG_COLUMNS)
"""Streams' reads: bytes as they came off the socket (what a proxy's compression and
framing leave), one row per read."""
OPEN_LOG = RawLog("opens", OPEN_LOG_COLUMNS)
"""Each time a user opened its connection (or, polling, asked for its starting cursor): how
long it took, so that a sweep can say what connecting cost once many users do it at once."""
_user_numbers = itertools.count(1)


class DeliveryRecorder:
    """One simulated user's deliveries: each reported to `fire` (Locust's request event)
    and, when `log_folder` is set, written to the process's raw log."""

    def __init__(
        self,
        fire: Callable[..., Any],
        transport: str,
        log_folder: str = "",
        after: int | None = None,
        raw_log: RawLog = RAW_LOG,
        read_log: RawLog = READ_LOG,
        open_log: RawLog = OPEN_LOG,
    ) -> None:
        self.fire = fire
        self.transport = transport
        self.user = f"{os.getpid()}-{next(_user_numbers)}"
        self.sequence = SequenceCheck(after)
        self.bytes_received = 0
        self.log_folder = log_folder
        self.raw_log = raw_log
        self.read_log = read_log
        self.open_log = open_log

    def start_after(self, cursor: int) -> None:
        """The client now knows its starting cursor (the first id it must see is cursor + 1)."""
        self.sequence = SequenceCheck(cursor)

    def received_bytes(self, count: int, received_at: float | None = None) -> None:
        """`count` bytes arrived; with `received_at`, a read off the socket (head or body,
        as on the wire), logged."""
        self.bytes_received += count
        if received_at is not None:
            self.read_log.write(self.log_folder, (f"{received_at:.6f}", self.user, count))

    def opened(self, started_at: float, open_ms: float, ok: bool) -> None:
        """The user's connection opened (`ok`) or failed to, `open_ms` after it started at
        `started_at` (this client's wall clock, seconds): a stream's time to its response
        head, a WebSocket's to its 101, a poller's whole first request."""
        self.open_log.write(
            self.log_folder, (f"{started_at:.6f}", self.user, f"{open_ms:.3f}", int(ok))
        )

    def delivered(self, event: dict, received_at: float, event_bytes: int | None = None) -> None:
        """Record one event received at `received_at` (this client's wall clock, seconds);
        `event_bytes` is its JSON size (encoded the server's way when not given)."""
        if event_bytes is None:
            event_bytes = len(to_json_bytes(event))
        latency = latency_ms(received_at, event["ts"])
        self.fire(
            request_type=EVENT_ENTRY,
            name=self.transport,
            response_time=latency,
            response_length=event_bytes,
            exception=None,
            context={},
        )
        lost, repeated = self.sequence.see(event["id"])
        if lost:
            self._sequence_failure(EventsLost(f"{lost} event(s) lost before id {event['id']}"))
        if repeated:
            self._sequence_failure(EventsRepeated(f"event {event['id']} received again"))
        self.raw_log.write(
            self.log_folder,
            (f"{received_at:.6f}", self.user, event["id"], f"{latency:.3f}", event_bytes),
        )

    def _sequence_failure(self, error: Exception) -> None:
        self.fire(
            request_type=EVENT_ENTRY,
            name=sequence_entry(self.transport),
            response_time=0,
            response_length=0,
            exception=error,
            context={},
        )


def take_batch(answer: dict, recorder: DeliveryRecorder, received_at: float) -> int:
    """Record a poll answer's events; return the next cursor.

    An answer that says the server restarted starts the id sequence again at its first
    event (its ids began at 1 again), so that is not counted as repeats.
    """
    events = answer["events"]
    if answer.get("restarted") and events:
        recorder.start_after(events[0]["id"] - 1)
    for event in events:
        recorder.delivered(event, received_at)
    return answer["last_id"]
