"""lab.ticker: its settings, fixed and Poisson gaps, the rate it keeps, catching up, stopping.

Timing here is checked only where it cannot flake: a ticker may be late on a busy machine,
but it must never publish faster than its rate.
"""

from __future__ import annotations

import random
import time

import gevent
import pytest

from lab.event_source import EventSource
from lab.ticker import Ticker, TickerSettingsError


def ticker(**settings) -> Ticker:
    return Ticker(EventSource(), **settings)


def wait_for_events(source: EventSource, count: int, timeout: float = 10.0) -> float:
    """Let the hub run until `count` events exist; return the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while source.last_id < count:
        assert time.monotonic() < deadline, f"only {source.last_id} of {count} events came"
        gevent.sleep(0.01)
    return time.monotonic() - started


def test_settings_are_reported_and_changed_together():
    t = ticker(rate=2, arrivals="poisson", payload_bytes=4, paused=True)
    assert t.settings() == {"rate": 2.0, "arrivals": "poisson", "payload_bytes": 4, "paused": True}
    assert t.update(rate=5, paused=False)["rate"] == 5.0
    assert t.running


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rate": -1}, "rate must be a number"),
        ({"rate": 20_000}, "rate must be a number"),
        ({"rate": True}, "rate must be a number"),
        ({"rate": float("nan")}, "rate must be a number"),
        ({"arrivals": "burst"}, "arrivals must be one of fixed, poisson"),
        ({"payload_bytes": 1.5}, "payload_bytes must be a whole number"),
        ({"payload_bytes": -1}, "payload_bytes must be a whole number"),
        ({"paused": "no"}, "paused must be true or false"),
        ({"speed": 1}, "unknown setting 'speed'"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(change, words):
    t = ticker(rate=1)
    before = t.settings()
    with pytest.raises(TickerSettingsError, match=words):
        t.update(**change)
    assert t.settings() == before


def test_the_publishing_bandwidth_is_bounded():
    t = Ticker(EventSource(), rate=1, max_bytes_per_s=1000)
    with pytest.raises(TickerSettingsError, match="more than this server publishes"):
        t.update(rate=20, payload_bytes=100)
    assert t.update(rate=10, payload_bytes=100)["rate"] == 10.0


def test_a_tick_carries_its_count_and_padding():
    source = EventSource()
    t = Ticker(source, payload_bytes=5, paused=True)
    t.tick()
    t.tick()
    (first, second), _ = source.events_after(0, 10)
    assert (first.type, first.data, second.data) == (
        "tick",
        {"n": 1, "pad": "xxxxx"},
        {"n": 2, "pad": "xxxxx"},
    )


def test_fixed_gaps_are_one_over_the_rate():
    assert ticker(rate=4)._gap() == 0.25


def test_poisson_gaps_are_exponential_draws_from_the_seeded_generator():
    t = Ticker(EventSource(), rate=4, arrivals="poisson", rng=random.Random(7))
    expected = random.Random(7)
    draws = [t._gap() for _ in range(2000)]
    assert draws[:5] == [expected.expovariate(4) for _ in range(5)]
    mean = sum(draws) / len(draws)
    assert 0.23 < mean < 0.27  # 1/4 s; 2,000 draws put the mean within 3% of it


@pytest.mark.parametrize("arrivals", ["fixed", "poisson"])
def test_it_never_publishes_faster_than_its_rate(arrivals):
    source = EventSource()
    t = Ticker(source, rate=50, arrivals=arrivals, rng=random.Random(1))
    t.start()
    try:
        took = wait_for_events(source, 25)
    finally:
        t.stop()
    # 25 fixed ticks at 50/s take at least 0.48 s (the first comes after one gap); Poisson
    # gaps average 20 ms but vary, so only a loose floor holds for them.
    assert took >= (0.48 if arrivals == "fixed" else 0.15), took


def test_after_a_short_starvation_it_catches_up_the_missed_ticks():
    source = EventSource()
    t = Ticker(source, rate=20)
    t.start()
    try:
        wait_for_events(source, 1)
        time.sleep(0.5)  # the hub is blocked: ten ticks are due meanwhile
        before = source.last_id
        gevent.sleep(0.05)
        caught_up = source.last_id - before
    finally:
        t.stop()
    assert caught_up >= 8, caught_up


def test_after_a_long_starvation_it_skips_ahead_instead_of_bursting():
    source = EventSource()
    t = Ticker(source, rate=20)
    t.start()
    try:
        wait_for_events(source, 1)
        time.sleep(2.5)  # fifty ticks are due; a burst of them would flood every client
        before = source.last_id
        gevent.sleep(0.05)
        burst = source.last_id - before
    finally:
        t.stop()
    assert burst <= 25, burst


def test_pausing_and_stopping_stop_the_ticks():
    source = EventSource()
    t = Ticker(source, rate=100)
    t.start()
    wait_for_events(source, 3)
    t.update(paused=True)
    gevent.sleep(0.05)
    paused_at = source.last_id
    gevent.sleep(0.1)
    assert source.last_id == paused_at
    t.update(paused=False)
    wait_for_events(source, paused_at + 3)
    t.stop()
    stopped_at = source.last_id
    gevent.sleep(0.1)
    assert source.last_id == stopped_at
