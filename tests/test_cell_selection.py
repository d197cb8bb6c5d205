"""Tests for lab.cell_selection: which cells a chart or claim compares, and how repeats of
one setting become one point (median, lowest, highest)."""

from __future__ import annotations

import pytest
from rows import summary

from lab.cell_selection import (
    Point,
    main_users,
    median_repeat,
    points,
    series,
    spread_text,
    sweep_rows,
)


def _repeats(transport: str, rate: float, values: list[float], **extra) -> list:
    return [
        summary(transport, 100, rate=rate, repeat=n, latency_p50_ms=v, **extra)
        for n, v in enumerate(values, start=1)
    ]


@pytest.mark.parametrize(
    ("values", "median", "low", "high"),
    [
        pytest.param([3.0], 3.0, 3.0, 3.0, id="one-repeat"),
        pytest.param([5.0, 1.0, 3.0], 3.0, 1.0, 5.0, id="three-repeats-unsorted"),
        pytest.param([4.0, 2.0], 2.0, 2.0, 4.0, id="two-repeats-lower-middle"),
        pytest.param([7.0, 7.0, 9.0, 1.0], 7.0, 1.0, 9.0, id="four-repeats-with-a-tie"),
    ],
)
def test_repeats_become_one_point_with_their_median_and_range(values, median, low, high):
    [point] = points(_repeats("sse", 1.0, values), lambda r: r.rate, "latency_p50_ms")
    assert (point.x, point.y, point.low, point.high, point.repeats) == (
        1.0,
        median,
        low,
        high,
        len(values),
    )
    assert point.spread == (high > low)


def test_points_keep_settings_apart_and_sort_by_x():
    rows = [*_repeats("sse", 5.0, [2.0, 4.0]), *_repeats("sse", 0.2, [1.0])]
    found = points(rows, lambda r: r.rate, "latency_p50_ms")
    assert [(p.x, p.repeats) for p in found] == [(0.2, 1), (5.0, 2)]


def test_points_leave_out_rows_without_the_column():
    rows = [summary("sse", 100, latency_p50_ms=None), *_repeats("sse", 1.0, [2.0])]
    assert [p.y for p in points(rows, lambda r: r.rate, "latency_p50_ms")] == [2.0]


def test_a_point_shows_the_flags_of_a_flagged_repeat():
    rows = _repeats("sse", 1.0, [1.0, 2.0, 3.0])
    rows[2] = summary("sse", 100, repeat=3, latency_p50_ms=3.0, events_lost=4)
    [point] = points(rows, lambda r: r.rate, "latency_p50_ms")
    assert point.y == 2.0
    assert point.row.repeat == 3 and point.row.verdict.lossy


def test_median_repeat_is_a_measured_row():
    rows = _repeats("long_polling", 1.0, [9.0, 3.0, 6.0])
    assert median_repeat(rows, "latency_p50_ms").repeat == 3


@pytest.mark.parametrize(
    ("values", "text"),
    [
        pytest.param([412.0], "412", id="one"),
        pytest.param([430.0, 398.0, 412.0], "412 (398–430 over 3 repeats)", id="three"),
    ],
)
def test_spread_text(values, text):
    assert spread_text(values, lambda v: f"{v:g}") == text


def test_series_takes_the_median_repeat_at_each_user_count():
    rows = [*_repeats("sse", 1.0, [5.0, 1.0, 3.0]), summary("sse", 10, latency_p50_ms=0.5)]
    found = series(rows, "latency_p50_ms")
    assert [(r.users, r.latency_p50_ms) for r in found["sse"]] == [(10, 0.5), (100, 3.0)]


def test_a_sweep_frees_only_the_settings_it_names():
    rows = [
        *(summary("sse", 100, rate=r, latency_p50_ms=1.0) for r in (0.2, 1.0, 5.0)),
        summary("sse", 10, rate=1.0, latency_p50_ms=1.0),
        summary("sse", 1000, rate=1.0, latency_p50_ms=1.0),
        summary("sse", 100, rate=1.0, rtt_ms=200.0, latency_p50_ms=100.0),
    ]
    assert main_users(rows) == 100
    assert sorted(r.rate for r in sweep_rows(rows, "sse", "rate")) == [0.2, 1.0, 5.0]
    assert [r.rtt_ms for r in sweep_rows(rows, "sse", "rtt_ms")] == [0.0, 200.0]
    assert sorted(r.users for r in sweep_rows(rows, "sse", "users")) == [10, 100, 1000]


def test_a_point_without_repeats_has_no_spread():
    point = Point(x=1.0, y=2.0, low=2.0, high=2.0, row=summary("sse", 1), repeats=1)
    assert not point.spread
