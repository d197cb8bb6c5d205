"""What the three Locust scenarios share: their options, and the glue between Locust and
the lab's delivery recorder (lab.delivery_recorder), which does the measuring.

A poller's first request (learning the cursor) is its opening, logged as a stream's is.

Options: --poll-interval, --longpoll-timeout, --reconnect-after (a stream's wait before it
reconnects), and --events-log DIR (the raw per-delivery logs the sweep reads, one CSV per
process).
"""

from __future__ import annotations

import os
import re
import time
from urllib.parse import urlsplit

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from lab.delivery_recorder import (
    FORWARD_EVERY_S,
    OPEN_LOG,
    RAW_LOG,
    READ_LOG,
    DeliveryRecorder,
    RawLog,
)
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
        "--reconnect-after",
        type=float,
        default=0.0,
        help="seconds a stream or socket client waits before reconnecting after its "
        "connection ended, as a browser waits (default %(default)s)",
    )
    parser.add_argument(
        "--events-log",
        default="",
        help="folder for raw per-delivery logs, one CSV per process (default: none)",
    )


RAW_LOGS = (RAW_LOG, READ_LOG, OPEN_LOG)
FORWARD_LOGS = "LAB_FORWARD_LOGS"
"""Set by `lab locust-worker`: this worker's machine is not the master's, so its raw logs
go to the master as messages rather than into files the sweep cannot see."""
ROWS_MESSAGE = "lab_raw_rows"


@events.init.add_listener
def gather_raw_logs_on_the_master(environment, **_kwargs) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        writers: dict[tuple[str, str], RawLog] = {}
        columns = {log.kind: log.columns for log in RAW_LOGS}

        def write_rows(environment, msg, **_kwargs) -> None:
            folder = getattr(environment.parsed_options, "events_log", "")
            kind, node = msg.data["kind"], re.sub(r"[^A-Za-z0-9_.-]", "_", str(msg.node_id))
            writer = writers.get((kind, node))
            if writer is None:
                writer = writers[kind, node] = RawLog(kind, columns[kind])
                writer.name = f"{kind}-{node}.csv"
            for row in msg.data["rows"]:
                writer.write(folder, tuple(row))

        runner.register_message(ROWS_MESSAGE, write_rows)
        events.quitting.add_listener(lambda **_: [w.close() for w in writers.values()])
    elif isinstance(runner, WorkerRunner) and os.environ.get(FORWARD_LOGS):

        def send(kind: str, rows: list) -> None:
            runner.send_message(ROWS_MESSAGE, {"kind": kind, "rows": rows})

        def flush_now_and_then() -> None:
            while True:
                gevent.sleep(FORWARD_EVERY_S)
                for log in RAW_LOGS:
                    log.flush()

        for log in RAW_LOGS:
            log.forward_to(send)
        gevent.spawn(flush_now_and_then)


@events.quitting.add_listener
def close_raw_logs(**_kwargs) -> None:
    for log in RAW_LOGS:
        log.close()


def recorder_for(environment, transport: str) -> DeliveryRecorder:
    """A user's recorder, reporting to this Locust run (and its --events-log folder)."""
    options = environment.parsed_options
    folder = getattr(options, "events_log", "") if options else ""
    return DeliveryRecorder(environment.events.request.fire, transport, folder)


def learn_cursor(client, recorder: DeliveryRecorder) -> tuple[int | None, str]:
    """Start live: ask /poll without a cursor for the newest id (no history is replayed).

    Returns the cursor and the server run's epoch, which every later poll sends back so
    that a restarted server can say so.
    """
    started_at, started = now(), time.perf_counter()
    response = client.get("/poll", name="/poll (start)")
    ok = response.status_code == 200
    recorder.opened(started_at, (time.perf_counter() - started) * 1000, ok)
    if not ok:
        back_off(response)
        return None, ""
    answer = response.json()
    recorder.start_after(answer["last_id"])
    return answer["last_id"], answer.get("epoch", "")


def back_off(response) -> None:
    """After an error, wait as the server asks (Retry-After) or a second, never spin."""
    retry_after = (response.headers or {}).get("Retry-After", "") if response else ""
    gevent.sleep(float(retry_after) if retry_after.isdigit() else 1.0)


def socket_target(host: str) -> tuple[tuple[str, int], str]:
    """Where a plain-socket client connects for Locust's --host, and its Host header."""
    address = urlsplit(host)
    return (address.hostname or "127.0.0.1", address.port or 80), address.netloc


def now() -> float:
    """The client's wall clock, the same clock the server stamps events with."""
    return time.time()
