"""lab.sweep_plan: the cells a sweep runs, and refusals of settings it cannot run."""

from __future__ import annotations

import pytest

from lab.sweep_plan import BenchConfig


def test_the_default_plan():
    names = [cell.name for cell in BenchConfig().plan()]
    assert names == [
        "short_polling-u10-r1-i1",
        "short_polling-u100-r1-i1",
        "short_polling-u1000-r1-i1",
        "long_polling-u10-r1",
        "long_polling-u100-r1",
        "long_polling-u1000-r1",
        "sse-u10-r1",
        "sse-u100-r1",
        "sse-u1000-r1",
        "short_polling-u100-r1-i0.5",
        "short_polling-u100-r1-i2",
        "short_polling-u100-r1-i5",
    ]


def test_a_quick_plan():
    config = BenchConfig()
    config.make_quick()
    assert [c.users for c in config.plan()] == [5, 50] * 3
    assert config.duration_s == 5.0 and config.interval_sweep == ()


def test_cells_carry_only_their_transport_s_settings():
    config = BenchConfig(transports=("long_polling", "sse"), users=(7,), timeout_s=10)
    long_polling, sse = config.plan()
    assert (long_polling.timeout_s, long_polling.interval_s) == (10, None)
    assert (sse.timeout_s, sse.interval_s) == (None, None)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"rate": 0}, "--rate"),
        ({"users": (10, 0)}, "--users"),
        ({"duration_s": 0}, "--duration"),
        ({"interval_s": -1}, "--interval"),
        ({"timeout_s": 500}, "--timeout"),
        ({"interval_sweep": (0.0,)}, "--interval-sweep"),
    ],
)
def test_settings_that_cannot_run_are_named(values, words):
    assert any(words in problem for problem in BenchConfig(**values).problems())


def test_spawn_rate_and_processes():
    config = BenchConfig()
    assert config.spawn_rate_for(10) == 10.0 and config.spawn_rate_for(1000) == 200.0
    assert BenchConfig(processes="3").processes_for(config.plan()[0]) == 3
