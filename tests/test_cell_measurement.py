"""lab.cell_measurement: a cell's figures from the files a run leaves, with hand-made files.

The fixture: two users' raw logs, a window from t=100 to t=110 (server clock), a known gap,
a known repeat and known latencies; Locust failures with and without sequence entries.
"""

from __future__ import annotations

import csv

import pytest

from lab.cell_measurement import (
    Deliveries,
    count_client_errors,
    is_gateway_timeout,
    measure_cell,
    read_deliveries,
    read_stream_bytes,
    users_answered,
)
from lab.measurement import Cell

LOG_HEADER = ("received_at", "user", "event_id", "latency_ms", "event_bytes")


def write_log(folder, pid: int, rows) -> None:
    with open(folder / f"deliveries-{pid}.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(LOG_HEADER)
        writer.writerows(rows)


@pytest.fixture
def logs(tmp_path):
    # User a: ids 1, 2, 4 (3 lost), all in the window but the first.
    write_log(
        tmp_path, 1, [(99.5, "a", 1, 4.0, 90), (101.0, "a", 2, 5.0, 90), (105.0, "a", 4, 7.0, 91)]
    )
    # User b: ids 1, 2, 2 (repeated), 3; the last after the window.
    write_log(
        tmp_path,
        2,
        [
            (100.0, "b", 1, 1.0, 90),
            (102.0, "b", 2, 2.0, 90),
            (102.5, "b", 2, 3.0, 90),
            (110.5, "b", 3, 9.0, 90),
        ],
    )
    return tmp_path


def test_the_window_holds_what_arrived_between_its_ends(logs):
    found = read_deliveries(logs, start=100.0, end=110.0)
    # Both ends count: b's first delivery (t=100.0) is in; a's (99.5) and b's last are out.
    assert sorted(found.latencies_ms) == [1.0, 2.0, 3.0, 5.0, 7.0]
    assert sorted(found.payload_bytes) == [90, 90, 90, 90, 91]
    assert sorted(found.event_ids) == [1, 2, 2, 2, 4]


def test_lost_and_repeated_are_counted_over_the_whole_run(logs):
    found = read_deliveries(logs, start=100.0, end=110.0)
    assert (found.lost, found.repeated) == (1, 1)


def test_no_logs_no_deliveries(tmp_path):
    found = read_deliveries(tmp_path, 0, 1)
    assert (found.latencies_ms, found.lost, found.repeated) == ([], 0, 0)


def test_client_errors_leave_out_the_sequence_entries(tmp_path):
    failures = tmp_path / "cell_failures.csv"
    failures.write_text(
        "Method,Name,Error,Occurrences\n"
        "GET,/poll,HTTPError('503'),3\n"
        "EVENT,sse sequence,EventsLost('1 event(s) lost'),2\n"
        "GET,/sse,ConnectionError(),4\n"
    )
    assert count_client_errors(failures) == 7
    assert count_client_errors(tmp_path / "missing.csv") == 0


def snapshot(time_s, requests, bytes_in, bytes_out, sent, cpu, last_id, ok=0):
    counters = {
        "requests": requests,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "events_sent": sent,
        "empty_responses": 0,
        "responses": {"200": ok},
    }
    return {
        "time": time_s,
        "transports": {"sse": counters},
        "process": {"cpu_s": cpu},
        "source": {"last_id": last_id},
    }


def test_a_cell_is_measured_over_the_server_s_own_window(logs):
    before = snapshot(100.0, 2, 400, 1000, 0, 10.0, 0, ok=2)
    after = snapshot(110.0, 2, 400, 1000 + 5 * 130, 5, 10.005, 5, ok=2)
    cell = Cell("sse", users=2, rate=0.5)
    result = measure_cell(
        cell,
        before,
        after,
        read_deliveries(logs, 100.0, 110.0),
        client_cpu_percent=12.0,
        client_errors=0,
        interval_s=1,
        timeout_s=25,
    )
    row = result.summary
    assert row.duration_s == 10.0
    assert row.events_published == 5 and row.events_expected == 10
    assert row.events_received == 5 and (row.events_lost, row.events_repeated) == (1, 1)
    assert row.latency_p50_ms == 3.0 and row.latency_max_ms == 7.0
    assert row.latency_mean_ms == pytest.approx(3.6)
    assert row.requests == 0 and row.bytes_out == 650 and row.bytes_per_event == 130.0
    assert row.payload_bytes_per_event == pytest.approx(90.2)
    assert row.server_cpu_us_per_event == pytest.approx(1000.0)
    assert row.verdict.problems() == ["1 events lost", "1 events repeated"]
    assert [r[3] for r in result.events_rows] == [2, 4, 1, 2, 2]
    # the frame arithmetic for ids 2, 4, 1, 2, 2 at 90-91 bytes, done by hand: "id: N@k3x9\n"
    # 11 + "event: tick\n" 12 + "data: " 6 + "\n\n" 2 = 31 + JSON (121 or 122 = 0x79, 0x7a)
    # + "79\r\n" 4 + "\r\n" 2: 37 bytes beyond the JSON for each
    assert result.frame_arithmetic == pytest.approx(37.0)


def test_sample_every_keeps_events_csv_small(logs, monkeypatch):
    import lab.cell_measurement as cell_measurement

    monkeypatch.setattr(cell_measurement, "EVENTS_CSV_MAX_ROWS_PER_CELL", 2)
    before = snapshot(100.0, 0, 0, 0, 0, 1.0, 0)
    after = snapshot(110.0, 0, 0, 650, 5, 1.0, 5)
    result = measure_cell(
        Cell("sse", 2, 0.5), before, after, read_deliveries(logs, 100.0, 110.0), 1.0, 0, 1, 25
    )
    assert result.sample_every == 3 and len(result.events_rows) == 2


def metrics_at(time_s: float, transport: str, open_: int = 0, requests: int = 0) -> dict:
    return {"time": time_s, "transports": {transport: {"open": open_, "requests": requests}}}


@pytest.mark.parametrize(
    ("cell", "earlier", "later", "ok", "seen"),
    [
        (Cell("sse", 100, 1.0), metrics_at(0, "sse"), metrics_at(1, "sse", open_=100), True, 100),
        (Cell("sse", 100, 1.0), metrics_at(0, "sse"), metrics_at(1, "sse", open_=99), False, 99),
        (
            Cell("websocket", 100, 1.0),
            metrics_at(0, "websocket"),
            metrics_at(1, "websocket", open_=100),
            True,
            100,
        ),
        # every long poll held, not nearly every one
        (
            Cell("long_polling", 100, 1.0),
            metrics_at(0, "long_polling"),
            metrics_at(1, "long_polling", open_=100),
            True,
            100,
        ),
        (
            Cell("long_polling", 100, 1.0),
            metrics_at(0, "long_polling"),
            metrics_at(1, "long_polling", open_=99, requests=1000),
            False,
            99,
        ),
        # 100 users every 2 s: 50 requests/s once all are in; 96 in 2 s is 96 users' worth
        (
            Cell("short_polling", 100, 1.0, interval_s=2.0),
            metrics_at(10, "short_polling", 0, 4),
            metrics_at(12, "short_polling", 0, 100),
            True,
            96,
        ),
        (
            Cell("short_polling", 100, 1.0, interval_s=2.0),
            metrics_at(10, "short_polling", 0, 4),
            metrics_at(12, "short_polling", 0, 80),
            False,
            76,
        ),
        # exactly 95% of the users' polls (the jitter's allowance): connected; 94%: not yet
        (
            Cell("short_polling", 100, 1.0, interval_s=2.0),
            metrics_at(10, "short_polling", 0, 0),
            metrics_at(12, "short_polling", 0, 95),
            True,
            95,
        ),
        (
            Cell("short_polling", 100, 1.0, interval_s=2.0),
            metrics_at(10, "short_polling", 0, 0),
            metrics_at(12, "short_polling", 0, 94),
            False,
            94,
        ),
        # less than an interval apart: too soon to tell
        (
            Cell("short_polling", 100, 1.0, interval_s=2.0),
            metrics_at(10, "short_polling", 0, 0),
            metrics_at(11, "short_polling", 0, 100),
            False,
            0,
        ),
    ],
)
def test_users_are_connected_when_the_server_sees_them_all(cell, earlier, later, ok, seen):
    from lab.cell_measurement import users_connected

    assert users_connected(cell, earlier, later, interval_s=1.0) == (ok, pytest.approx(seen))


def test_a_delivery_exactly_at_the_window_s_end_is_inside(tmp_path):
    write_log(tmp_path, 1, [(100.0, "a", 1, 1.0, 90), (110.0, "a", 2, 2.0, 90)])
    assert read_deliveries(tmp_path, start=100.0, end=110.0).latencies_ms == [1.0, 2.0]


def test_nothing_delivered_is_nothing_lost():
    before = snapshot(100.0, 0, 0, 0, 0, 1.0, 0)
    after = snapshot(110.0, 0, 0, 0, 0, 1.0, 0)
    result = measure_cell(Cell("sse", 1, 1.0), before, after, Deliveries(), 1.0, 0, 1, 25)
    row = result.summary
    assert (row.events_lost, row.events_repeated, row.events_received) == (0, 0, 0)
    assert result.frame_arithmetic is None and result.events_rows == []


def poll_snapshot(time_s, requests, sent, last_id):
    counters = {
        "requests": requests,
        "bytes_in": 0,
        "bytes_out": 0,
        "events_sent": sent,
        "empty_responses": 0,
        "responses": {"200": requests},
    }
    return {
        "time": time_s,
        "transports": {"short_polling": counters},
        "process": {"cpu_s": 1.0},
        "source": {"last_id": last_id},
    }


def test_the_theory_is_asked_with_the_cell_s_own_interval_and_payload(tmp_path):
    write_log(tmp_path, 1, [(101.0, "a", 1, 500.0, 100), (103.0, "a", 2, 500.0, 110)])
    cell = Cell("short_polling", users=10, rate=1.0, interval_s=2.0)
    result = measure_cell(
        cell,
        poll_snapshot(100.0, 0, 0, 0),
        poll_snapshot(110.0, 50, 20, 2),
        read_deliveries(tmp_path, 100.0, 110.0),
        5.0,
        0,
        interval_s=1.0,
        timeout_s=25.0,
    )
    row = result.summary
    # users / the cell's 2 s interval; JSON 105 bytes on average + 1 + 320 / (1 x 2) events
    assert row.theory_requests_per_s == 5.0
    assert row.theory_bytes_per_event == pytest.approx(105 + 1 + 160)
    assert result.frame_arithmetic is None, "only SSE cells have frame arithmetic"


def test_more_deliveries_than_events_csv_keeps_are_sampled(tmp_path):
    from lab.cell_measurement import EVENTS_CSV_MAX_ROWS_PER_CELL

    count = EVENTS_CSV_MAX_ROWS_PER_CELL + 1
    write_log(tmp_path, 1, [(101.0, "a", i, 1.0, 90) for i in range(1, count + 1)])
    before = snapshot(100.0, 0, 0, 0, 0, 1.0, 0)
    after = snapshot(110.0, 0, 0, 0, count, 1.0, count)
    result = measure_cell(
        Cell("sse", 1, 1.0), before, after, read_deliveries(tmp_path, 100.0, 110.0), 1.0, 0, 1, 25
    )
    assert result.sample_every == 2 and len(result.events_rows) == (count + 1) // 2
    assert len(result.events_rows) <= EVENTS_CSV_MAX_ROWS_PER_CELL


def test_a_long_poll_cell_asks_the_theory_with_its_own_timeout(tmp_path):
    write_log(tmp_path, 1, [(101.0, "a", 1, 1.0, 95)])
    cell = Cell("long_polling", users=10, rate=0.1, arrivals="poisson", timeout_s=5.0)
    before = {
        "time": 100.0,
        "process": {"cpu_s": 1.0},
        "source": {"last_id": 0},
        "transports": {
            "long_polling": {
                "requests": 0,
                "bytes_in": 0,
                "bytes_out": 0,
                "events_sent": 0,
                "empty_responses": 0,
                "responses": {},
            }
        },
    }
    after = {**before, "time": 110.0}
    result = measure_cell(
        cell,
        before,
        after,
        read_deliveries(tmp_path, 100.0, 110.0),
        1.0,
        0,
        interval_s=1.0,
        timeout_s=25.0,
    )
    # λ = 0.1/s, τ = 5 s, rtt 2 ms: 1 / (0.002 + e^(−0.0002)(1 − e^(−0.5))/0.1) = 0.2540711
    # requests/s per user (worked out in tests/test_theory.py), for 10 users
    assert result.summary.theory_requests_per_s == pytest.approx(2.540711, rel=1e-6)


def test_long_polls_across_a_round_trip_count_by_their_requests():
    from lab.cell_measurement import users_connected

    cell = Cell("long_polling", 100, 1.0, rtt_ms=200.0)
    first = {"time": 0, "transports": {"long_polling": {"open": 0, "requests": 10}}}
    later = {"time": 5, "transports": {"long_polling": {"open": 70, "requests": 210}}}
    assert users_connected(cell, first, later, 1.0, first) == (True, 70)
    fewer = {"time": 5, "transports": {"long_polling": {"open": 70, "requests": 150}}}
    assert users_connected(cell, first, fewer, 1.0, first) == (False, 70)
    # On loopback nothing is on its way back: only every poll held counts.
    direct = Cell("long_polling", 100, 1.0)
    assert users_connected(direct, first, later, 1.0, first) == (False, 70)


def write_opens(folder, pid: int, rows) -> None:
    with open(folder / f"opens-{pid}.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("started_at", "user", "open_ms", "ok"))
        writer.writerows(rows)


def test_openings_before_the_window_count_and_failures_do_not(tmp_path):
    from lab.cell_measurement import read_opens

    write_opens(tmp_path, 1, [(99.0, "a", 2.5, 1), (99.5, "b", 900.0, 0)])
    write_opens(tmp_path, 2, [(99.9, "c", 4.5, 1), (105.0, "c", 3.0, 1)])  # a reconnection
    assert sorted(read_opens(tmp_path, until=100.0)) == [2.5, 4.5]
    assert read_opens(tmp_path / "nothing", until=100.0) == []


def test_connecting_fills_its_columns():
    from lab.cell_measurement import Connecting, with_connecting

    before = snapshot(100.0, 0, 0, 0, 0, 1.0, 0)
    after = snapshot(110.0, 0, 0, 0, 0, 1.0, 0)
    result = measure_cell(Cell("sse", 3, 1.0), before, after, Deliveries(), 1.0, 0, 1, 25)
    row = with_connecting(result, Connecting(3, 2.345, [1.0, 2.0, 3.0])).summary
    assert (row.users_connected, row.connect_s) == (3, 2.35)
    assert (row.connect_p50_ms, row.connect_p99_ms) == (2.0, pytest.approx(2.98))
    assert not row.verdict.not_connected


def test_a_cell_whose_users_never_all_connected_is_flagged_not_measured():
    from lab.cell_measurement import Connecting, with_connecting

    # The deadline passed: the window is empty (one snapshot at both ends).
    stopped = snapshot(100.0, 5, 0, 0, 0, 1.0, 3)
    result = measure_cell(Cell("sse", 100, 1.0), stopped, stopped, Deliveries(), 0.0, 0, 1, 25)
    result = with_connecting(result, Connecting(87, 62.0, [5.0]))
    row = result.summary
    assert row.duration_s == 0 and row.events_received == 0 and row.requests == 0
    assert row.latency_p50_ms is row.latency_p99_ms is row.bytes_per_event is None
    assert row.verdict.not_connected and row.verdict.flag == "lost"
    assert result.problems == [
        "only 87 of 100 users were connected when the deadline passed: not measured, so it "
        "has no latency or cost figures"
    ]
    assert row.verdict.short() == "87 of 100 connected, not measured"


@pytest.mark.parametrize(
    ("rows", "burst_share", "mean_batch"),
    [
        # One user, three reads of one event each: no bursts.
        ([(101.0, "a", 1), (102.0, "a", 2), (103.0, "a", 3)], 0.0, 1.0),
        # Three events in one read, then one alone: 3 of 4 came with another.
        ([(101.0, "a", 1), (101.0, "a", 2), (101.0, "a", 3), (104.0, "a", 4)], 0.75, 2.0),
        # The same moment at two users is two reads, not a burst.
        ([(101.0, "a", 1), (101.0, "b", 1)], 0.0, 1.0),
        # A burst that straddles the window's start counts only its part inside.
        ([(99.0, "a", 1), (99.0, "a", 2), (101.0, "a", 3)], 0.0, 1.0),
    ],
)
def test_bursts_are_events_that_came_in_the_same_read(tmp_path, rows, burst_share, mean_batch):
    write_log(tmp_path, 1, [(f"{t:.6f}", user, i, 1.0, 90) for t, user, i in rows])
    found = read_deliveries(tmp_path, 100.0, 110.0)
    assert found.burst_share == burst_share
    assert found.mean_batch == mean_batch


def test_no_deliveries_means_no_burst_figures(tmp_path):
    found = read_deliveries(tmp_path, 100.0, 110.0)
    assert found.burst_share is None and found.mean_batch is None


def test_stream_bytes_are_summed_inside_the_window(tmp_path):
    with open(tmp_path / "reads-7.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("received_at", "user", "bytes"))
        writer.writerows([(99.9, "a", 500), (100.0, "a", 120), (109.0, "b", 80), (110.1, "a", 9)])
    assert read_stream_bytes(tmp_path, 100.0, 110.0) == 200


@pytest.mark.parametrize(
    ("error", "is_504"),
    [
        ("LocustBadStatusCode(code=504)", True),
        ("HTTPError('504 Server Error: Gateway Time-out for url: /longpoll')", True),
        ("LocustBadStatusCode(code=503)", False),
        ("TimeoutError('timed out')", False),
        ("ConnectionRefusedError(111, 'Connection refused')", False),
    ],
)
def test_gateway_timeouts_are_told_apart_from_other_failures(error, is_504):
    assert is_gateway_timeout(error) is is_504


def test_a_proxy_s_504s_are_not_counted_as_errors(tmp_path):
    failures = tmp_path / "failures.csv"
    failures.write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,/longpoll,LocustBadStatusCode(code=504),40,x,y\n"
        "GET,/longpoll,LocustBadStatusCode(code=502),2,x,y\n"
    )
    assert count_client_errors(failures) == 2


def test_users_answered_counts_each_user_whose_connection_worked_once(tmp_path):
    (tmp_path / "opens-1.csv").write_text(
        "started_at,user,open_ms,ok\n1.0,1-1,5.0,1\n2.0,1-1,4.0,1\n1.5,1-2,3000.0,0\n"
    )
    (tmp_path / "opens-2.csv").write_text("started_at,user,open_ms,ok\n1.0,2-1,5.0,1\n")
    assert users_answered(tmp_path) == 2
    assert users_answered(tmp_path / "nothing") == 0
