"""Client-side measurement shared by the three Locust scenarios.

Every received event becomes a Locust entry (request_type "EVENT", name = the transport) whose
response time is its delivery latency, so Locust's UI and CSVs show it. Locust's histogram
rounds to two significant digits, so each delivery is also written to a raw log
(`--events-log DIR`, one CSV per process) from which the sweep takes exact percentiles.

Gaps and repeats in the id sequence are fired as failures under "<transport> sequence", kept
apart from the latency entry so that they do not count as latencies.
"""

from __future__ import annotations

import csv
import itertools
import os
import time
from pathlib import Path

import gevent
from locust import events

from lab.json_bytes import to_json_bytes
from lab.measurement import EVENT_LOG_COLUMNS, SequenceCheck, latency_ms
from lab.names import EVENT_ENTRY, sequence_entry
from lab.sweep_plan import LONGPOLL_TIMEOUT_S, POLL_INTERVAL_S


@events.init_command_line_parser.add_listener
def add_options(parser) -> None:
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=POLL_INTERVAL_S,
        help="seconds between short polls (default %(default)s)",
    )
    parser.add_argument(
        "--longpoll-timeout",
        type=float,
        default=LONGPOLL_TIMEOUT_S,
        help="seconds the server may hold a long poll (default %(default)s)",
    )
    parser.add_argument(
        "--events-log",
        default="",
        help="folder for raw per-delivery logs, one CSV per process (default: none)",
    )


class EventsLost(Exception):
    pass


class EventsRepeated(Exception):
    pass


class _RawLog:
    """This process's raw delivery log; opened lazily so that each forked worker has its own."""

    def __init__(self) -> None:
        self._file = None
        self._writer = None
        self._pid = None

    def write(self, folder: str, row: tuple) -> None:
        if not folder:
            return
        if self._pid != os.getpid():
            Path(folder).mkdir(parents=True, exist_ok=True)
            self._file = open(Path(folder) / f"deliveries-{os.getpid()}.csv", "w", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(EVENT_LOG_COLUMNS)
            self._pid = os.getpid()
        self._writer.writerow(row)

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
            self._file = None
            self._pid = None


RAW_LOG = _RawLog()
_user_numbers = itertools.count(1)


@events.quitting.add_listener
def close_raw_log(**_kwargs) -> None:
    RAW_LOG.close()


class DeliveryRecorder:
    """One simulated user's view: latency per event, id continuity and bytes received."""

    def __init__(self, environment, transport: str, after: int | None = None) -> None:
        self.environment = environment
        self.transport = transport
        self.user = f"{os.getpid()}-{next(_user_numbers)}"
        self.sequence = SequenceCheck(after)
        self.bytes_received = 0
        options = environment.parsed_options
        self._log_folder = getattr(options, "events_log", "") if options else ""

    def start_after(self, cursor: int) -> None:
        """The client now knows its starting cursor (the first id it must see is cursor + 1)."""
        self.sequence = SequenceCheck(cursor)

    def received_bytes(self, count: int) -> None:
        self.bytes_received += count

    def delivered(self, event: dict, received_at: float, event_bytes: int | None = None) -> None:
        """Record one event; `event_bytes` is its JSON size (re-encoded the server's way if
        not given, which gives the same bytes)."""
        if event_bytes is None:
            event_bytes = len(to_json_bytes(event))
        latency = latency_ms(received_at, event["ts"])
        fire = self.environment.events.request.fire
        fire(
            request_type=EVENT_ENTRY,
            name=self.transport,
            response_time=latency,
            response_length=event_bytes,
            exception=None,
            context={},
        )
        lost, repeated = self.sequence.see(event["id"])
        if lost:
            fire(
                request_type=EVENT_ENTRY,
                name=sequence_entry(self.transport),
                response_time=0,
                response_length=0,
                context={},
                exception=EventsLost(f"{lost} event(s) lost before id {event['id']}"),
            )
        if repeated:
            fire(
                request_type=EVENT_ENTRY,
                name=sequence_entry(self.transport),
                response_time=0,
                response_length=0,
                context={},
                exception=EventsRepeated(f"event {event['id']} received again"),
            )
        RAW_LOG.write(
            self._log_folder,
            (f"{received_at:.6f}", self.user, event["id"], f"{latency:.3f}", event_bytes),
        )


def learn_cursor(client, recorder: DeliveryRecorder) -> tuple[int | None, str]:
    """Start live: ask /poll without a cursor for the newest id (no history is replayed).

    Returns the cursor and the server run's epoch, which every later poll sends back so
    that a restarted server can say so.
    """
    response = client.get("/poll", name="/poll (start)")
    if response.status_code != 200:
        back_off(response)
        return None, ""
    answer = response.json()
    recorder.start_after(answer["last_id"])
    return answer["last_id"], answer.get("epoch", "")


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


def back_off(response) -> None:
    """After an error, wait as the server asks (Retry-After) or a second, never spin."""
    retry_after = (response.headers or {}).get("Retry-After", "") if response else ""
    gevent.sleep(float(retry_after) if retry_after.isdigit() else 1.0)


def now() -> float:
    """The client's wall clock, the same clock the server stamps events with."""
    return time.time()
