"""The chat claims (lab.claims.chat), table-driven: chat rows built by hand, verdicts by hand."""

from __future__ import annotations

import pytest
from rows import chat_summary, with_values

from lab.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, depends_on
from lab.claims.chat import (
    check_chat_claims,
    check_first_token,
    check_requests_per_answer,
    check_token_delay,
)

DEPENDS = depends_on("load")


def clean(*users: int, transports=("short_polling", "long_polling", "sse")):
    return [chat_summary(t, u) for t in transports for u in users]


def changed(rows, transport: str, users: int, **values):
    return [
        with_values(r, **values) if (r.transport, r.users) == (transport, users) else r
        for r in rows
    ]


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        (clean(1, 10, 100), HOLDS),
        # 20 ms over a 400 ms model is the most it may add (5% is 20 ms too).
        (changed(clean(1, 100), "sse", 100, ttft_p50_ms=420.0), HOLDS),
        (changed(clean(1, 100), "sse", 100, ttft_p50_ms=421.0), DEPENDS),
        (
            changed(
                changed(clean(1, 100), "sse", 1, ttft_p50_ms=600.0), "sse", 100, ttft_p50_ms=500.0
            ),
            DOES_NOT_HOLD,
        ),
        # A slow model allows 5% of its delay: 100 ms of 2 s.
        (changed(clean(10), "sse", 10, model_first_token_ms=2000.0, ttft_p50_ms=2090.0), HOLDS),
        (clean(10, transports=("short_polling",)), NOT_MEASURED),
    ],
)
def test_first_token(rows, verdict):
    assert check_first_token(rows).verdict == verdict


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        (clean(1, 10, 100), HOLDS),
        # Up to one interval (plus 5%): 1,050 ms at most for a 1 s interval.
        (changed(clean(10), "short_polling", 10, latency_max_ms=1050.0), HOLDS),
        (changed(clean(10), "short_polling", 10, latency_max_ms=1060.0), DOES_NOT_HOLD),
        # It must add something: a median under a quarter of the interval does not.
        (changed(clean(10), "short_polling", 10, latency_p50_ms=200.0), DOES_NOT_HOLD),
        (changed(clean(1, 100), "short_polling", 100, latency_max_ms=3000.0), DEPENDS),
        (clean(10, transports=("sse", "long_polling")), NOT_MEASURED),
    ],
)
def test_token_delay(rows, verdict):
    assert check_token_delay(rows).verdict == verdict


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        (clean(1, 10, 100), HOLDS),
        (changed(clean(10), "long_polling", 10, requests_per_answer=34.0), HOLDS),
        (changed(clean(10), "long_polling", 10, requests_per_answer=35.0), DOES_NOT_HOLD),
        # A stream reopened within an answer is two requests for it.
        (changed(clean(1, 100), "sse", 100, requests_per_answer=2.0), DEPENDS),
        (clean(10, transports=("sse",)), NOT_MEASURED),
        (clean(10, transports=("short_polling", "long_polling")), NOT_MEASURED),
    ],
)
def test_requests_per_answer(rows, verdict):
    assert check_requests_per_answer(rows).verdict == verdict


def test_the_explanations_carry_the_numbers_and_the_cells():
    verdicts = check_chat_claims(clean(1, 100))
    assert [v.number for v in verdicts] == [1, 2, 3]
    first, delay, requests = verdicts
    assert "402 ms" in first.explanation and "400 ms" in first.explanation
    assert "1.01 s" in first.explanation  # short polling's, for contrast
    assert "theory 442 ms" in delay.explanation and "1 s interval" in delay.explanation
    assert "long polling 31.0 at 1 user" in requests.explanation
    assert first.cells == ("chat-sse-u1", "chat-sse-u100")


def test_a_repeated_cell_is_read_at_its_median_repeat():
    rows = clean(10, transports=("sse",))
    rows += [with_values(rows[0], repeat=r, ttft_p50_ms=v) for r, v in ((2, 900.0), (3, 401.0))]
    assert check_first_token(rows).verdict == HOLDS


def test_no_chat_rows_no_chat_claims():
    assert check_chat_claims([]) == []
