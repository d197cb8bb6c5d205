"""lab.cursors: a client's cursor and numbers, read strictly, as a table of inputs."""

from __future__ import annotations

import pytest

from lab.cursors import Resume, parse_positive_int, parse_positive_number, parse_resume
from lab.errors import ApiError
from lab.event_source import EventSource


@pytest.fixture(scope="module")
def source() -> EventSource:
    s = EventSource(epoch="ab12")
    for i in range(30):
        s.publish("m", i)
    return s


@pytest.mark.parametrize(
    ("raw", "epoch", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ("  ", None, None),
        ("0", None, Resume(0)),
        ("20", None, Resume(20)),
        (" 20 ", None, Resume(20)),
        ("30", None, Resume(30)),
        ("20@ab12", None, Resume(20)),
        ("20", "ab12", Resume(20)),
        ("20@zz99", None, Resume(0, restarted=True)),
        ("20", "zz99", Resume(0, restarted=True)),
        ("99@zz99", None, Resume(0, restarted=True)),  # another run: ahead is no error
        ("20@", None, Resume(0, restarted=True)),
        ("007", None, Resume(7)),
    ],
)
def test_cursors_that_are_read(source, raw, epoch, expected):
    assert parse_resume(raw, source, "since", epoch) == expected


@pytest.mark.parametrize(
    ("raw", "epoch", "words"),
    [
        ("31", None, "ahead of the newest event (30)"),
        ("31@ab12", None, "ahead of the newest event (30)"),
        ("-1", None, "must be 0 or more"),
        ("1.5", None, "ASCII digits"),
        ("abc", None, "ASCII digits"),
        ("１２", None, "ASCII digits"),
        ("1_0", None, "ASCII digits"),
        ("1e3", None, "ASCII digits"),
        ("9" * 16, None, "more than 15 digits"),
        ("1" * 5000, None, "more than 15 digits"),
        ("x@zz99", None, "ASCII digits"),
        ("1", "e" * 33, "too long"),
    ],
)
def test_cursors_that_are_refused_with_a_sentence(source, raw, epoch, words):
    with pytest.raises(ApiError) as refused:
        parse_resume(raw, source, "since", epoch)
    assert refused.value.status == 400 and words in refused.value.message
    assert len(refused.value.message) < 300


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", 1.0), ("2.5", 2.5), (" 120 ", 120.0), ("0.01", 0.01)]
)
def test_positive_numbers(raw, expected):
    assert parse_positive_number(raw, "timeout", 120, "seconds") == expected


@pytest.mark.parametrize(
    "raw", ["0", "121", "-1", "1_0", "１０", "inf", "nan", "1e1", ".5", "5.", "", "1.2.3"]
)
def test_positive_numbers_refused(raw):
    with pytest.raises(ApiError) as refused:
        parse_positive_number(raw, "timeout", 120, "seconds")
    assert refused.value.status == 400 and "timeout" in refused.value.message


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("1", True), ("50", True), ("0", False), ("-3", False), ("2.0", False), ("x", False)],
)
def test_positive_ints(raw, ok):
    if ok:
        assert parse_positive_int(raw, "limit") == int(raw)
    else:
        with pytest.raises(ApiError):
            parse_positive_int(raw, "limit")
