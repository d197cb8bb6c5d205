"""The measurement definitions: percentiles, sequence checks, window deltas, summary rows."""

from __future__ import annotations

import math

import pytest

from lab.cell_summary import SUMMARY_COLUMNS
from lab.measurement import (
    Cell,
    LatencySummary,
    SequenceCheck,
    counter_delta,
    latency_ms,
    percentile,
    summarize_cell,
)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        (list(map(float, range(1, 101))), 99, 99.01),
        (list(map(float, range(1, 101))), 90, 90.1),
    ],
    ids=["single", "median_between", "min", "max", "p99_of_1_to_100", "p90_of_1_to_100"],
)
def test_percentile_interpolates_linearly(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused():
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_latency_summary():
    summary = LatencySummary.of([3.0, 1.0, 2.0])
    assert (summary.count, summary.p50, summary.max, summary.mean) == (3, 2.0, 3.0, 2.0)


@pytest.mark.parametrize(
    ("after", "ids", "lost", "repeated"),
    [
        (None, [7, 8, 9], 0, 0),
        (6, [7, 8, 9], 0, 0),
        (5, [7, 8], 1, 0),  # the first id after the cursor never came
        (None, [1, 2, 5, 6], 2, 0),
        (None, [1, 2, 2, 3], 0, 1),
        (None, [1, 3, 2, 4], 1, 1),  # out of order: a gap, then a late (repeated) id
        (0, [], 0, 0),
    ],
    ids=[
        "live_contiguous",
        "cursor_contiguous",
        "first_missed",
        "gap_of_two",
        "repeat",
        "reordered",
        "nothing",
    ],
)
def test_sequence_check_counts_gaps_and_repeats(after, ids, lost, repeated):
    check = SequenceCheck(after)
    for event_id in ids:
        check.see(event_id)
    assert (check.lost, check.repeated, check.received) == (lost, repeated, len(ids))


def test_sequence_check_reports_each_step():
    check = SequenceCheck(10)
    assert check.see(11) == (0, 0)
    assert check.see(14) == (2, 0)
    assert check.see(14) == (0, 1)


def test_latency_is_milliseconds_from_two_wall_clock_readings():
    assert latency_ms(100.0025, 100.0) == pytest.approx(2.5)


def snapshot(requests, bytes_in, bytes_out, events, empty, cpu, last_id, ok=0, errors=0):
    counters = {
        "requests": requests,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "events_sent": events,
        "empty_responses": empty,
        "responses": {"200": ok, "503": errors},
    }
    return {
        "transports": {"short_polling": counters},
        "process": {"cpu_s": cpu},
        "source": {"last_id": last_id},
    }


def test_counter_delta_is_after_minus_before():
    delta = counter_delta(
        snapshot(10, 1000, 2000, 5, 4, 1.5, 20, ok=10),
        snapshot(110, 11000, 32000, 105, 54, 2.0, 30, ok=108, errors=2),
        "short_polling",
    )
    assert delta == {
        "requests": 100,
        "bytes_in": 10000,
        "bytes_out": 30000,
        "events_sent": 100,
        "empty_responses": 50,
        "responses": {"200": 98, "503": 2},
        "cpu_s": 0.5,
        "published": 10,
    }


def test_summary_row_has_every_column_and_the_derived_figures():
    server = {
        "requests": 100,
        "bytes_in": 10_000,
        "bytes_out": 30_000,
        "events_sent": 100,
        "empty_responses": 50,
        "responses": {"200": 98, "503": 2},
        "cpu_s": 0.5,
        "published": 10,
    }
    cell = Cell("short_polling", users=10, rate=1.0, interval_s=1.0)
    row = summarize_cell(
        cell,
        10.0,
        [100.0] * 100,
        [95] * 100,
        lost=0,
        repeated=0,
        server=server,
        client_cpu_percent=95.0,
        client_errors=1,
    )
    assert SUMMARY_COLUMNS[:3] == ("cell", "transport", "users")
    assert row.cell == "short_polling-u10-r1-i1"
    assert row.events_expected == 100 and row.events_received == 100
    assert row.requests_per_s == 10.0 and row.requests_per_event == 1.0
    assert row.empty_share == 0.5
    assert row.bytes_per_event == 400.0 and row.overhead_bytes_per_event == 305.0
    assert row.server_cpu_us_per_event == pytest.approx(5000.0)
    assert row.errors == 3 and row.client_bound is True
    found = row.verdict.problems()
    assert any("3 errors" in p for p in found) and any("95% of a core" in p for p in found)


def test_sse_rows_have_no_empty_share():
    server = {
        "requests": 0,
        "bytes_in": 0,
        "bytes_out": 1300,
        "events_sent": 10,
        "empty_responses": 0,
        "responses": {},
        "cpu_s": 0.01,
        "published": 1,
    }
    row = summarize_cell(Cell("sse", 10, 1.0), 1.0, [1.0] * 10, [95] * 10, 0, 0, server, 10.0, 0)
    assert row.empty_share is None and row.empty_responses is None
    assert row.overhead_bytes_per_event == 35.0
    assert row.verdict.problems() == [] and row.verdict.ok


def test_latency_summary_of_one_to_a_hundred():
    summary = LatencySummary.of(float(v) for v in range(100, 0, -1))
    assert (summary.count, summary.p50, summary.p90, summary.p99, summary.max) == (
        100,
        50.5,
        90.1,
        99.01,
        100.0,
    )
    assert summary.mean == 50.5


def test_latency_summary_of_nothing_has_no_values():
    assert LatencySummary.of([]) == LatencySummary(0, None, None, None, None, None)


def test_the_first_id_a_live_client_sees_is_neither_lost_nor_repeated():
    check = SequenceCheck()
    assert check.see(500) == (0, 0)
    assert check.see(501) == (0, 0) and check.received == 2


def test_counter_delta_takes_a_missing_status_or_counter_as_zero():
    before = {
        "transports": {
            "sse": {
                "requests": 1,
                "bytes_in": 10,
                "bytes_out": 20,
                "events_sent": 0,
                "responses": {"200": 1},
            }
        },
        "process": {"cpu_s": 1.0},
        "source": {"last_id": 3},
    }
    after = {
        "transports": {
            "sse": {
                "requests": 3,
                "bytes_in": 30,
                "bytes_out": 50,
                "events_sent": 4,
                "responses": {"503": 2},
            }
        },
        "process": {"cpu_s": 1.5},
        "source": {"last_id": 5},
    }
    delta = counter_delta(before, after, "sse")
    assert delta["responses"] == {"200": -1, "503": 2} and delta["empty_responses"] == 0


@pytest.mark.parametrize(
    ("responses", "errors"),
    [
        ({"200": 5}, 0),
        ({"399": 1}, 0),
        ({"400": 2}, 2),
        ({"404": 1, "503": 3}, 4),
        ({"0": 2, "200": 1}, 2),
    ],
)
def test_errors_are_4xx_5xx_and_cut_answers(responses, errors):
    from lab.measurement import error_responses

    assert error_responses(responses) == errors


def test_cells_and_summaries_are_values_that_cannot_change():
    import dataclasses

    cell = Cell("sse", users=10, rate=1.0)
    assert cell.payload_pad_bytes == 16 and cell.arrivals == "fixed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.users = 11  # type: ignore[misc]
    summary = LatencySummary.of([1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.count = 2  # type: ignore[misc]


def test_a_window_without_deliveries_has_no_per_event_figures():
    server = {
        "requests": 0,
        "bytes_in": 0,
        "bytes_out": 500,
        "events_sent": 4,
        "empty_responses": 0,
        "responses": {},
        "cpu_s": 0.01,
        "published": 2,
    }
    row = summarize_cell(Cell("sse", 2, 1.0), 10.123456, [], [], 0, 0, server, 90.0, 0)
    assert row.payload_bytes_per_event is None and row.overhead_bytes_per_event is None
    assert row.bytes_per_event == 125.0 and row.duration_s == 10.123
    assert row.client_bound is True, "90% of a core is client-bound"
    assert row.verdict.problems()[-1] == "no event was delivered in the measured window"
