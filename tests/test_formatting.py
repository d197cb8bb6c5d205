"""lab.formatting: one way of writing numbers, three significant digits."""

from __future__ import annotations

import pytest

from lab.formatting import fmt_count, fmt_ms, fmt_number, fmt_seconds, fmt_share, join, plural


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1,234"),
        (123.4, "123"),
        (12.34, "12.3"),
        (1.234, "1.23"),
        (0.1234, "0.123"),
        (0.01234, "0.0123"),
        (0, "0"),
        (0.0, "0"),
        (1000, "1,000"),
        (7, "7"),
        (-12.34, "-12.3"),
        (99.95, "100"),
        (9.996, "10.0"),
    ],
)
def test_numbers(value, text):
    assert fmt_number(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0.432, "0.432 ms"),
        (1.5, "1.50 ms"),
        (12.3, "12.3 ms"),
        (123.4, "123 ms"),
        (1234.0, "1.23 s"),
        (61_000.0, "61.0 s"),
    ],
)
def test_durations(ms, text):
    assert fmt_ms(ms) == text


@pytest.mark.parametrize(
    ("share", "text"), [(0.612, "61.2%"), (0.045, "4.50%"), (0.0, "0%"), (1.0, "100%")]
)
def test_shares(share, text):
    assert fmt_share(share) == text


def test_words():
    assert fmt_seconds(0.5) == "0.5 s" and fmt_count(12345) == "12,345"
    assert plural(1, "user") == "1 user" and plural(1000, "user") == "1,000 users"
    assert plural(0.5, "event") == "0.5 events"
    assert join([]) == "" and join(["a"]) == "a" and join(["a", "b", "c"]) == "a, b and c"
