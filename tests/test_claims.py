"""The six claim checks (lab.claims), table-driven: rows built by hand, verdicts by hand."""

from __future__ import annotations

import pytest
from rows import summary, with_values

from lab.claims import (
    DOES_NOT_HOLD,
    HOLDS,
    NOT_MEASURED,
    Verdict,
    check_claims,
    check_delivery_latency,
    check_interval_tradeoff,
    check_overhead_bytes,
    check_polling_delay,
    check_polling_requests,
    check_server_load,
    depends_on,
)

DEPENDS = depends_on("load")


def row(transport: str, users: int, **values):
    return summary(transport, users, **values)


def poll(users, interval, **values):
    return row("short_polling", users, interval_s=interval, **values)


def longpoll(users, **values):
    return row("long_polling", users, **values)


def sse(users, **values):
    return row("sse", users, **values)


# --- the claims, table-driven ---------------------------------------------------------------


def delay(users, max_ms, interval=5.0):
    return poll(
        users,
        interval,
        latency_max_ms=max_ms,
        latency_mean_ms=interval * 500,
        latency_p99_ms=max_ms * 0.99,
    )


def requests(users, per_s, interval=1.0, empty=0.0):
    return poll(users, interval, requests_per_s=per_s, empty_share=empty, theory_empty_share=0.0)


def overhead(transport, users, nbytes):
    return row(
        transport,
        users,
        overhead_bytes_per_event=nbytes,
        payload_bytes_per_event=95.0,
        bytes_per_event=95.0 + nbytes,
        requests_per_event=1.0,
    )


def latency(users, lp_ms, sse_ms):
    return [longpoll(users, latency_p50_ms=lp_ms), sse(users, latency_p50_ms=sse_ms)]


def load(users, lp_cpu, sse_cpu, lp_requests=1.0, sse_requests=0.0):
    return [
        longpoll(users, server_cpu_us_per_event=lp_cpu, requests_per_event=lp_requests),
        sse(users, server_cpu_us_per_event=sse_cpu, requests_per_event=sse_requests),
    ]


def sweep(users, points):
    return [
        poll(users, interval, latency_mean_ms=mean, requests_per_s=per_s)
        for interval, mean, per_s in points
    ]


CASES = [
    # (check, rows, expected verdict)
    pytest.param(check_polling_delay, [delay(100, 4950)], HOLDS, id="1-holds"),
    pytest.param(check_polling_delay, [delay(100, 7000)], DOES_NOT_HOLD, id="1-too-long"),
    pytest.param(check_polling_delay, [delay(100, 2000)], DOES_NOT_HOLD, id="1-never-close"),
    pytest.param(
        check_polling_delay, [delay(10, 4990), delay(1000, 6200)], DEPENDS, id="1-depends"
    ),
    pytest.param(
        check_polling_delay, [delay(100, 990, interval=1.0)], NOT_MEASURED, id="1-not-measured"
    ),
    pytest.param(
        check_polling_requests, [requests(10, 10.0), requests(1000, 985.0)], HOLDS, id="2-holds"
    ),
    pytest.param(
        check_polling_requests, [requests(1000, 700.0)], DOES_NOT_HOLD, id="2-does-not-hold"
    ),
    pytest.param(
        check_polling_requests, [requests(10, 10.0), requests(1000, 700.0)], DEPENDS, id="2-depends"
    ),
    pytest.param(
        check_polling_requests,
        [requests(100, 50.0, interval=2.0)],
        NOT_MEASURED,
        id="2-not-measured",
    ),
    pytest.param(
        check_overhead_bytes,
        [overhead("sse", 10, 6), overhead("long_polling", 10, 280)],
        HOLDS,
        id="3-holds",
    ),
    pytest.param(
        check_overhead_bytes,
        [overhead("sse", 10, 33), overhead("long_polling", 10, 280)],
        DOES_NOT_HOLD,
        id="3-sse-part-fails",
    ),
    pytest.param(
        check_overhead_bytes,
        [overhead("sse", 10, 6), overhead("long_polling", 10, 40)],
        DOES_NOT_HOLD,
        id="3-long-polling-part-fails",
    ),
    pytest.param(
        check_overhead_bytes,
        [overhead("sse", 10, 6), overhead("sse", 100, 33), overhead("long_polling", 10, 280)],
        DEPENDS,
        id="3-depends",
    ),
    pytest.param(
        check_overhead_bytes, [overhead("long_polling", 10, 280)], NOT_MEASURED, id="3-not-measured"
    ),
    pytest.param(
        check_delivery_latency, latency(10, 150, 0.5) + latency(100, 180, 0.6), HOLDS, id="4-holds"
    ),
    pytest.param(
        check_delivery_latency,
        latency(10, 2.4, 1.5) + latency(100, 20, 4.2),
        DOES_NOT_HOLD,
        id="4-does-not-hold",
    ),
    pytest.param(
        check_delivery_latency,
        latency(10, 2.4, 0.5) + latency(1000, 150, 0.8),
        DEPENDS,
        id="4-depends",
    ),
    pytest.param(
        check_delivery_latency,
        [longpoll(10, latency_p50_ms=150)],
        NOT_MEASURED,
        id="4-not-measured",
    ),
    pytest.param(check_server_load, load(10, 180, 18) + load(100, 176, 15), HOLDS, id="5-holds"),
    pytest.param(check_server_load, load(10, 10, 18), DOES_NOT_HOLD, id="5-does-not-hold"),
    pytest.param(check_server_load, load(10, 180, 18) + load(100, 12, 15), DEPENDS, id="5-depends"),
    pytest.param(
        check_server_load,
        [sse(10, server_cpu_us_per_event=15, requests_per_event=0)],
        NOT_MEASURED,
        id="5-not-measured",
    ),
    pytest.param(
        check_interval_tradeoff,
        sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]),
        HOLDS,
        id="6-holds",
    ),
    pytest.param(
        check_interval_tradeoff,
        sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 400, 50)]),
        DOES_NOT_HOLD,
        id="6-does-not-hold",
    ),
    pytest.param(
        check_interval_tradeoff,
        sweep(10, [(1, 500, 10), (2, 1000, 5)]) + sweep(100, [(1, 500, 100), (2, 1000, 120)]),
        DEPENDS,
        id="6-depends",
    ),
    pytest.param(
        check_interval_tradeoff, sweep(100, [(1, 500, 100)]), NOT_MEASURED, id="6-not-measured"
    ),
]


@pytest.mark.parametrize(("check", "rows", "expected"), CASES)
def test_each_claim_gets_the_verdict_its_numbers_give(check, rows, expected):
    verdict = check(rows)
    assert isinstance(verdict, Verdict)
    assert verdict.verdict == expected, verdict.explanation
    assert verdict.claim and verdict.explanation
    if expected != NOT_MEASURED:
        assert verdict.cells, "a measured verdict names the cells it used"
        assert set(verdict.cells) <= {r.cell for r in rows}


FLIPS = [
    # (check, rows, (row index, column, new value), verdict before, verdict after)
    pytest.param(
        check_polling_delay,
        [delay(100, 4950)],
        (0, "latency_max_ms", 6000),
        HOLDS,
        DOES_NOT_HOLD,
        id="1",
    ),
    pytest.param(
        check_polling_requests,
        [requests(1000, 1000.0)],
        (0, "requests_per_s", 880.0),
        HOLDS,
        DOES_NOT_HOLD,
        id="2",
    ),
    pytest.param(
        check_overhead_bytes,
        [overhead("sse", 10, 33), overhead("long_polling", 10, 280)],
        (0, "overhead_bytes_per_event", 5.0),
        DOES_NOT_HOLD,
        HOLDS,
        id="3",
    ),
    pytest.param(
        check_delivery_latency,
        latency(10, 150, 0.5) + latency(100, 180, 0.6),
        (2, "latency_p50_ms", 20.0),
        HOLDS,
        DEPENDS,
        id="4",
    ),
    pytest.param(
        check_server_load,
        load(10, 180, 18),
        (1, "server_cpu_us_per_event", 200.0),
        HOLDS,
        DOES_NOT_HOLD,
        id="5",
    ),
    pytest.param(
        check_interval_tradeoff,
        sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]),
        (2, "requests_per_s", 150.0),
        HOLDS,
        DOES_NOT_HOLD,
        id="6",
    ),
]


@pytest.mark.parametrize(("check", "rows", "change", "before", "after"), FLIPS)
def test_changing_one_number_flips_the_verdict(check, rows, change, before, after):
    assert check(rows).verdict == before
    index, column, value = change
    changed = list(rows)
    changed[index] = with_values(changed[index], **{column: value})
    assert check(changed).verdict == after
    assert check(rows).verdict == before, "the check must not change its input"


def test_verdict_explanations_carry_the_measured_numbers():
    verdict = check_polling_delay([delay(100, 4950)])
    assert "4.95 s" in verdict.explanation and "2.50 s" in verdict.explanation

    verdict = check_polling_requests([requests(10, 10.0), requests(50, 50.1)])
    assert "largest user count is 50, not 1,000" in verdict.explanation

    verdict = check_overhead_bytes([overhead("sse", 10, 33), overhead("long_polling", 10, 280)])
    assert "SSE part does not hold: 33 bytes" in verdict.explanation
    assert "long-polling part holds: 280 bytes" in verdict.explanation

    verdict = check_delivery_latency(latency(10, 2.4, 0.5) + latency(1000, 150, 0.8))
    assert "holds at 1,000 users, not at 10" in verdict.explanation

    verdict = check_interval_tradeoff(sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]))
    assert "4.0×" in verdict.explanation


def test_cells_that_cannot_be_taken_at_face_value_are_named_when_used():
    rows = sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)])
    rows[0] = with_values(rows[0], client_bound=True, client_cpu_percent=95.0)
    verdict = check_interval_tradeoff(rows)
    assert verdict.verdict == HOLDS
    assert "Caution" in verdict.explanation and rows[0].cell in verdict.explanation
    assert "95% of a core" in verdict.explanation

    clean = check_interval_tradeoff(sweep(100, [(1, 500, 100), (2, 1000, 50)]))
    assert "Caution" not in clean.explanation


def test_check_claims_checks_all_six_in_order_and_rows_without_figures_work():
    verdicts = check_claims([summary("sse", 10)])
    assert [v.number for v in verdicts] == [1, 2, 3, 4, 5, 6]
    assert all(v.verdict == NOT_MEASURED for v in verdicts)


def at_rtt(rtt_ms: float, long_polling_ms: float, sse_ms: float) -> list:
    return [
        longpoll(100, rtt_ms=rtt_ms, latency_p50_ms=long_polling_ms, cell=f"lp-rtt{rtt_ms:g}"),
        sse(100, rtt_ms=rtt_ms, latency_p50_ms=sse_ms, cell=f"sse-rtt{rtt_ms:g}"),
    ]


@pytest.mark.parametrize(
    ("rows", "expected", "texts"),
    [
        pytest.param(
            at_rtt(0, 1.2, 0.6) + at_rtt(50, 26, 25.5) + at_rtt(200, 104, 101),
            DOES_NOT_HOLD,
            [
                "at 0 ms: does not hold (long polling 1.20 ms, SSE 0.6 ms; long polling "
                "faster than claimed)",
                "at 50 ms: does not hold (long polling 26 ms, SSE 25.5 ms; long polling "
                "faster than claimed and SSE slower than claimed)",
                "at 200 ms: does not hold (long polling 104 ms, SSE 101 ms; SSE slower",
                "the long-polling half fits at 200 ms and the SSE half fits at 0 ms",
            ],
            id="never-both-together",
        ),
        pytest.param(
            at_rtt(0, 120, 0.5) + at_rtt(200, 104, 101),
            depends_on("the network's round trip"),
            ["at 0 ms: holds (long polling 120 ms, SSE 0.5 ms)"],
            id="holds-at-one-round-trip",
        ),
    ],
)
def test_claim_4_gets_a_verdict_at_each_round_trip(rows, expected, texts):
    verdict = check_delivery_latency(rows)
    assert verdict.verdict == expected
    for text in texts:
        assert text in verdict.explanation
    assert sorted(verdict.cells) == sorted(r.cell for r in rows)


def test_claim_4_without_a_round_trip_sweep_says_how_to_add_one():
    verdict = check_delivery_latency(latency(10, 2.4, 0.5))
    assert "run with --rtt" in verdict.explanation
