"""lab.delivery_recorder: what one simulated user records, checked against hand-made events.

`fire` stands in for Locust's request event: the recorder's only link to Locust.
"""

from __future__ import annotations

import csv

import pytest

from lab.delivery_recorder import DeliveryRecorder, EventsLost, EventsRepeated, RawLog, take_batch


class Entries(list):
    """What the recorder reported, as Locust would receive it."""

    def __call__(self, **entry) -> None:
        self.append(entry)

    def latencies(self) -> list[float]:
        return [
            e["response_time"]
            for e in self
            if e["request_type"] == "EVENT" and e["exception"] is None
        ]

    def failures(self) -> list[Exception]:
        return [e["exception"] for e in self if e["exception"] is not None]


def event(event_id: int, ts: float) -> dict:
    return {"id": event_id, "ts": ts, "type": "tick", "data": {"n": event_id}}


@pytest.fixture
def recorded(tmp_path):
    entries = Entries()
    log = RawLog()
    recorder = DeliveryRecorder(entries, "sse", str(tmp_path), after=9, raw_log=log)
    yield recorder, entries, log, tmp_path
    log.close()


def test_latency_is_receipt_minus_publish_in_milliseconds_and_positive(recorded):
    recorder, entries, _log, _dir = recorded
    recorder.delivered(event(10, 100.000), received_at=100.0025)
    recorder.delivered(event(11, 100.100), received_at=100.1125)
    assert entries.latencies() == pytest.approx([2.5, 12.5])
    assert [e["name"] for e in entries] == ["sse", "sse"]


def test_one_lost_event_is_one_failure_saying_one(recorded):
    recorder, entries, _log, _dir = recorded
    for event_id in (10, 11, 13):  # 12 never came
        recorder.delivered(event(event_id, 1.0), received_at=1.001)
    (failure,) = entries.failures()
    assert isinstance(failure, EventsLost) and str(failure) == "1 event(s) lost before id 13"
    assert entries[-1]["name"] == "sse sequence"
    assert (recorder.sequence.lost, recorder.sequence.repeated) == (1, 0)


def test_a_first_event_after_the_cursor_that_never_came_is_lost(recorded):
    recorder, entries, _log, _dir = recorded
    recorder.delivered(event(11, 1.0), received_at=1.001)  # after 9, so 10 is missing
    assert recorder.sequence.lost == 1 and len(entries.failures()) == 1


def test_a_repeat_is_one_failure(recorded):
    recorder, entries, _log, _dir = recorded
    for event_id in (10, 11, 11, 12):
        recorder.delivered(event(event_id, 1.0), received_at=1.001)
    (failure,) = entries.failures()
    assert isinstance(failure, EventsRepeated) and "event 11" in str(failure)
    assert (recorder.sequence.lost, recorder.sequence.repeated) == (0, 1)
    assert len(entries.latencies()) == 4, "a repeated event still has a latency"


def test_event_bytes_are_the_server_s_encoding_unless_given(recorded):
    recorder, entries, _log, _dir = recorded
    recorder.delivered(event(10, 1.5), received_at=1.6)
    recorder.delivered(event(11, 1.5), received_at=1.6, event_bytes=999)
    # {"id":10,"ts":1.5,"type":"tick","data":{"n":10}}
    assert [e["response_length"] for e in entries] == [48, 999]


def test_bytes_received_add_up(recorded):
    recorder, *_ = recorded
    recorder.received_bytes(100)
    recorder.received_bytes(23)
    assert recorder.bytes_received == 123


def test_every_delivery_is_written_to_the_raw_log(recorded):
    recorder, _entries, log, folder = recorded
    recorder.delivered(event(10, 100.0), received_at=100.0125, event_bytes=90)
    recorder.delivered(event(11, 100.5), received_at=100.503, event_bytes=91)
    log.close()
    (path,) = folder.glob("deliveries-*.csv")
    rows = list(csv.DictReader(path.open()))
    assert [(r["event_id"], r["latency_ms"], r["event_bytes"]) for r in rows] == [
        ("10", "12.500", "90"),
        ("11", "3.000", "91"),
    ]
    assert rows[0]["received_at"] == "100.012500" and rows[0]["user"] == recorder.user


def test_a_poll_answer_is_recorded_and_gives_the_next_cursor(recorded):
    recorder, entries, _log, _dir = recorded
    answer = {"events": [event(10, 1.0), event(11, 1.0)], "last_id": 11}
    assert take_batch(answer, recorder, received_at=1.002) == 11
    assert len(entries.latencies()) == 2 and entries.failures() == []


def test_after_a_restart_the_sequence_starts_again_without_counting_repeats(recorded):
    recorder, entries, _log, _dir = recorded
    take_batch({"events": [event(10, 1.0)], "last_id": 10}, recorder, 1.001)
    restarted = {
        "events": [event(1, 2.0), event(2, 2.0)],
        "last_id": 2,
        "gap": True,
        "restarted": True,
    }
    assert take_batch(restarted, recorder, 2.001) == 2
    assert entries.failures() == []


def test_deliveries_after_the_log_is_closed_leave_it_whole(tmp_path):
    """Locust closes the log when it starts quitting, while users still deliver: those
    late deliveries must not reopen (and empty) the file."""
    log = RawLog()
    recorder = DeliveryRecorder(Entries(), "sse", str(tmp_path), raw_log=log)
    recorder.delivered(event(1, 1.0), received_at=1.01)
    log.close()
    recorder.delivered(event(2, 1.0), received_at=1.02)
    log.close()
    (path,) = tmp_path.glob("deliveries-*.csv")
    assert [r["event_id"] for r in csv.DictReader(path.open())] == ["1"]


def test_sequence_failures_are_not_latencies(recorded):
    recorder, entries, _log, _dir = recorded
    for event_id in (10, 12, 12):
        recorder.delivered(event(event_id, 1.0), received_at=1.5)
    failures = [e for e in entries if e["exception"] is not None]
    assert len(failures) == 2
    assert all(f["response_time"] == 0 and f["response_length"] == 0 for f in failures)


def test_a_gap_between_two_poll_answers_is_lost(recorded):
    recorder, entries, _log, _dir = recorded
    take_batch({"events": [event(10, 1.0), event(11, 1.0)], "last_id": 11}, recorder, 1.1)
    take_batch({"events": [event(13, 1.0)], "last_id": 13}, recorder, 1.2)
    assert recorder.sequence.lost == 1 and len(entries.failures()) == 1


def test_the_log_folder_is_made_when_missing_and_closing_an_unused_log_is_harmless(tmp_path):
    RawLog().close()
    folder = tmp_path / "run" / "deliveries"
    log = RawLog()
    DeliveryRecorder(Entries(), "sse", str(folder), raw_log=log).delivered(event(1, 1.0), 1.1)
    log.close()
    assert len(list(folder.glob("deliveries-*.csv"))) == 1


def test_a_forked_worker_never_closes_its_parent_s_log(tmp_path, monkeypatch):
    import os

    log = RawLog()
    DeliveryRecorder(Entries(), "sse", str(tmp_path), raw_log=log).delivered(event(1, 1.0), 1.1)
    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)  # as in a child after fork
    log.close()
    assert log._file is not None and not log._file.closed
    monkeypatch.setattr(os, "getpid", lambda: parent)
    log.close()
    assert log._file is None


def test_each_opening_is_logged_with_its_start_its_time_and_whether_it_worked(tmp_path):
    opens = RawLog("opens", ("started_at", "user", "open_ms", "ok"))
    recorder = DeliveryRecorder(Entries(), "sse", str(tmp_path), open_log=opens)
    recorder.opened(100.0, 2.5, ok=True)
    recorder.opened(101.25, 900.0, ok=False)
    opens.close()
    (path,) = tmp_path.glob("opens-*.csv")
    with open(path, newline="") as log:
        rows = list(csv.DictReader(log))
    assert [(r["started_at"], r["open_ms"], r["ok"]) for r in rows] == [
        ("100.000000", "2.500", "1"),
        ("101.250000", "900.000", "0"),
    ]
    assert {r["user"] for r in rows} == {recorder.user}
